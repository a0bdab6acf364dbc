/**
 * The default, in-process {@link SchedulerState}.
 * @module
 */
import { PrefixIndex } from './prefix-index.js'
import type { LoadView, SchedulerState, SlotTable, StickyEntry, StickyStore } from './scheduler-state.js'

/** Options of {@link createInMemorySchedulerState}. */
export interface InMemorySchedulerStateOptions {
  /** How long a thread key remembers its upstream after its last use, in ms; 0 disables stickiness. @default 600_000 */
  stickyTtlMs?: number | undefined
  /** Most thread keys remembered; the least recently used is forgotten first. @default 100_000 */
  maxStickyKeys?: number | undefined
  /** Most prompt prefix hashes remembered for cache-aware routing (see {@link PrefixIndex}). @default 50_000 */
  maxPrefixes?: number | undefined
  /** Clock in ms. @default () => performance.now() */
  now?: (() => number) | undefined
}

interface StoredEntry extends StickyEntry {
  readonly expiresAt: number
}

/** At most this many expired entries are swept per `set`, so no call does unbounded work. */
const SWEEP_BATCH = 32

/**
 * A bounded LRU of thread keys with TTL. Map insertion order is last-use order, and since every `set` renews
 * the same TTL it is also expiry order: expired entries are swept from the front in amortized O(1).
 */
export class InMemoryStickyStore implements StickyStore {
  readonly #ttlMs: number
  readonly #maxKeys: number
  readonly #entries = new Map<string, StoredEntry>()
  readonly #now: () => number

  constructor({ stickyTtlMs = 600_000, maxStickyKeys = 100_000, now = () => performance.now() }: InMemorySchedulerStateOptions = {}) {
    if (!(stickyTtlMs >= 0)) throw new TypeError(`stickyTtlMs must be a number >= 0, got ${JSON.stringify(stickyTtlMs)}`)
    if (!Number.isInteger(maxStickyKeys) || maxStickyKeys < 0) throw new TypeError(`maxStickyKeys must be an integer >= 0, got ${JSON.stringify(maxStickyKeys)}`)
    this.#ttlMs = stickyTtlMs
    this.#maxKeys = maxStickyKeys
    this.#now = now
  }

  get size(): number {
    return this.#entries.size
  }

  get(key: string): StickyEntry | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry
  }

  set(key: string, entry: StickyEntry): void {
    this.#entries.delete(key)
    if (this.#ttlMs === 0 || this.#maxKeys === 0) return
    const now = this.#now()
    this.#entries.set(key, { upstream: entry.upstream, slot: entry.slot, expiresAt: now + this.#ttlMs })
    let swept = 0
    for (const [oldKey, old] of this.#entries) {
      if (this.#entries.size <= this.#maxKeys && (old.expiresAt > now || swept >= SWEEP_BATCH)) break
      this.#entries.delete(oldKey)
      swept++
    }
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }
}

interface SlotRow {
  readonly busy: Uint8Array
  readonly lastUsed: Float64Array
  /** The free slots as a binary min-heap on (lastUsed, index): the coldest free slot on top. */
  readonly heap: Int32Array
  /** Each slot's place in `heap`, -1 when busy. */
  readonly place: Int32Array
  free: number
  running: number
}

/**
 * Slot occupancy in arrays. The free slots sit in a heap ordered by when each was last used
 * (ties to the lower index), so `claim` and `coldestFree` cost O(log slots), not a scan: at 256
 * slots a scan per request was a tenth of the gateway's per-request work.
 */
export class InMemorySlotTable implements SlotTable {
  readonly #rows = new Map<string, SlotRow>()
  readonly #now: () => number

  constructor({ now = () => performance.now() }: { now?: (() => number) | undefined } = {}) {
    this.#now = now
  }

  define(upstream: string, slots: number): void {
    // -Infinity: a slot never used is colder than any used one. In index order the heap holds.
    const heap = new Int32Array(slots)
    const place = new Int32Array(slots)
    for (let slot = 0; slot < slots; slot++) {
      heap[slot] = slot
      place[slot] = slot
    }
    this.#rows.set(upstream, { busy: new Uint8Array(slots), lastUsed: new Float64Array(slots).fill(Number.NEGATIVE_INFINITY), heap, place, free: slots, running: 0 })
  }

  claim(upstream: string, preferred: number | undefined): number | undefined {
    const row = this.#row(upstream)
    if (row.free === 0) return undefined
    const slot = preferred !== undefined && preferred >= 0 && preferred < row.busy.length && row.busy[preferred] === 0 ? preferred : (row.heap[0] as number)
    removeFree(row, slot)
    row.busy[slot] = 1
    row.lastUsed[slot] = this.#now()
    row.running++
    return slot
  }

  free(upstream: string, slot: number): void {
    const row = this.#row(upstream)
    if (row.busy[slot] !== 1) return
    row.busy[slot] = 0
    row.lastUsed[slot] = this.#now()
    row.running--
    addFree(row, slot)
  }

  running(upstream: string): number {
    return this.#row(upstream).running
  }

  coldestFree(upstream: string): number | undefined {
    const row = this.#row(upstream)
    return row.free === 0 ? undefined : row.lastUsed[row.heap[0] as number]
  }

  #row(upstream: string): SlotRow {
    const row = this.#rows.get(upstream)
    if (row === undefined) throw new TypeError(`Unknown upstream ${JSON.stringify(upstream)}`)
    return row
  }
}

