/**
 * The scheduler that owns upstream slots and waiting jobs: priorities, sticky routing down to the llama.cpp
 * slot, cancellation and bounds. Pure: no I/O, time and timers are injected.
 * @module
 */
import { AbortError, QueueFullError, QueueTimeoutError, UnavailableError } from '../errors.js'
import { createInMemorySchedulerState } from './in-memory-scheduler-state.js'
import { IndexedFifo } from './indexed-fifo.js'
import type { PrefixHint } from './prefix-hashes.js'
import type { PrefixStore, SchedulerState, SharedJob, SlotAuthority, StickyEntry } from './scheduler-state.js'
import { TypedEmitter } from './typed-emitter.js'
import type { EventListener } from './typed-emitter.js'
import type { RouteCandidate, RouteChoice, UpstreamRouter } from './upstream-router.js'

/** Priority class: `interactive` (user chat) is served before `batch` (agent work). */
export type JobClass = 'interactive' | 'batch'

/** An upstream as the scheduler sees it. */
export interface SchedulerUpstream {
  /** Unique id (the gateway uses the upstream's base URL or a configured id). */
  id: string
  /** Most jobs running on it at once; an integer >= 1. */
  slots: number
  /**
   * When set, only jobs whose model is listed (or jobs with no model) may run here; an empty list admits only
   * jobs with no model. Change it at run time with {@link QueueScheduler.setUpstreamModels}. @default any model
   */
  models?: string[] | undefined
  /**
   * llama.cpp: give each thread key a slot index on this upstream (the gateway sends it as `id_slot`) so a
   * conversation keeps its KV cache. @default false
   */
  slotAffinity?: boolean | undefined
}

/** What the gateway asks the scheduler to run. */
export interface JobRequest {
  /** Unique among the jobs the scheduler holds. */
  id: string
  /** @default 'interactive' */
  class?: JobClass | undefined
  /** Sticky key: jobs with the same key go to the same upstream (and slot) while it is warm. */
  threadKey?: string | undefined
  /** Model id, for upstream eligibility. */
  model?: string | undefined
  /**
   * Upstreams this job must not run on (it failed there and is being retried elsewhere), read at
   * `acquire`. When every upstream that may take its model is excluded, `acquire` rejects with
   * UnavailableError `no_upstream`. @default none
   */
  excluded?: ReadonlySet<string> | undefined
  /** Prefix hashes of its prompt, for the `router` option (cache-aware routing); ignored without one. */
  prefix?: PrefixHint | undefined
  /**
   * The (released) lease of this job's earlier attempt, when the job runs again after a failure: it keeps that
   * attempt's place in line (its arrival order and time, which batch aging counts from) instead of going to the
   * back. `waitedMs` and the `job-start` event still count this attempt's wait only. A lease of another scheduler
   * is ignored, and so is `retryOf` with a shared state (`SlotAuthority`): the shared order counts from each
   * registration, and a local place ahead of jobs the shared order ranks first would only hold them up.
   */
  retryOf?: Lease | undefined
}

/** The right to run one job on one upstream (slot) until `release()`. */
export interface Lease {
  readonly jobId: string
  /** Upstream id. */
  readonly upstream: string
  /** Slot index when the upstream has `slotAffinity`, else undefined. */
  readonly slot: number | undefined
  /** How long the job waited in the queue, in ms. */
  readonly waitedMs: number
  /** The `router`'s decision, when it routed the job (see {@link RouteChoice}). */
  readonly cache?: RouteChoice | undefined
  /** Frees the slot (idempotent) and records the service time used for ETAs and Retry-After. */
  release(): void
}

/** A slot kept for the continuation of the prompt that ended there (see {@link UpstreamRouter.holdMs}). */
interface SlotHold {
  /** The last prefix hash of that prompt. */
  readonly key: string
  readonly upstream: UpstreamRecord
  readonly slot: number
  timer: unknown
}

/** Where a waiting job stands. */
export interface JobPosition {
  /** 1-based place in the order its upstream will serve waiting jobs; 0 when running. */
  position: number
  /** Total waiting jobs. */
  queued: number
  /**
   * Estimated time until it starts, in whole ms: when the slots free (each running job's recent
   * average service time minus how long it has run), then a service time per round of jobs ahead;
   * it shrinks as the job waits. Undefined before any job finished.
   */
  etaMs: number | undefined
  /** Upstream it waits for (or runs on). */
  upstream: string | undefined
}

/** Per-upstream figures of {@link QueueScheduler.snapshot}. */
export interface UpstreamSnapshot {
  id: string
  slots: number
  running: number
  /** Jobs waiting for this upstream. */
  queued: number
  healthy: boolean
  /** The models it serves (a copy), or undefined when it serves any model. */
  models: string[] | undefined
}

/** Whole-scheduler figures. */
export interface SchedulerSnapshot {
  queued: number
  /** Waiting jobs by class. */
  queuedByClass: Record<JobClass, number>
  running: number
  upstreams: UpstreamSnapshot[]
}

/** Payload of `job-queued`. */
export interface JobQueuedEvent {
  jobId: string
  class: JobClass
  /** Upstream the job waits for. */
  upstream: string
  /** Total waiting jobs, this one included. */
  queued: number
  /** The job's sticky key, when it has one (the dashboard shows the conversation). */
  threadKey: string | undefined
}

/** Payload of `job-start`. */
export interface JobStartEvent {
  jobId: string
  class: JobClass
  upstream: string
  /** Slot index when the upstream has slot affinity. */
  slot: number | undefined
  waitedMs: number
  /** True when a thread key's remembered upstream (and slot, with slot affinity) served it. */
  stickyHit: boolean
  /** How the job's thread key was routed; undefined for a job without a key. */
  route: StickyRoute | undefined
  /** The `router`'s decision (cached prefix, expected wait and prefill, the alternative), when it routed the job. */
  cache?: RouteChoice | undefined
  /** The job's sticky key, when it has one. */
  threadKey: string | undefined
}

/**
 * The sticky routing decision of a job with a thread key: `new` (no upstream remembered), `kept`
 * (its remembered upstream; `slotReused` with slot affinity: the same llama.cpp slot too), or
 * `moved` off `from` because that upstream was too loaded (`load`: more than `stickyMaxImbalance`
 * jobs per slot above the least-loaded one), out of rotation (`unhealthy`), no longer serves the
 * model (`model`) or no longer exists (`gone`).
 */
export type StickyRoute =
  | { sticky: 'new' }
  | { sticky: 'kept'; slotReused: boolean | undefined }
  | { sticky: 'moved'; from: string; because: 'load' | 'unhealthy' | 'model' | 'gone' }

/** Payload of `job-end`. */
export interface JobEndEvent {
  jobId: string
  upstream: string
  slot: number | undefined
  serviceMs: number
}

/** Payload of `job-dropped`: a waiting job left without running. */
export interface JobDroppedEvent {
  jobId: string
  /**
   * `abort`: its signal aborted; `timeout`: it waited `maxWaitMs`; `close`: `close()` was called; `no_upstream`:
   * after {@link QueueScheduler.setUpstreamModels} no upstream serves its model.
   */
  reason: 'abort' | 'timeout' | 'close' | 'no_upstream'
  waitedMs: number
}

/** Events of a {@link QueueScheduler}. */
export interface QueueSchedulerEvents {
  'job-queued': JobQueuedEvent
  'job-start': JobStartEvent
  'job-end': JobEndEvent
  'job-dropped': JobDroppedEvent
}

/** Timer functions (a test seam). */
export interface SchedulerTimers {
  setTimeout?: ((callback: () => void, ms: number) => unknown) | undefined
  clearTimeout?: ((handle: unknown) => void) | undefined
}

