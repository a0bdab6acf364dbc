/**
 * A FIFO with O(1) amortized push/shift, O(log n) delete from anywhere and O(log n) rank queries.
 * @module
 */

/** What an {@link IndexedFifo} item carries. */
export interface FifoItem {
  /** Logical position in the queue that holds the item; -1 when it is in none. Owned by the queue. */
  fifoOrdinal: number
  /** Arrival order; non-decreasing along the queue. */
  readonly seq: number
  /** Arrival time; non-decreasing along the queue. */
  readonly enqueuedAt: number
}

const MIN_CAPACITY = 16

/**
 * A first-in first-out queue of items ordered by a non-decreasing `seq` (and `enqueuedAt`), backed by a ring
 * buffer and a Fenwick tree over the ring's cells.
 *
 * - `push` and `shift` are O(1) amortized (plus one O(log n) tree update).
 * - `delete` is O(log n): the cell is emptied and counted out of the tree (lazy deletion); the head skips
 *   empty cells, and when the ring is full of holes it is compacted in place (amortized O(1)), so memory stays
 *   within a small factor of the live items.
 * - `countBefore`, `countBelow` are O(log n): how many live items are ahead of an item, or have a smaller
 *   `seq` and an `enqueuedAt` at most a bound (a binary search over copies of both kept in typed arrays, then a
 *   tree prefix sum).
 */
export class IndexedFifo<T extends FifoItem> {
  #capacity = MIN_CAPACITY
  #items: Array<T | undefined> = new Array<T | undefined>(MIN_CAPACITY)
  #seqs = new Float64Array(MIN_CAPACITY)
  #times = new Float64Array(MIN_CAPACITY)
  /** Fenwick tree (1-based) over ring cells: 1 for a live item, 0 for an empty cell. */
  #tree = new Int32Array(MIN_CAPACITY + 1)
  #head = 0
  #tail = 0
  #live = 0

  /** Number of live items. */
  get size(): number {
    return this.#live
  }

  /** Appends an item; its `seq` and `enqueuedAt` must not be smaller than those of the items already queued. */
  push(item: T): void {
    if (this.#tail - this.#head === this.#capacity) this.#rebuild(this.#live * 2 > this.#capacity ? this.#capacity * 2 : this.#capacity)
    const cell = this.#tail % this.#capacity
    this.#items[cell] = item
    this.#seqs[cell] = item.seq
    this.#times[cell] = item.enqueuedAt
    this.#add(cell, 1)
    item.fifoOrdinal = this.#tail
    this.#tail++
    this.#live++
  }

  /** The oldest live item, or undefined when empty. */
  peek(): T | undefined {
    return this.#live === 0 ? undefined : this.#items[this.#head % this.#capacity]
  }

  /** Removes and returns the oldest live item. */
  shift(): T | undefined {
    const item = this.peek()
    if (item !== undefined) this.delete(item)
    return item
  }

  /** Removes an item from anywhere in the queue; false when it is not in this queue. */
  delete(item: T): boolean {
    const ordinal = item.fifoOrdinal
    if (ordinal < this.#head || ordinal >= this.#tail) return false
    const cell = ordinal % this.#capacity
    if (this.#items[cell] !== item) return false
    this.#items[cell] = undefined
    this.#add(cell, -1)
    this.#live--
    item.fifoOrdinal = -1
    if (this.#live === 0) {
      this.#head = this.#tail
    } else if (ordinal === this.#head) {
      while (this.#items[this.#head % this.#capacity] === undefined) this.#head++
    }
    return true
  }

  /** How many live items are ahead of `item` (which must be in this queue). */
  countBefore(item: T): number {
    return this.#countRange(this.#head, item.fifoOrdinal)
  }

  /** How many live items have `seq` below `seq` and `enqueuedAt` at most `maxTime`. */
  countBelow(seq: number, maxTime = Number.POSITIVE_INFINITY): number {
    // seq and time are both non-decreasing along the queue, so the predicate holds on a prefix.
    let low = this.#head
    let high = this.#tail
    while (low < high) {
      const middle = Math.floor((low + high) / 2)
      const cell = middle % this.#capacity
      if ((this.#seqs[cell] as number) < seq && (this.#times[cell] as number) <= maxTime) low = middle + 1
      else high = middle
    }
    return this.#countRange(this.#head, low)
  }

  /** Live items, oldest first (O(n); for tests and diagnostics). */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let ordinal = this.#head; ordinal < this.#tail; ordinal++) {
      const item = this.#items[ordinal % this.#capacity]
      if (item !== undefined) yield item
    }
  }

  /** Live items in logical positions [from, to). */
  #countRange(from: number, to: number): number {
    if (to <= from) return 0
    const a = from % this.#capacity
    const b = to % this.#capacity
    return a < b ? this.#prefix(b) - this.#prefix(a) : this.#live - this.#prefix(a) + this.#prefix(b)
  }

  /** Sum over cells [0, cell). */
  #prefix(cell: number): number {
    let sum = 0
    for (let index = cell; index > 0; index -= index & -index) sum += this.#tree[index] as number
    return sum
  }

  #add(cell: number, delta: number): void {
    const tree = this.#tree
    for (let index = cell + 1; index <= this.#capacity; index += index & -index) tree[index] = (tree[index] as number) + delta
  }

  /** Copies the live items to the front of a ring of `capacity` cells and rebuilds the tree in O(capacity). */
  #rebuild(capacity: number): void {
    const items = new Array<T | undefined>(capacity)
    const seqs = new Float64Array(capacity)
    const times = new Float64Array(capacity)
    const tree = new Int32Array(capacity + 1)
    let count = 0
    for (let ordinal = this.#head; ordinal < this.#tail; ordinal++) {
      const cell = ordinal % this.#capacity
      const item = this.#items[cell]
      if (item === undefined) continue
      items[count] = item
      seqs[count] = this.#seqs[cell] as number
      times[count] = this.#times[cell] as number
      item.fifoOrdinal = count
      count++
    }
    for (let index = 1; index <= capacity; index++) {
      if (index <= count) tree[index] = (tree[index] as number) + 1
      const parent = index + (index & -index)
      if (parent <= capacity) tree[parent] = (tree[parent] as number) + (tree[index] as number)
    }
    this.#capacity = capacity
    this.#items = items
    this.#seqs = seqs
    this.#times = times
    this.#tree = tree
    this.#head = 0
    this.#tail = count
  }
}