/** Slot `a` is colder than slot `b`: used longer ago, or as long ago with a lower index. */
function colder(row: SlotRow, a: number, b: number): boolean {
  const lastA = row.lastUsed[a] as number
  const lastB = row.lastUsed[b] as number
  return lastA < lastB || (lastA === lastB && a < b)
}

function addFree(row: SlotRow, slot: number): void {
  const at = row.free++
  row.heap[at] = slot
  row.place[slot] = at
  siftUp(row, at)
}

function removeFree(row: SlotRow, slot: number): void {
  const at = row.place[slot] as number
  const last = row.heap[--row.free] as number
  row.place[slot] = -1
  if (last === slot) return
  row.heap[at] = last
  row.place[last] = at
  siftUp(row, at)
  siftDown(row, row.place[last] as number)
}

function siftUp(row: SlotRow, at: number): void {
  const { heap, place } = row
  const slot = heap[at] as number
  while (at > 0) {
    const parentAt = (at - 1) >> 1
    const parent = heap[parentAt] as number
    if (!colder(row, slot, parent)) break
    heap[at] = parent
    place[parent] = at
    at = parentAt
  }
  heap[at] = slot
  place[slot] = at
}

function siftDown(row: SlotRow, at: number): void {
  const { heap, place } = row
  const slot = heap[at] as number
  for (;;) {
    const left = 2 * at + 1
    if (left >= row.free) break
    const right = left + 1
    const child = right < row.free && colder(row, heap[right] as number, heap[left] as number) ? right : left
    const childSlot = heap[child] as number
    if (!colder(row, childSlot, slot)) break
    heap[at] = childSlot
    place[childSlot] = at
    at = child
  }
  heap[at] = slot
  place[slot] = at
}

/** Waiting counts in a Map. */
export class InMemoryLoadView implements LoadView {
  readonly #waiting = new Map<string, number>()

  waiting(upstream: string): number {
    return this.#waiting.get(upstream) ?? 0
  }

  addWaiting(upstream: string, delta: number): void {
    this.#waiting.set(upstream, (this.#waiting.get(upstream) ?? 0) + delta)
  }
}

/** The default scheduler state: everything in this process. */
export function createInMemorySchedulerState(options: InMemorySchedulerStateOptions = {}): SchedulerState {
  return { sticky: new InMemoryStickyStore(options), slots: new InMemorySlotTable({ now: options.now }), load: new InMemoryLoadView(), prefixes: new PrefixIndex({ maxEntries: options.maxPrefixes }) }
}