/** Options of {@link QueueScheduler}. */
export interface QueueSchedulerOptions {
  /** The upstreams; at least one, ids unique. */
  upstreams: SchedulerUpstream[]
  /** How long a thread key remembers its upstream after its last job started, in ms; 0 disables stickiness. @default 600_000 */
  stickyTtlMs?: number | undefined
  /**
   * A key leaves its remembered upstream when that upstream's load (running + waiting per slot) exceeds the
   * least-loaded eligible upstream's by more than this. @default 2
   */
  stickyMaxImbalance?: number | undefined
  /**
   * A routing policy (cache-aware-router.ts) for jobs that carry `prefix`: it chooses among the healthy eligible
   * upstreams within `stickyMaxImbalance` of the least-loaded one, instead of the thread key's remembered one.
   * @default none (thread-key routing)
   */
  router?: UpstreamRouter | undefined
  /** Most thread keys remembered (LRU). @default 100_000 */
  maxStickyKeys?: number | undefined
  /** A batch job that has waited this long is served before newer interactive jobs (aging), in ms. @default 30_000 */
  batchMaxWaitMs?: number | undefined
  /** Most waiting jobs (running ones are not counted); beyond it `acquire` rejects with QueueFullError. @default 1000 */
  maxQueued?: number | undefined
  /** A job waiting longer than this rejects with QueueTimeoutError, in ms; 0 = no limit. @default 0 */
  maxWaitMs?: number | undefined
  /** Service-time guess (ms) for Retry-After before any job has finished. @default 10_000 */
  initialServiceMs?: number | undefined
  /**
   * Shared state (sticky map, slot table, load view). When given, `stickyTtlMs` and `maxStickyKeys` are the
   * state's business. @default createInMemorySchedulerState({ stickyTtlMs, maxStickyKeys })
   */
  state?: SchedulerState | undefined
  /** Clock in ms (monotonic). @default () => performance.now() */
  now?: (() => number) | undefined
  /** Test seams. */
  _internal?: SchedulerTimers | undefined
}

/** Lane model key of a job without a model: every upstream may take it. */
const ANY_MODEL = '\u0000any'
/** Lane model key of a model no restricted upstream lists: only unrestricted upstreams may take it. */
const OTHER_MODEL = '\u0000other'
/** Weight of the newest sample in the service-time moving averages. */
const EWMA_WEIGHT = 0.2
const MAX_RETRY_AFTER_SECONDS = 3600

interface UpstreamRecord {
  readonly id: string
  readonly slots: number
  /** Replaced by `setUpstreamModels`. */
  models: ReadonlySet<string> | undefined
  readonly slotAffinity: boolean
  healthy: boolean
  /** Lanes of jobs waiting for this upstream (one per model key). */
  readonly lanes: Map<string, Lane>
  serviceMs: number | undefined
  /** Jobs of this scheduler running here (for ETAs). */
  readonly running: Set<Job>
  /** With a shared state: `confirm`s for this upstream on their way (at most its free slots). */
  confirming: number
}

/** The jobs waiting for one upstream with one model key, one FIFO per class. */
interface Lane {
  readonly upstream: UpstreamRecord
  readonly modelKey: string
  /** Holds jobs waiting for their warm upstream (see the class doc); other upstreams steal them only past the imbalance bound. */
  readonly sticky: boolean
  /** Rebuilt (in `seq` order) when `setUpstreamModels` moves jobs in among older ones. */
  interactive: IndexedFifo<Job>
  batch: IndexedFifo<Job>
}

interface Job {
  readonly id: string
  readonly class: JobClass
  readonly threadKey: string | undefined
  /** The requested model, to recompute `modelKey` when an upstream's model list changes. */
  readonly model: string | undefined
  /** Upstreams it must not run on (see {@link JobRequest.excluded}). */
  readonly excluded: ReadonlySet<string> | undefined
  /** Lane model key (see ANY_MODEL, OTHER_MODEL); recomputed by `setUpstreamModels`. */
  modelKey: string
  /** Its place in line: when it first arrived (an earlier attempt's, when retried). */
  readonly enqueuedAt: number
  /**
   * Whole ms from `enqueuedAt` to this attempt's arrival, what `waitedMs` counts from: 0 except for a retry. (An
   * offset rather than a second time: a small integer is stored in the object, a time would be a boxed double.)
   */
  readonly lateBy: number
  /** Bound to its thread key's remembered (warm) upstream: it waits there rather than start cold elsewhere. */
  stickyBound: boolean
  /** See {@link JobRequest.prefix}. */
  readonly prefix: PrefixHint | undefined
  /** The router's choice, when it routed the job (a choice with cached characters binds it like a warm key). */
  routed: RouteChoice | undefined
  /** Arrival order (an earlier attempt's, when retried); given at `acquire`. */
  readonly seq: number
  fifoOrdinal: number
  state: 'waiting' | 'running' | 'done'
  /** With a shared state: the job is in the global order (or a `confirm` that registers it was sent). */
  registered: boolean
  /** With a shared state: a `confirm` for it is on its way. */
  confirming: boolean
  lane: Lane | undefined
  upstream: UpstreamRecord | undefined
  slot: number
  startedAt: number
  resolve: ((lease: Lease) => void) | undefined
  reject: ((error: unknown) => void) | undefined
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  timer: unknown
}

class JobLease implements Lease {
  readonly jobId: string
  readonly upstream: string
  readonly slot: number | undefined
  readonly waitedMs: number
  readonly cache: RouteChoice | undefined
  readonly #job: Job
  readonly #finish: (job: Job) => void

  /** For a job that has just started (its upstream, slot and start time are set). */
  constructor(job: Job, finish: (job: Job) => void) {
    const upstream = job.upstream as UpstreamRecord
    this.jobId = job.id
    this.upstream = upstream.id
    this.slot = upstream.slotAffinity ? job.slot : undefined
    this.waitedMs = Math.max(0, job.startedAt - arrivalOf(job))
    this.cache = job.routed
    this.#job = job
    this.#finish = finish
  }

  /** The place in line of `lease`'s job when `finish` (a scheduler's) issued it, for {@link JobRequest.retryOf}. */
  static placeOf(lease: Lease, finish: (job: Job) => void): { seq: number; enqueuedAt: number } | undefined {
    return #job in lease && (lease as JobLease).#finish === finish ? (lease as JobLease).#job : undefined
  }

  release(): void {
    this.#finish(this.#job)
  }
}

/**
 * Owns upstream slots and waiting jobs.
 *
 * **Routing.** A job is bound at enqueue to one upstream: its thread key's remembered upstream while that one
 * is healthy, eligible for the model and not more than `stickyMaxImbalance` jobs per slot above the
 * least-loaded one. A key without a usable home goes to the free upstream whose coldest slot was used least
 * recently, among those within the same imbalance bound (so it evicts the cache least likely to be wanted).
 * Anything else goes to the least-loaded healthy eligible upstream ((running + waiting) / slots; ties go to the
 * coldest free slot, then round-robin). The job waits in that upstream's lane.
 *
 * **Models.** An upstream with a `models` list takes only jobs for those models (and jobs with no model); a
 * model no list names runs only on upstreams without a list. Lists may change at run time
 * (`setUpstreamModels`): waiting jobs the change concerns are routed again as above, keeping their arrival order.
 *
 * **Work conservation, within stickiness.** A healthy upstream with a free slot does not idle while a job it
 * may take waits: a job that can start somewhere starts at once (on its bound upstream if free, else on the
 * least-loaded free one), and a slot that frees takes, in order: the best job by class (interactive, or batch
 * aged past `batchMaxWaitMs`, before younger batch), then its own lane's jobs (and those of unhealthy
 * upstreams) before other upstreams' (stealing), then FIFO by arrival. The one exception is the issue's sticky
 * rule: a job bound to its key's warm upstream waits there, and is not started or stolen elsewhere, while that
 * upstream's load is within `stickyMaxImbalance` jobs per slot of the other's. On a home GPU re-reading a long
 * conversation's prompt costs seconds to tens of seconds and evicts another conversation's cache, so a short
 * wait for the warm slot is usually the better deal; `stickyMaxImbalance: 0` makes the scheduler fully work
 * conserving (a busy warm upstream is always more loaded than an idle one). A stolen job's key moves with it.
 *
 * **Retries.** A job may name upstreams it must not run on (`excluded`: it failed there and the gateway retries it
 * elsewhere). Routing, stealing and sticky homes skip them; a free slot on an excluded upstream passes over such a
 * job (and, for that slot, the jobs behind it in its lane). Nothing else about the job changes.
 *
 * **Slot affinity.** On a `slotAffinity` upstream each key remembers a slot index too. When its slot is taken
 * by another job the job takes the free slot unused the longest and the key moves there: the busy slot is
 * overwriting the key's KV cache anyway, so waiting for it would gain no cache and cost a whole generation,
 * and the coldest slot evicts the cache least likely to be wanted. Two running jobs never share a slot index.
 *
 * **Cost.** Enqueue, cancel and dispatch are O(L + log n) where n is the number of waiting jobs and L the
 * number of non-empty lanes (at most upstreams × distinct restricted models + 2, a small constant);
 * `position` is O(L log n) (Fenwick trees over each lane). `setUpstreamModels` costs O(k) for a list of k
 * models equal to the current one; otherwise O(M + n + m log m) (M models listed over all upstreams, m jobs
 * moved, each merged into its new lane by arrival) plus a dispatch per job that then starts. It is the only
 * O(n) path and runs when a discovered model list changes, never per request. No polling: every state change
 * dispatches synchronously exactly the jobs that can start.
 */
