/**
 * The state a {@link QueueScheduler} would share with other gateway replicas: the sticky map, the slot
 * table and the load view. The in-memory implementation is the default; a shared one (Redis) is a new file
 * implementing these interfaces.
 *
 * The methods are synchronous on purpose: they sit on the dispatch path, which must stay O(log n) and never
 * wait on a network. A shared implementation (src/scale/redis-scheduler-state.ts) keeps a local mirror (updated
 * by pub/sub) for these reads, and adds a {@link SlotAuthority}: the scheduler's one asynchronous step, which
 * confirms a start against the shared state; a job refused there keeps waiting.
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

/** A waiting job as a {@link SlotAuthority} sees it. */
export interface SharedJob {
  readonly id: string
  readonly class: 'interactive' | 'batch'
  /** Its sticky key, written to the shared sticky map with the slot it is granted. */
  readonly threadKey: string | undefined
  /** The upstream whose queue it waits in (its place in the global order is kept there). */
  readonly waitingOn: string
}

/**
 * What a shared state (several gateway replicas) adds: the right to start a job. The scheduler's synchronous
 * reads (`slots.running`, `load.waiting`, `sticky.get`) are a local mirror of the shared state, kept by its
 * messages; a decision to start a job is only a proposal, which `confirm` settles atomically against the
 * shared state (free slots and the job's rank among every replica's waiting jobs). With an authority the
 * scheduler never calls `slots.claim` or `slots.free`: `confirm` and `release` keep the mirror.
 *
 * None of these methods throws or rejects; an authority that cannot reach its store decides locally
 * (the in-memory state has no authority: its `claim` is the decision).
 */
export interface SlotAuthority {
  /** The job waits: put it in the global order (sent in call order with `confirm`, `dequeue` and `release`). */
  register(job: SharedJob): void
  /**
   * Asks for a slot on `upstream` for `job`: `preferred` when free, else the coldest free slot. Resolves with
   * the slot granted, or undefined when the job must keep waiting (no slot free, or other replicas' jobs are
   * ahead of it); `register`: put the job in the global order when it is refused (it was not registered yet).
   */
  confirm(job: SharedJob, upstream: string, options: { preferred: number | undefined; register: boolean }): Promise<number | undefined>
  /** The job left the queue without running (abort, timeout, close). */
  dequeue(job: SharedJob): void
  /** A running job ended: its slot goes back. */
  release(jobId: string, upstream: string, slot: number): void
  /** Other replicas' waiting jobs, by class, as the mirror knows them (the global picture of the queue). */
  waitingElsewhere(): { interactive: number; batch: number }
  /** Waiting jobs of other replicas that go before this (registered) job on `upstream` (0 while its place is not known yet). */
  ahead(jobId: string, upstream: string, jobClass: 'interactive' | 'batch'): number
  /**
   * Called when slots may have freed on an upstream (another replica released one, a lease expired, the mode
   * changed): the scheduler then looks for a job to start there. `undefined`: any upstream.
   */
  onChange(listener: (upstream: string | undefined) => void): void
  /** Called with a running job's id when its slot was found gone (the gateway aborts the job). */
  onLeaseLost(listener: (jobId: string) => void): void
  /** Where the replica stands, for `/healthz`. */
  status(): SharedStateStatus
  /** Another replica's job, as `GET /v1/jobs/{id}` shows it; undefined when the shared state does not know it. */
  lookup?(jobId: string): Promise<Record<string, unknown> | undefined>
}

/** A shared state's mode, for `/healthz`. */
export interface SharedStateStatus {
  /** `shared`: decisions through the shared store; `local`: store unreachable, on a local share of each upstream's slots; `rejoining`: back, still on the share for a moment. */
  mode: 'shared' | 'local' | 'rejoining'
  /** This replica's id. */
  replica: string
  /** Replicas alive at the last count (this one included). */
  replicas: number
  /** The store's address, password redacted. */
  store: string
}

/** The key of one upstream slot in {@link PrefixStore.matches} (and wherever a slot is keyed): `upstream + '\u0000' + slot`. */
export function slotKey(upstream: string, slot: number | string): string {
  return upstream + '\u0000' + slot
}

/** Everything a scheduler shares: sticky map, slot table, load view, and the prefix index of cache-aware routing. */
export interface SchedulerState {
  readonly sticky: StickyStore
  readonly slots: SlotTable
  readonly load: LoadView
  /** Used only with a router (`routing: 'cache-aware'`); the in-memory one allocates nothing until then. */
  readonly prefixes: PrefixStore
  /** Set by a state shared with other processes (Redis); see {@link SlotAuthority}. */
  readonly authority?: SlotAuthority | undefined
}
