/**
 * The state a {@link QueueScheduler} would share with other gateway replicas: the sticky map, the slot
 * table and the load view. The in-memory implementation is the default; a shared one (Redis) is a new file
 * implementing these interfaces.
 *
 * The methods are synchronous on purpose: they sit on the dispatch path, which must stay O(log n) and never
 * wait on a network. A shared implementation keeps a local mirror (updated by pub/sub) for reads and writes
 * through in the background; a `claim` that loses a race simply returns `undefined` and the job keeps waiting.
 * Time (TTL expiry, slot last-use) is the state's own clock: the in-memory one takes the scheduler's `now`.
 * @module
 */

/** Where a thread key was served last. */
export interface StickyEntry {
  /** Upstream id. */
  readonly upstream: string
  /** Slot index on that upstream when it has slot affinity, else undefined. */
  readonly slot: number | undefined
}

/** Thread key → upstream (and slot) memory with a TTL renewed by `set`, bounded in size. */
export interface StickyStore {
  /** The live entry for `key`, or undefined when there is none or it expired. Does not renew the TTL. */
  get(key: string): StickyEntry | undefined
  /** Stores or replaces the entry and renews its TTL. */
  set(key: string, entry: StickyEntry): void
  /** Forgets a key. */
  delete(key: string): void
  /** Number of entries held (expired ones may still be counted until swept). */
  readonly size: number
}

/** Per-upstream slot occupancy: which slot indices are running a job, and when each was last used. */
export interface SlotTable {
  /** Declares an upstream with `slots` slots (called once per upstream at construction). */
  define(upstream: string, slots: number): void
  /**
   * Takes a free slot: `preferred` when given and free, else the free slot unused the longest (its prompt
   * cache is the coldest). Undefined when every slot is taken.
   */
  claim(upstream: string, preferred: number | undefined): number | undefined
  /** Gives a claimed slot back. */
  free(upstream: string, slot: number): void
  /** Number of slots taken. */
  running(upstream: string): number
  /** Last-use time of the upstream's coldest free slot; undefined when none is free. */
  coldestFree(upstream: string): number | undefined
}

/** Waiting-job counts per upstream, for the least-loaded choice. */
export interface LoadView {
  /** Jobs waiting for this upstream. */
  waiting(upstream: string): number
  /** Adds `delta` (±1) to the upstream's waiting count. */
  addWaiting(upstream: string, delta: number): void
}

/** Everything a scheduler shares: sticky map, slot table, load view. */
export interface SchedulerState {
  readonly sticky: StickyStore
  readonly slots: SlotTable
  readonly load: LoadView
}
