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

/** Where a prompt prefix is cached: an upstream, and its slot when known. */
export interface PrefixPlace {
  readonly upstream: string
  /** Slot index, or -1 when the upstream picks its slot itself. */
  readonly slot: number
}

/**
 * Prompt prefix hashes (cumulative, block by block: see prefix-hashes.ts) → the upstream slots that last computed
 * them, for cache-aware routing. A slot holds one prompt at a time: `record` replaces what the slot held, keeping
 * only the prefixes the new prompt shares. Bounded (least recently recorded forgotten first).
 */
export interface PrefixStore {
  /** Notes that `upstream` (slot `slot`, -1 when unknown) now holds the prompt of these prefix hashes. */
  record(hashes: readonly string[], upstream: string, slot: number): void
  /** For each place holding a prefix of `hashes`, keyed by `upstream + '\u0000' + slot`: the number of leading blocks it holds. */
  matches(hashes: readonly string[]): Map<string, { place: PrefixPlace; blocks: number }>
  /** Forgets what an upstream's slots hold (it restarted, was removed, or its slots were read and differ). */
  forgetUpstream(upstream: string): void
  /** Forgets what one slot holds (the server reused or cleared it behind the gateway's back: llama-slots.ts). */
  forgetSlot(upstream: string, slot: number): void
  /** Prefix hashes remembered. */
  readonly size: number
}

/** Everything a scheduler shares: sticky map, slot table, load view, and the prefix index of cache-aware routing. */
export interface SchedulerState {
  readonly sticky: StickyStore
  readonly slots: SlotTable
  readonly load: LoadView
  /** Used only with a router (`routing: 'cache-aware'`); the in-memory one allocates nothing until then. */
  readonly prefixes: PrefixStore
}