export class QueueScheduler {
  readonly #upstreams: UpstreamRecord[]
  readonly #byId = new Map<string, UpstreamRecord>()
  readonly #restrictedModels = new Set<string>()
  readonly #state: SchedulerState
  /** The shared state's authority (Redis); undefined in one process, where the slot table decides alone. */
  readonly #authority: SlotAuthority | undefined
  /** Upstreams a shared-state pump passed over because their best job was being confirmed elsewhere. */
  readonly #passedOver = new Set<UpstreamRecord>()
  readonly #stickyMaxImbalance: number
  readonly #router: UpstreamRouter | undefined
  /** Slots kept for the continuation of the prompt that just ended there (see {@link UpstreamRouter.holdMs}), by its last prefix hash. */
  readonly #holds = new Map<string, SlotHold>()
  /** Jobs waiting in sticky lanes (for their warm upstream). */
  #stickyWaiting = 0
  readonly #batchMaxWaitMs: number
  readonly #maxQueued: number
  readonly #maxWaitMs: number
  readonly #now: () => number
  readonly #setTimeout: (callback: () => void, ms: number) => unknown
  readonly #clearTimeout: (handle: unknown) => void
  readonly #events = new TypedEmitter<QueueSchedulerEvents>()
  readonly #jobs = new Map<string, Job>()
  readonly #activeLanes = new Set<Lane>()
  readonly #finishJob = (job: Job) => this.#finish(job)
  #idleWaiters: Array<() => void> = []
  #waiting = 0
  #running = 0
  #seq = 0
  #lastEnqueuedAt = Number.NEGATIVE_INFINITY
  #roundRobin = 0
  #serviceMs: number | undefined
  readonly #initialServiceMs: number
  #closed = false
  /** One error for every job `close()` rejects: building 100 000 stack traces would stall shutdown. */
  readonly #shutdownError = new UnavailableError('The gateway is shutting down.', 'shutting_down')

  constructor({
    upstreams,
    stickyTtlMs = 600_000,
    stickyMaxImbalance = 2,
    maxStickyKeys = 100_000,
    router,
    batchMaxWaitMs = 30_000,
    maxQueued = 1000,
    maxWaitMs = 0,
    initialServiceMs = 10_000,
    state,
    now = () => performance.now(),
    _internal = {},
  }: QueueSchedulerOptions) {
    if (!Array.isArray(upstreams) || upstreams.length === 0) throw new TypeError(`upstreams must be a non-empty array, got ${JSON.stringify(upstreams)}`)
    requireNumber('stickyMaxImbalance', stickyMaxImbalance)
    requireNumber('batchMaxWaitMs', batchMaxWaitMs)
    requireNumber('maxWaitMs', maxWaitMs)
    requireNumber('initialServiceMs', initialServiceMs)
    if (!Number.isInteger(maxQueued) || maxQueued < 0) throw new TypeError(`maxQueued must be an integer >= 0, got ${JSON.stringify(maxQueued)}`)
    if (typeof now !== 'function') throw new TypeError(`now must be a function, got ${JSON.stringify(now)}`)
    this.#state = state ?? createInMemorySchedulerState({ stickyTtlMs, maxStickyKeys, now })
    this.#authority = this.#state.authority
    this.#stickyMaxImbalance = stickyMaxImbalance
    this.#router = router
    this.#batchMaxWaitMs = batchMaxWaitMs
    this.#maxQueued = maxQueued
    this.#maxWaitMs = maxWaitMs
    this.#initialServiceMs = initialServiceMs
    this.#now = now
    this.#setTimeout = _internal.setTimeout ?? ((callback, ms) => globalThis.setTimeout(callback, ms))
    this.#clearTimeout = _internal.clearTimeout ?? ((handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>))
    this.#upstreams = upstreams.map((upstream, index) => {
      if (typeof upstream?.id !== 'string' || upstream.id === '') throw new TypeError(`upstreams[${index}].id must be a non-empty string, got ${JSON.stringify(upstream?.id)}`)
      if (this.#byId.has(upstream.id)) throw new TypeError(`upstreams[${index}].id must be unique, got ${JSON.stringify(upstream.id)} twice`)
      if (!Number.isInteger(upstream.slots) || upstream.slots < 1) throw new TypeError(`upstreams[${index}].slots must be an integer >= 1, got ${JSON.stringify(upstream.slots)}`)
      if (upstream.models !== undefined && (!Array.isArray(upstream.models) || upstream.models.some((model) => typeof model !== 'string'))) {
        throw new TypeError(`upstreams[${index}].models must be an array of strings, got ${JSON.stringify(upstream.models)}`)
      }
      const record: UpstreamRecord = {
        id: upstream.id,
        slots: upstream.slots,
        models: upstream.models === undefined ? undefined : new Set(upstream.models),
        slotAffinity: upstream.slotAffinity === true,
        healthy: true,
        lanes: new Map(),
        serviceMs: undefined,
        running: new Set(),
        confirming: 0,
      }
      for (const model of upstream.models ?? []) this.#restrictedModels.add(model)
      this.#byId.set(record.id, record)
      this.#state.slots.define(record.id, record.slots)
      return record
    })
    this.#authority?.onChange((id) => {
      for (const upstream of this.#upstreams) if (id === undefined || upstream.id === id) this.#pump(upstream)
    })
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof QueueSchedulerEvents>(name: K, listener: EventListener<QueueSchedulerEvents[K]>): () => void {
    return this.#events.on(name, listener)
  }

  /** Unsubscribes from an event. */
  off<K extends keyof QueueSchedulerEvents>(name: K, listener: EventListener<QueueSchedulerEvents[K]>): void {
    this.#events.off(name, listener)
  }

  /**
   * Waits for a slot for `job` and resolves with its lease.
   *
   * Rejects with AbortError as soon as `signal` aborts while the job waits (it leaves the queue and never
   * runs); QueueFullError when `maxQueued` jobs wait already; QueueTimeoutError after `maxWaitMs`;
   * UnavailableError `no_upstream` when no upstream serves the model, `shutting_down` after `close()`.
   * Once the lease is granted the signal is no longer watched: release the lease. Throws a TypeError at once
   * for a job id the scheduler already holds.
   */
  acquire(job: JobRequest, options: { signal?: AbortSignal | undefined } = {}): Promise<Lease> {
    if (typeof job?.id !== 'string') throw new TypeError(`job.id must be a string, got ${JSON.stringify(job?.id)}`)
    if (this.#jobs.has(job.id)) throw new TypeError(`job id ${JSON.stringify(job.id)} is already queued or running`)
    const jobClass = job.class ?? 'interactive'
    if (jobClass !== 'interactive' && jobClass !== 'batch') throw new TypeError(`job.class must be 'interactive' or 'batch', got ${JSON.stringify(job.class)}`)
    const { signal } = options
    if (this.#closed) return Promise.reject(this.#shutdownError)
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, signal.reason))
    const modelKey = this.#modelKey(job.model)
    const now = this.#now()
    const arrivedAt = Math.max(now, this.#lastEnqueuedAt)
    this.#lastEnqueuedAt = arrivedAt
    const place = job.retryOf === undefined || this.#authority !== undefined ? undefined : JobLease.placeOf(job.retryOf, this.#finishJob)
    const record: Job = {
      id: job.id,
      class: jobClass,
      threadKey: job.threadKey === '' ? undefined : job.threadKey,
      model: job.model,
      excluded: job.excluded !== undefined && job.excluded.size > 0 ? job.excluded : undefined,
      modelKey,
      enqueuedAt: place?.enqueuedAt ?? arrivedAt,
      lateBy: place === undefined ? 0 : Math.max(0, Math.round(arrivedAt - place.enqueuedAt)),
      stickyBound: false,
      prefix: this.#router === undefined ? undefined : job.prefix,
      routed: undefined,
      seq: place?.seq ?? ++this.#seq,
      fifoOrdinal: -1,
      state: 'waiting',
      registered: false,
      confirming: false,
      lane: undefined,
      upstream: undefined,
      slot: -1,
      startedAt: 0,
      resolve: undefined,
      reject: undefined,
      signal,
      onAbort: undefined,
      timer: undefined,
    }
    // The continuation of a prompt whose slot is being kept for it takes that slot at once.
    const hold = this.#holds.size > 0 && record.prefix !== undefined ? this.#holdFor(record) : undefined
    if (hold !== undefined) return Promise.resolve(this.#takeHold(record, hold))
    const best = this.#leastLoaded(modelKey, record.excluded)
    if (best === undefined) {
      return Promise.reject(new UnavailableError(record.excluded !== undefined ? 'No other upstream serves the job.' : job.model === undefined ? 'No upstream is configured.' : `No upstream serves the model ${JSON.stringify(job.model)}.`, 'no_upstream'))
    }
    const target = this.#route(record, best)
    record.stickyBound = this.#warmOn(record, target)
    if (this.#authority !== undefined) return this.#acquireShared(record, target, best)
    // A job starts at once on its bound upstream if that has a free slot. A job without a warm upstream also
    // takes the least-loaded free one (a free upstream has nothing bound to it, so its load is < 1 while a full
    // one's is >= 1: the least-loaded healthy eligible upstream is free whenever any is). A sticky job waits for
    // its warm upstream instead, as long as that is within stickyMaxImbalance (#route checked): its cache is there.
    const startOn = this.#hasFreeSlot(target) ? target : !record.stickyBound && this.#hasFreeSlot(best) ? this.#coldestFree(record, best) : undefined
    if (startOn !== undefined) {
      const lease = this.#start(record, startOn)
      if (lease !== undefined) return Promise.resolve(lease)
    }
    if (this.#waiting >= this.#maxQueued) {
      return Promise.reject(new QueueFullError(`The queue is full (${this.#waiting} waiting jobs).`, this.retryAfterSeconds()))
    }
    return new Promise<Lease>((resolve, reject) => {
      record.resolve = resolve
      record.reject = reject
      this.#enqueue(record, target)
      // A deeper queue on the target may push its sticky jobs past the imbalance bound of an upstream that
      // has a free slot: let those upstreams look again (a few upstreams; nothing to do in the common case).
      if (this.#stickyWaiting > 0) for (const upstream of this.#upstreams) if (upstream !== target && upstream.healthy && this.#hasFreeSlot(upstream)) this.#pump(upstream)
    })
  }

  /** Where a job stands, or undefined when the scheduler does not hold it (unknown, finished or dropped). */
  position(jobId: string): JobPosition | undefined {
    const job = this.#jobs.get(jobId)
    if (job === undefined) return undefined
    if (job.state === 'running') return { position: 0, queued: this.#queued(), etaMs: 0, upstream: job.upstream?.id }
    const lane = job.lane as Lane
    const upstream = lane.upstream
    const now = this.#now()
    const agedBefore = now - this.#batchMaxWaitMs
    const firstRank = job.class === 'interactive' || job.enqueuedAt <= agedBefore
    let ahead = 0
    for (const other of upstream.lanes.values()) {
      if (firstRank) ahead += other.interactive.countBelow(job.seq) + other.batch.countBelow(job.seq, agedBefore)
      else ahead += other.interactive.size + other.batch.countBelow(job.seq)
    }
    if (this.#authority !== undefined) ahead += this.#authority.ahead(job.id, upstream.id, job.class)
    const position = ahead + 1
    const serviceMs = upstream.serviceMs ?? this.#serviceMs
    const etaMs = serviceMs === undefined ? undefined : this.#eta(upstream, ahead, serviceMs, now)
    return { position, queued: this.#queued(), etaMs, upstream: upstream.id }
  }

  /**
   * When the job with `ahead` jobs before it starts on `upstream`: with equal service times the
   * slots take turns, so it takes the `(ahead mod slots)`-th slot to free, `floor(ahead / slots)`
   * rounds later. A slot frees when its job's service time is up (at once if overdue); a slot
   * held by another gateway sharing the state counts half a service time.
   */
  #eta(upstream: UpstreamRecord, ahead: number, serviceMs: number, now: number): number {
    const frees: number[] = []
    for (const job of upstream.running) frees.push(Math.max(0, job.startedAt + serviceMs - now))
    const elsewhere = Math.min(upstream.slots, this.#state.slots.running(upstream.id)) - frees.length
    for (let i = 0; i < elsewhere; i++) frees.push(serviceMs / 2)
    while (frees.length < upstream.slots) frees.push(0)
    frees.sort((a, b) => a - b)
    return Math.round((frees[ahead % upstream.slots] as number) + Math.floor(ahead / upstream.slots) * serviceMs)
  }

  /** `queued`, `running`, or undefined when the scheduler does not hold the job. */
  status(jobId: string): 'queued' | 'running' | undefined {
    const job = this.#jobs.get(jobId)
    return job === undefined ? undefined : job.state === 'running' ? 'running' : 'queued'
  }

  /** The prefix index of cache-aware routing (its state's), for what corrects it from outside (llama-slots.ts). */
  get prefixes(): PrefixStore {
    return this.#state.prefixes
  }

  /** Totals and per-upstream running/queued/slots/health. */
  snapshot(): SchedulerSnapshot {
    let batch = 0
    for (const lane of this.#activeLanes) batch += lane.batch.size
    let interactive = this.#waiting - batch
    // A shared state: every replica's waiting jobs (the others' from the authority's mirror).
    const elsewhere = this.#authority?.waitingElsewhere()
    if (elsewhere !== undefined) {
      interactive += elsewhere.interactive
      batch += elsewhere.batch
    }
    return {
      queued: interactive + batch,
      queuedByClass: { interactive, batch },
      running: this.#running,
      upstreams: this.#upstreams.map((upstream) => ({
        id: upstream.id,
        slots: upstream.slots,
        running: this.#state.slots.running(upstream.id),
        queued: this.#state.load.waiting(upstream.id),
        healthy: upstream.healthy,
        models: upstream.models === undefined ? undefined : [...upstream.models],
      })),
    }
  }

  /** Marks an upstream healthy or not; unhealthy upstreams get no new jobs and their waiting jobs go elsewhere. */
  setHealthy(upstreamId: string, healthy: boolean): void {
    const upstream = this.#byId.get(upstreamId)
    if (upstream === undefined) throw new TypeError(`Unknown upstream ${JSON.stringify(upstreamId)}`)
    if (upstream.healthy === healthy) return
    upstream.healthy = healthy
    if (healthy) this.#pump(upstream)
    else for (const other of this.#upstreams) this.#pump(other)
  }

  /**
   * Replaces the models `upstreamId` serves (undefined: it serves any model; an empty list: only jobs with no
   * model, as in the constructor). Waiting jobs are re-routed under the new lists, in their arrival order; a
   * waiting job that no upstream serves any more is rejected with UnavailableError `no_upstream` (and a
   * `job-dropped` event with that reason); running jobs are not touched. A list equal to the current one (as a
   * set) changes nothing. Throws a TypeError for an unknown upstream id or a bad list.
   *
   * Eligibility afterwards is exactly what it would be had the upstream been constructed with `models`. A
   * re-routed job keeps its class, its place in arrival order (it merges into its new lane by `seq`), its abort
   * listener and `maxWaitMs` timer, and its sticky binding when its warm upstream still serves it; then every
   * job that can start now starts.
   */
  setUpstreamModels(upstreamId: string, models: readonly string[] | undefined): void {
    const upstream = this.#byId.get(upstreamId)
    if (upstream === undefined) throw new TypeError(`upstreamId must be the id of an upstream, got ${JSON.stringify(upstreamId)}`)
    if (models !== undefined && (!Array.isArray(models) || models.some((model) => typeof model !== 'string'))) {
      throw new TypeError(`models must be an array of strings or undefined, got ${JSON.stringify(models)}`)
    }
    const next = models === undefined ? undefined : new Set(models)
    if (sameModels(upstream.models, next)) return
    upstream.models = next
    this.#restrictedModels.clear()
    for (const other of this.#upstreams) for (const model of other.models ?? []) this.#restrictedModels.add(model)
    if (this.#waiting === 0) return
    this.#reroute()
    // Dispatch to a fixpoint: a slot may take a job another upstream's pump has just made stealable.
    for (let waiting = -1; waiting !== this.#waiting && this.#waiting > 0; ) {
      waiting = this.#waiting
      for (const other of this.#upstreams) this.#pump(other)
    }
  }

  /** Whole seconds a refused client should wait: the time to serve the waiting jobs, from recent service times. */
  retryAfterSeconds(): number {
    let slots = 0
    for (const upstream of this.#upstreams) if (upstream.healthy) slots += upstream.slots
    if (slots === 0) for (const upstream of this.#upstreams) slots += upstream.slots
    const serviceMs = this.#serviceMs ?? this.#initialServiceMs
    const seconds = Math.ceil(((this.#waiting + 1) * serviceMs) / slots / 1000)
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, seconds))
  }

  /** Resolves when nothing waits or runs. */
  onIdle(): Promise<void> {
    if (this.#waiting === 0 && this.#running === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Rejects every waiting job with UnavailableError `shutting_down`, and every later `acquire`. Running leases stay valid. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const job of [...this.#jobs.values()]) if (job.state === 'waiting') this.#drop(job, 'close')
    for (const hold of [...this.#holds.values()]) this.#endHold(hold)
  }

  /**
   * After a model-list change: moves every waiting job whose model key changed, or whose upstream no longer
   * serves it, to the lane routing gives it now, in arrival order, and rejects those no upstream serves.
   * O(n + m log m) for n waiting jobs of which m move. Nothing dispatches and no listener runs until the lanes
   * and counts are consistent again.
   */
  #reroute(): void {
    const moving: Job[] = []
    for (const lane of this.#activeLanes) {
      if (lane.modelKey === ANY_MODEL) continue // a job with no model may run anywhere: it stays
      for (const fifo of [lane.interactive, lane.batch]) {
        for (const job of fifo) {
          const modelKey = this.#modelKey(job.model)
          if (modelKey !== lane.modelKey || !this.#eligible(modelKey, lane.upstream)) moving.push(job)
        }
      }
    }
    if (moving.length === 0) return
    moving.sort((a, b) => a.seq - b.seq)
    const previous = new Map<Job, UpstreamRecord>()
    for (const job of moving) {
      if (job.registered) previous.set(job, (job.lane as Lane).upstream)
      this.#leaveLane(job)
    }
    // Route in arrival order, each job seeing the loads of those routed before it, as when they arrived.
    const arrivals = new Map<Lane, Job[]>()
    const orphans: Job[] = []
    for (const job of moving) {
      job.modelKey = this.#modelKey(job.model)
      const best = this.#leastLoaded(job.modelKey, job.excluded)
      if (best === undefined) {
        if (job.registered) this.#authority?.dequeue(sharedJob(job, previous.get(job) as UpstreamRecord))
        this.#disarm(job)
        job.state = 'done'
        this.#jobs.delete(job.id)
        orphans.push(job)
        continue
      }
      const target = this.#route(job, best)
      job.stickyBound = this.#warmOn(job, target)
      const lane = this.#laneFor(target, job.modelKey, job.stickyBound)
      job.lane = lane
      // The global order keeps the job's place (its first registration's time) on its new upstream.
      if (job.registered) this.#authority?.register(sharedJob(job, target))
      if (lane.sticky) this.#stickyWaiting++
      this.#activeLanes.add(lane)
      this.#state.load.addWaiting(target.id, 1)
      this.#waiting++
      const jobs = arrivals.get(lane)
      if (jobs === undefined) arrivals.set(lane, [job])
      else jobs.push(job)
    }
    // A lane may already hold younger jobs: merge by seq so FIFO, stealing and position() see arrival order.
    for (const [lane, jobs] of arrivals) {
      lane.interactive = mergeBySeq(lane.interactive, jobs, 'interactive')
      lane.batch = mergeBySeq(lane.batch, jobs, 'batch')
    }
    const now = this.#now()
    for (const job of orphans) {
      const reject = job.reject
      job.resolve = job.reject = undefined
      reject?.(new UnavailableError(`No upstream serves the model ${JSON.stringify(job.model)} any more.`, 'no_upstream'))
      if (this.#events.has('job-dropped')) this.#events.emit('job-dropped', { jobId: job.id, reason: 'no_upstream', waitedMs: now - arrivalOf(job) })
    }
    this.#checkIdle()
  }

  #modelKey(model: string | undefined): string {
    if (model === undefined) return ANY_MODEL
    return this.#restrictedModels.has(model) ? model : OTHER_MODEL
  }

  #eligible(modelKey: string, upstream: UpstreamRecord): boolean {
    return upstream.models === undefined || modelKey === ANY_MODEL || upstream.models.has(modelKey)
  }

  #load(upstream: UpstreamRecord): number {
    return (this.#state.slots.running(upstream.id) + this.#state.load.waiting(upstream.id)) / upstream.slots
  }

  #hasFreeSlot(upstream: UpstreamRecord): boolean {
    return upstream.healthy && this.#state.slots.running(upstream.id) < upstream.slots
  }

  /**
   * The least-loaded healthy eligible upstream, or when none is healthy the least-loaded eligible one, never one
   * in `excluded`; undefined when none may take the model. Ties go to the upstream whose coldest free slot was used least recently (its
   * evicted cache is the least likely to be wanted), then round-robin.
   */
  #leastLoaded(modelKey: string, excluded: ReadonlySet<string> | undefined): UpstreamRecord | undefined {
    const count = this.#upstreams.length
    const start = this.#roundRobin++ % count
    let best: UpstreamRecord | undefined
    let bestLoad = 0
    let bestCold: number | undefined
    for (const pass of [true, false]) {
      for (let offset = 0; offset < count; offset++) {
        const upstream = this.#upstreams[(start + offset) % count] as UpstreamRecord
        if (upstream.healthy !== pass || !this.#eligible(modelKey, upstream) || excluded?.has(upstream.id) === true) continue
        const load = this.#load(upstream)
        const cold = this.#state.slots.coldestFree(upstream.id)
        if (best === undefined || load < bestLoad || (load === bestLoad && cold !== undefined && (bestCold === undefined || cold < bestCold))) {
          best = upstream
          bestLoad = load
          bestCold = cold
        }
      }
      if (best !== undefined) return best
    }
    return undefined
  }

  /**
   * The upstream a new job is bound to: its key's remembered one unless that is unfit or too loaded; else, for a
   * key, a free upstream with the coldest slot (see {@link QueueScheduler.#coldestFree}); else `best`.
   */
  #route(job: Job, best: UpstreamRecord): UpstreamRecord {
    // With a router the prefix index, not the thread key's memory, says where the job is warm.
    if (job.prefix !== undefined) return this.#routeByPrefix(job, best) ?? this.#coldestFree(job, best)
    if (job.threadKey === undefined) return best
    const entry = this.#state.sticky.get(job.threadKey)
    const remembered = entry === undefined ? undefined : this.#byId.get(entry.upstream)
    if (remembered === undefined || !remembered.healthy || !this.#eligible(job.modelKey, remembered) || job.excluded?.has(remembered.id) === true) return this.#coldestFree(job, best)
    return this.#load(remembered) - this.#load(best) > this.#stickyMaxImbalance ? this.#coldestFree(job, best) : remembered
  }

  /** Whether `job` is bound to `upstream` as its warm one: the router found its prompt cached there, or its key remembers it. */
  #warmOn(job: Job, upstream: UpstreamRecord): boolean {
    if (job.prefix !== undefined) return job.routed !== undefined && job.routed.upstream === upstream.id && job.routed.cachedChars > 0
    return job.threadKey !== undefined && this.#state.sticky.get(job.threadKey)?.upstream === upstream.id
  }

  /** The `router`'s choice among the healthy eligible upstreams within `stickyMaxImbalance` of `best` (the hard cap). */
  #routeByPrefix(job: Job, best: UpstreamRecord): UpstreamRecord | undefined {
    const limit = this.#load(best) + this.#stickyMaxImbalance
    const candidates: RouteCandidate[] = []
    for (const upstream of this.#upstreams) {
      if (upstream.healthy !== best.healthy || !this.#eligible(job.modelKey, upstream) || job.excluded?.has(upstream.id) === true || this.#load(upstream) > limit) continue
      candidates.push({ id: upstream.id, slots: upstream.slots, running: this.#state.slots.running(upstream.id), waiting: this.#state.load.waiting(upstream.id), serviceMs: upstream.serviceMs ?? this.#serviceMs, slotAffinity: upstream.slotAffinity })
    }
    const choice = (this.#router as UpstreamRouter).choose(job.prefix as PrefixHint, candidates, this.#state.prefixes)
    job.routed = choice
    return choice === undefined ? undefined : this.#byId.get(choice.upstream)
  }

  /**
   * Where a key that has no (usable) home goes: among healthy eligible upstreams with a free slot whose load is
   * within `stickyMaxImbalance` of the least-loaded one, the one whose coldest free slot was used least recently;
   * `best` when none is free. Placing a new conversation on the coldest cache, not merely the emptiest upstream,
   * evicts the conversation least likely to come back, within the same imbalance bound stickiness already allows.
   */
  #coldestFree(job: Job, best: UpstreamRecord): UpstreamRecord {
    if (job.threadKey === undefined) return best
    const limit = this.#load(best) + this.#stickyMaxImbalance
    let chosen = best
    let chosenCold = this.#hasFreeSlot(best) ? this.#state.slots.coldestFree(best.id) : undefined
    for (const upstream of this.#upstreams) {
      if (upstream === best || !this.#hasFreeSlot(upstream) || !this.#eligible(job.modelKey, upstream) || this.#load(upstream) > limit || job.excluded?.has(upstream.id) === true) continue
      const cold = this.#state.slots.coldestFree(upstream.id)
      if (cold !== undefined && (chosenCold === undefined || cold < chosenCold)) {
        chosen = upstream
        chosenCold = cold
      }
    }
    return chosen
  }

  /** The upstream's lane for a model key (sticky or not), created when missing. */
  #laneFor(upstream: UpstreamRecord, modelKey: string, sticky: boolean): Lane {
    const laneKey = sticky ? `\u0000sticky:${modelKey}` : modelKey
    let lane = upstream.lanes.get(laneKey)
    if (lane === undefined) {
      lane = { upstream, modelKey, sticky, interactive: new IndexedFifo(), batch: new IndexedFifo() }
      upstream.lanes.set(laneKey, lane)
    }
    return lane
  }

  #enqueue(job: Job, upstream: UpstreamRecord): void {
    const lane = this.#laneFor(upstream, job.modelKey, job.stickyBound)
    job.lane = lane
    if (lane.sticky) this.#stickyWaiting++
    // A new job is the latest arrival (its seq was just given); a retry keeps its earlier place: O(lane) to insert.
    if (job.seq === this.#seq) (job.class === 'interactive' ? lane.interactive : lane.batch).push(job)
    else if (job.class === 'interactive') lane.interactive = mergeBySeq(lane.interactive, [job], 'interactive')
    else lane.batch = mergeBySeq(lane.batch, [job], 'batch')
    this.#activeLanes.add(lane)
    this.#state.load.addWaiting(upstream.id, 1)
    this.#waiting++
    this.#jobs.set(job.id, job)
    if (job.signal !== undefined) {
      const signal = job.signal
      job.onAbort = () => this.#drop(job, 'abort')
      signal.addEventListener('abort', job.onAbort, { once: true })
    }
    if (this.#maxWaitMs > 0) {
      job.timer = this.#setTimeout(() => {
        job.timer = undefined
        this.#drop(job, 'timeout')
      }, this.#maxWaitMs)
    }
    if (this.#events.has('job-queued')) this.#events.emit('job-queued', { jobId: job.id, class: job.class, upstream: upstream.id, queued: this.#waiting, threadKey: job.threadKey })
  }

  /** Takes a waiting job out of its lane and the counts, and stops watching its signal and timer. */
  #unlink(job: Job): void {
    this.#leaveLane(job)
    this.#disarm(job)
  }

  /** Takes a waiting job out of its lane and the counts; its signal, timer and promise stay as they are. */
  #leaveLane(job: Job): void {
    const lane = job.lane as Lane
    if (lane.sticky) this.#stickyWaiting--
    ;(job.class === 'interactive' ? lane.interactive : lane.batch).delete(job)
    if (lane.interactive.size === 0 && lane.batch.size === 0) {
      this.#activeLanes.delete(lane)
      lane.upstream.lanes.delete(lane.sticky ? `\u0000sticky:${lane.modelKey}` : lane.modelKey)
    }
    job.lane = undefined
    this.#state.load.addWaiting(lane.upstream.id, -1)
    this.#waiting--
  }

  /** Stops watching a job's abort signal and `maxWaitMs` timer. */
  #disarm(job: Job): void {
    if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort)
    job.onAbort = undefined
    job.signal = undefined
    if (job.timer !== undefined) this.#clearTimeout(job.timer)
    job.timer = undefined
  }

  #drop(job: Job, reason: Exclude<JobDroppedEvent['reason'], 'no_upstream'>): void {
    if (job.state !== 'waiting') return
    const error =
      reason === 'abort'
        ? new AbortError(undefined, job.signal?.reason)
        : reason === 'timeout'
          ? new QueueTimeoutError(`The job waited longer than ${this.#maxWaitMs} ms for a slot.`)
          : this.#shutdownError
    if (job.registered) this.#authority?.dequeue(sharedJob(job, (job.lane as Lane).upstream))
    this.#unlink(job)
    job.state = 'done'
    this.#jobs.delete(job.id)
    const reject = job.reject
    job.resolve = job.reject = undefined
    reject?.(error)
    if (this.#events.has('job-dropped')) this.#events.emit('job-dropped', { jobId: job.id, reason, waitedMs: this.#now() - arrivalOf(job) })
    this.#checkIdle()
  }

  /** Runs `job` on `upstream` if a slot can be claimed; returns its lease. */
  #start(job: Job, upstream: UpstreamRecord): Lease | undefined {
    const entry = job.threadKey === undefined ? undefined : this.#state.sticky.get(job.threadKey)
    const slot = this.#state.slots.claim(upstream.id, preferredSlot(job, entry, upstream.id))
    if (slot === undefined) return undefined
    return this.#begin(job, upstream, slot, entry)
  }

  /** Runs `job` on the slot it was given; returns its lease. */
  #begin(job: Job, upstream: UpstreamRecord, slot: number, entry: StickyEntry | undefined): Lease {
    const sticky = this.#state.sticky
    if (job.state === 'waiting' && job.lane !== undefined) this.#unlink(job)
    job.state = 'running'
    job.upstream = upstream
    job.slot = slot
    job.startedAt = Math.max(this.#now(), arrivalOf(job))
    this.#running++
    upstream.running.add(job)
    this.#jobs.set(job.id, job)
    if (job.threadKey !== undefined) sticky.set(job.threadKey, { upstream: upstream.id, slot: upstream.slotAffinity ? slot : undefined })
    if (job.prefix !== undefined) this.#router?.started(job.prefix, upstream.id, slot, this.#state.prefixes)
    const lease = new JobLease(job, this.#finishJob)
    const waitedMs = lease.waitedMs
    const resolve = job.resolve
    job.resolve = job.reject = undefined
    resolve?.(lease)
    if (this.#events.has('job-start')) {
      const stickyHit = entry !== undefined && entry.upstream === upstream.id && (!upstream.slotAffinity || entry.slot === slot)
      this.#events.emit('job-start', { jobId: job.id, class: job.class, upstream: upstream.id, slot: lease.slot, waitedMs, stickyHit, threadKey: job.threadKey, route: this.#routeOf(job, entry, upstream, slot), cache: job.routed })
    }
    return lease
  }

  /** The sticky decision behind a start (see {@link StickyRoute}); computed only for a `job-start` listener. */
  #routeOf(job: Job, entry: StickyEntry | undefined, upstream: UpstreamRecord, slot: number): StickyRoute | undefined {
    if (job.threadKey === undefined) return undefined
    if (entry === undefined) return { sticky: 'new' }
    if (entry.upstream === upstream.id) return { sticky: 'kept', slotReused: upstream.slotAffinity ? entry.slot === slot : undefined }
    const remembered = this.#byId.get(entry.upstream)
    const because = remembered === undefined ? 'gone' : !remembered.healthy ? 'unhealthy' : !this.#eligible(job.modelKey, remembered) ? 'model' : 'load'
    return { sticky: 'moved', from: entry.upstream, because }
  }

  #finish(job: Job): void {
    if (job.state !== 'running') return
    const upstream = job.upstream as UpstreamRecord
    const now = this.#now()
    job.state = 'done'
    this.#jobs.delete(job.id)
    this.#running--
    upstream.running.delete(job)
    if (job.prefix !== undefined) this.#router?.finished?.(job.prefix, upstream.id, job.slot)
    const holdMs = this.#authority === undefined && this.#waiting > 0 && job.prefix !== undefined && !this.#closed ? this.#holdMs(job, upstream, now) : 0
    if (this.#authority !== undefined) this.#authority.release(job.id, upstream.id, job.slot)
    else if (holdMs > 0) this.#holdSlot(job, upstream, holdMs)
    else this.#state.slots.free(upstream.id, job.slot)
    const serviceMs = Math.max(0, now - job.startedAt)
    upstream.serviceMs = upstream.serviceMs === undefined ? serviceMs : upstream.serviceMs + EWMA_WEIGHT * (serviceMs - upstream.serviceMs)
    this.#serviceMs = this.#serviceMs === undefined ? serviceMs : this.#serviceMs + EWMA_WEIGHT * (serviceMs - this.#serviceMs)
    if (this.#events.has('job-end')) this.#events.emit('job-end', { jobId: job.id, upstream: upstream.id, slot: upstream.slotAffinity ? job.slot : undefined, serviceMs })
    this.#pump(upstream)
    this.#checkIdle()
  }

  /** How long the router would keep the slot `job` ended on for its continuation, given who is next in line. */
  #holdMs(job: Job, upstream: UpstreamRecord, now: number): number {
    const router = this.#router
    const next = router?.holdMs === undefined ? undefined : this.#next(upstream)
    if (router?.holdMs === undefined || next === undefined) return 0
    return router.holdMs(job.prefix as PrefixHint, upstream.id, job.slot, { waiting: this.#waiting, nextWaitedMs: Math.max(0, now - arrivalOf(next)) })
  }

  /** Keeps the slot `job` ended on, still claimed, for the continuation of its prompt, for `ms` at most. */
  #holdSlot(job: Job, upstream: UpstreamRecord, ms: number): void {
    const hashes = (job.prefix as PrefixHint).hashes
    const key = hashes[hashes.length - 1] as string
    const previous = this.#holds.get(key)
    if (previous !== undefined) {
      // The same prompt ended twice (two identical requests): the older slot goes back to the queue.
      this.#endHold(previous)
      if (previous.upstream !== upstream) this.#pump(previous.upstream)
    }
    const hold: SlotHold = { key, upstream, slot: job.slot, timer: undefined }
    hold.timer = this.#setTimeout(() => {
      hold.timer = undefined
      this.#endHold(hold)
      this.#pump(upstream)
      this.#checkIdle()
    }, ms)
    this.#holds.set(key, hold)
  }

  /** The hold kept for the prompt `job` continues, when the job may run there. O(blocks). */
  #holdFor(job: Job): SlotHold | undefined {
    const hashes = (job.prefix as PrefixHint).hashes
    for (let index = hashes.length - 1; index >= 0; index--) {
      const hold = this.#holds.get(hashes[index] as string)
      if (hold === undefined) continue
      const upstream = hold.upstream
      return upstream.healthy && this.#eligible(job.modelKey, upstream) && job.excluded?.has(upstream.id) !== true ? hold : undefined
    }
    return undefined
  }

  /** Starts `job` on the slot kept for it (still claimed: it passes from the hold to the job). */
  #takeHold(job: Job, hold: SlotHold): Lease {
    this.#forgetHold(hold)
    const entry = job.threadKey === undefined ? undefined : this.#state.sticky.get(job.threadKey)
    return this.#begin(job, hold.upstream, hold.slot, entry)
  }

  /** Gives a kept slot back (its time is up, or the scheduler closes). */
  #endHold(hold: SlotHold): void {
    if (this.#holds.get(hold.key) !== hold) return
    this.#forgetHold(hold)
    this.#state.slots.free(hold.upstream.id, hold.slot)
  }

  /** Drops a hold and its timer (the slot stays claimed). */
  #forgetHold(hold: SlotHold): void {
    this.#holds.delete(hold.key)
    if (hold.timer !== undefined) this.#clearTimeout(hold.timer)
    hold.timer = undefined
  }

  /** Fills the upstream's free slots with the best eligible waiting jobs. */
  #pump(upstream: UpstreamRecord): void {
    if (this.#authority !== undefined) return this.#pumpShared(upstream, this.#authority)
    while (this.#waiting > 0 && this.#hasFreeSlot(upstream)) {
      const job = this.#next(upstream)
      if (job === undefined || this.#start(job, upstream) === undefined) return
    }
  }

  /** The waiting job a free slot on `upstream` takes: by rank (class + aging), then own lanes first, then arrival. */
  #next(upstream: UpstreamRecord, skipConfirming = false): Job | undefined {
    const agedBefore = this.#now() - this.#batchMaxWaitMs
    let best: Job | undefined
    let bestKey = Number.POSITIVE_INFINITY
    for (const lane of this.#activeLanes) {
      // An unhealthy upstream's jobs count as anyone's own (they go first), but only where their model is served.
      if (lane.upstream !== upstream && !this.#eligible(lane.modelKey, upstream)) continue
      const own = lane.upstream === upstream || !lane.upstream.healthy
      // With a shared state, jobs already proposed elsewhere are passed over (their lane's next job is offered).
      const interactive = skipConfirming ? firstIdle(lane.interactive) : lane.interactive.peek()
      const batch = skipConfirming ? firstIdle(lane.batch) : lane.batch.peek()
      const batchRank = batch === undefined ? 2 : batch.enqueuedAt <= agedBefore ? 0 : 1
      const head = interactive !== undefined && (batch === undefined || batchRank === 1 || interactive.seq < batch.seq) ? interactive : batch
      // A job being retried never returns to an upstream it failed on (the jobs behind it wait for another slot).
      if (head === undefined || head.excluded?.has(upstream.id) === true) continue
      // A sticky job is stolen only once its warm upstream, not counting the job itself (as when it was routed),
      // is more than stickyMaxImbalance jobs per slot above this one.
      if (!own && lane.sticky && this.#load(lane.upstream) - 1 / lane.upstream.slots - this.#load(upstream) <= this.#stickyMaxImbalance) continue
      const rank = head === interactive ? 0 : batchRank
      // One number orders (rank, own-before-stolen, seq); seq stays far below 2^50.
      const key = (rank * 2 + (own ? 0 : 1)) * 2 ** 50 + head.seq
      if (key < bestKey) {
        best = head
        bestKey = key
      }
    }
    return best
  }

  /**
   * `acquire` with a shared state: the job always enters its lane first (so it holds its place while the
   * shared state decides), then the upstreams that look free (in the mirror) try to start a job.
   */
  #acquireShared(record: Job, target: UpstreamRecord, best: UpstreamRecord): Promise<Lease> {
    const free = this.#hasFreeSlot(target) || (!record.stickyBound && this.#hasFreeSlot(best))
    if (!free && this.#queued() >= this.#maxQueued) {
      return Promise.reject(new QueueFullError(`The queue is full (${this.#queued()} waiting jobs).`, this.retryAfterSeconds()))
    }
    return new Promise<Lease>((resolve, reject) => {
      record.resolve = resolve
      record.reject = reject
      this.#enqueue(record, target)
      if (this.#hasFreeSlot(target)) this.#pump(target)
      else for (const upstream of this.#upstreams) if (upstream !== target && upstream.healthy && this.#hasFreeSlot(upstream)) this.#pump(upstream)
      if (record.state === 'waiting' && !record.registered) {
        record.registered = true
        ;(this.#authority as SlotAuthority).register(sharedJob(record, target))
      }
    })
  }

  /**
   * `#pump` with a shared state: proposes the best waiting jobs, one per slot the mirror shows free, and lets
   * the authority decide each. Granted: the job starts and the upstream looks again. Refused (no slot free
   * after all, or another replica's job goes first): nothing, until the next change.
   */
  #pumpShared(upstream: UpstreamRecord, authority: SlotAuthority): void {
    while (this.#waiting > 0 && upstream.healthy && this.#state.slots.running(upstream.id) + upstream.confirming < upstream.slots) {
      const job = this.#next(upstream, true)
      if (job === undefined) {
        // Its best job may be on its way to another upstream: look again when that one is decided.
        if (this.#waiting > 0) this.#passedOver.add(upstream)
        return
      }
      // Other replicas' jobs go first for every free slot (as far as the mirror knows): theirs propose, not
      // this one (a proposal Redis would refuse is a round trip for nothing). A change there wakes this up.
      if (authority.ahead(job.id, upstream.id, job.class) >= upstream.slots - this.#state.slots.running(upstream.id) - upstream.confirming) return
      this.#propose(job, upstream, authority)
    }
  }

  /** Asks the authority to start `job` on `upstream`; starts it when granted. */
  #propose(job: Job, upstream: UpstreamRecord, authority: SlotAuthority): void {
    const entry = job.threadKey === undefined ? undefined : this.#state.sticky.get(job.threadKey)
    const register = !job.registered
    upstream.confirming++
    job.confirming = job.registered = true
    void authority.confirm(sharedJob(job, (job.lane as Lane).upstream), upstream.id, { preferred: preferredSlot(job, entry, upstream.id), register }).then((slot) => {
      upstream.confirming--
      job.confirming = false
      if (slot !== undefined) {
        if (job.state === 'waiting') this.#begin(job, upstream, slot, job.threadKey === undefined ? undefined : this.#state.sticky.get(job.threadKey))
        else authority.release(job.id, upstream.id, slot) // it left while the grant was on its way
        this.#pump(upstream)
      }
      if (this.#passedOver.size > 0) {
        const passed = [...this.#passedOver]
        this.#passedOver.clear()
        for (const other of passed) this.#pump(other)
      }
      this.#checkIdle()
    })
  }

  /** Waiting jobs: this process's, or with a shared state every replica's (as far as the mirror knows). */
  #queued(): number {
    if (this.#authority === undefined) return this.#waiting
    let queued = 0
    for (const upstream of this.#upstreams) queued += this.#state.load.waiting(upstream.id)
    return Math.max(queued, this.#waiting)
  }

  #checkIdle(): void {
    if (this.#waiting !== 0 || this.#running !== 0 || this.#idleWaiters.length === 0) return
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const resolve of waiters) resolve()
  }
}

/** The slot a job would like on `upstream`: the router's choice, else its key's remembered slot there. */
function preferredSlot(job: Job, entry: StickyEntry | undefined, upstream: string): number | undefined {
  if (job.routed !== undefined) return job.routed.upstream === upstream ? job.routed.slot : undefined
  return entry !== undefined && entry.upstream === upstream ? entry.slot : undefined
}

/** The first job of a lane not being proposed already (shared state: a few proposals at most lie ahead). */
function firstIdle(fifo: IndexedFifo<Job>): Job | undefined {
  for (const job of fifo) if (!job.confirming) return job
  return undefined
}

/** A waiting job as the shared state's authority sees it. */
function sharedJob(job: Job, waitingOn: UpstreamRecord): SharedJob {
  return { id: job.id, class: job.class, threadKey: job.threadKey, waitingOn: waitingOn.id }
}

/** When the job's current attempt arrived (what its wait counts from): its place in line plus the offset of a retry. */
function arrivalOf(job: Job): number {
  return job.enqueuedAt + job.lateBy
}

/** Two model lists hold the same models (undefined: any model, which no list equals). */
function sameModels(current: ReadonlySet<string> | undefined, next: ReadonlySet<string> | undefined): boolean {
  if (current === undefined || next === undefined) return current === next
  if (current.size !== next.size) return false
  for (const model of next) if (!current.has(model)) return false
  return true
}

/** `fifo`'s jobs and those of `jobClass` in `incoming` (ascending seq), in one new FIFO ordered by seq. */
function mergeBySeq(fifo: IndexedFifo<Job>, incoming: readonly Job[], jobClass: JobClass): IndexedFifo<Job> {
  const added = incoming.filter((job) => job.class === jobClass)
  if (added.length === 0) return fifo
  const merged = new IndexedFifo<Job>()
  let index = 0
  for (const job of fifo) {
    for (; index < added.length && (added[index] as Job).seq < job.seq; index++) merged.push(added[index] as Job)
    merged.push(job)
  }
  for (; index < added.length; index++) merged.push(added[index] as Job)
  return merged
}

function requireNumber(name: string, value: number): void {
  if (typeof value !== 'number' || !(value >= 0)) throw new TypeError(`${name} must be a number >= 0, got ${JSON.stringify(value)}`)
}
