/**
 * What the dashboard shows, collected from the scheduler's events (jobs queued, started, ended,
 * dropped) and the gateway's (`request-end`, health): each upstream's slots and who holds them,
 * the waiting jobs, the last finished requests, and rates over the last minutes. Recording is a
 * few map and array writes per event; positions, health and the JSON are computed only when a
 * page asks ({@link DashboardState.snapshot}).
 * @module
 */
import type { QueueScheduler } from '../queue/queue-scheduler.js'
import type { JobClass } from '../queue/queue-scheduler.js'
import type { Clock } from '../gateway/clock.js'
import type { GatewayEvent } from '../gateway/gateway-events.js'
import type { JobRegistry } from '../gateway/job-registry.js'
import type { UpstreamHealth, UpstreamState } from '../gateway/upstream-health.js'
import { RateHistory } from './rate-history.js'
import type { RateHistorySnapshot } from './rate-history.js'

/** A job in a slot. */
export interface DashboardSlotJob {
  job: string
  class: JobClass
  model: string | null
  /** The conversation (sticky key, shortened), or null when the job has none. */
  thread: string | null
  /** Wall-clock ms since the epoch. */
  startedAt: number
  waitedMs: number
}

/** One upstream. */
export interface DashboardUpstream {
  id: string
  slots: number
  running: number
  queued: number
  /** In rotation: not ejected, loading or cooling down. */
  serving: boolean
  state: UpstreamState
  failures: number
  lastError: string | null
  /** The models it serves, or null when any. */
  models: string[] | null
  /** One entry per slot: the job in it, or null when free. */
  slotJobs: Array<DashboardSlotJob | null>
}

/** A waiting job. */
export interface DashboardQueuedJob {
  job: string
  class: JobClass
  /** 1-based, in the order its upstream will serve waiting jobs. */
  position: number
  upstream: string | null
  model: string | null
  thread: string | null
  /** Wall-clock ms since the epoch. */
  queuedAt: number
  etaMs: number | null
}

/** A finished request. */
export interface DashboardRecentJob {
  job: string
  model: string | null
  upstream: string | null
  status: number
  stream: boolean
  waitMs: number
  totalMs: number
  /** Time to the first token, when the gateway measured it. */
  ttftMs: number | null
  /** Completion tokens, when known. */
  tokens: number | null
  /** Tokens per second of generation (after the first token), when known. */
  tokensPerSecond: number | null
  /** Tool calls recovered from text, when known. */
  toolCallsRecovered: number | null
  error: string | null
  /** Wall-clock ms since the epoch. */
  endedAt: number
}

/** Everything the page draws. */
export interface DashboardSnapshot {
  /** The gateway's wall clock, so the page can tick elapsed times on its own. */
  now: number
  running: number
  queued: number
  upstreams: DashboardUpstream[]
  /** Waiting jobs by class, by position; at most {@link MAX_LISTED_QUEUED} in all. */
  queue: { interactive: DashboardQueuedJob[]; batch: DashboardQueuedJob[]; unlisted: number }
  /** Newest first. */
  recent: DashboardRecentJob[]
  rates: RateHistorySnapshot
}

/** Jobs with recovered tool calls remembered until their end (a job that never reports one is forgotten past this). */
const MAX_PENDING_RECOVERED = 10_000

/** Waiting jobs listed with their positions (each costs a position lookup); the rest are counted. */
export const MAX_LISTED_QUEUED = 100

interface Running {
  readonly job: string
  readonly class: JobClass
  readonly model: string | undefined
  readonly thread: string | undefined
  readonly startedAt: number
  readonly waitedMs: number
  readonly upstream: string
  readonly slot: number
}

interface Waiting {
  readonly job: string
  readonly class: JobClass
  readonly model: string | undefined
  readonly thread: string | undefined
  readonly queuedAt: number
}

/** What {@link DashboardState} reads. */
export interface DashboardSources {
  scheduler: QueueScheduler
  health: UpstreamHealth
  jobs: JobRegistry
  clock: Clock
  /** The model a job that named none runs on an upstream (its default), when known. */
  defaultModel?: ((upstream: string) => string | undefined) | undefined
}

/** Options of {@link DashboardState}. */
export interface DashboardStateOptions {
  /** Finished requests kept for the page. @default 50 */
  recentJobs?: number | undefined
  /** Called after anything changed (the feed pushes a new snapshot, throttled). */
  onChange?: (() => void) | undefined
}

type RequestEnd = Extract<GatewayEvent, { type: 'request-end' }>

/** Collects the dashboard's figures; see the module doc. */
export class DashboardState {
  readonly #sources: DashboardSources
  readonly #onChange: () => void
  readonly #maxRecent: number
  readonly #running = new Map<string, Running>()
  readonly #waiting = new Map<string, Waiting>()
  /** Per upstream: the job id in each shown slot. */
  readonly #slots = new Map<string, Array<string | undefined>>()
  /** Ring of finished requests; `#recentNext` is where the next one goes. */
  readonly #recent: Array<DashboardRecentJob | undefined>
  #recentNext = 0
  readonly #rates = new RateHistory()
  /** Tool calls recovered per job not yet ended. */
  readonly #recovered = new Map<string, number>()
  readonly #unsubscribe: Array<() => void>

  constructor(sources: DashboardSources, options: DashboardStateOptions = {}) {
    const { recentJobs = 50, onChange = () => {} } = options
    this.#sources = sources
    this.#onChange = onChange
    this.#maxRecent = recentJobs
    this.#recent = new Array<DashboardRecentJob | undefined>(recentJobs).fill(undefined)
    for (const upstream of sources.scheduler.snapshot().upstreams) this.#slots.set(upstream.id, new Array<string | undefined>(upstream.slots).fill(undefined))
    const { scheduler, clock } = sources
    this.#unsubscribe = [
      scheduler.on('job-queued', (event) => {
        const now = clock.now()
        this.#waiting.set(event.jobId, { job: event.jobId, class: event.class, model: this.#model(event.jobId), thread: event.threadKey, queuedAt: now })
        this.#rates.max(now, 'queued', event.queued)
        this.#onChange()
      }),
      scheduler.on('job-start', (event) => {
        this.#waiting.delete(event.jobId)
        const slots = this.#slots.get(event.upstream)
        let slot = event.slot ?? -1
        if (slots !== undefined) {
          // Without slot affinity the scheduler does not number slots: show the job in the first free one.
          if (slot < 0 || slot >= slots.length || slots[slot] !== undefined) slot = slots.indexOf(undefined)
          if (slot >= 0) slots[slot] = event.jobId
        }
        const model = this.#model(event.jobId) ?? sources.defaultModel?.(event.upstream)
        this.#running.set(event.jobId, { job: event.jobId, class: event.class, model, thread: event.threadKey, startedAt: clock.now(), waitedMs: event.waitedMs, upstream: event.upstream, slot })
        this.#onChange()
      }),
      scheduler.on('job-end', (event) => {
        const running = this.#running.get(event.jobId)
        this.#running.delete(event.jobId)
        const slots = this.#slots.get(event.upstream)
        if (running !== undefined && slots !== undefined && running.slot >= 0 && slots[running.slot] === event.jobId) slots[running.slot] = undefined
        this.#onChange()
      }),
      scheduler.on('job-dropped', (event) => {
        this.#waiting.delete(event.jobId)
        this.#onChange()
      }),
    ]
  }

  /** Takes the gateway's events: finished requests, tool calls recovered, health changes. */
  onEvent(event: GatewayEvent): void {
    // `tool-calls-recovered` comes before the job's `request-end`.
    if (event.type === 'tool-calls-recovered') {
      if (this.#recovered.size >= MAX_PENDING_RECOVERED) this.#recovered.clear()
      this.#recovered.set(event.jobId, (this.#recovered.get(event.jobId) ?? 0) + event.count)
      return
    }
    if (event.type === 'request-end') this.#ended(event)
    else if (event.type === 'upstream-health' || event.type === 'upstream-state' || event.type === 'upstream-models') this.#onChange()
  }

  /** Everything the page draws, now. */
  snapshot(): DashboardSnapshot {
    const { scheduler, health, clock } = this.#sources
    const now = clock.now()
    const state = scheduler.snapshot()
    const upstreams = state.upstreams.map((upstream): DashboardUpstream => {
      const status = health.status(upstream.id)
      const slots = this.#slots.get(upstream.id) ?? []
      return {
        id: upstream.id,
        slots: upstream.slots,
        running: upstream.running,
        queued: upstream.queued,
        serving: upstream.healthy && health.serving(upstream.id),
        state: status.state,
        failures: status.failures,
        lastError: status.lastError ?? null,
        models: upstream.models ?? null,
        slotJobs: slots.map((job) => {
          const running = job === undefined ? undefined : this.#running.get(job)
          if (running === undefined) return null
          return { job: running.job, class: running.class, model: running.model ?? null, thread: shortThread(running.thread), startedAt: running.startedAt, waitedMs: Math.round(running.waitedMs) }
        }),
      }
    })
    const listed: DashboardQueuedJob[] = []
    for (const waiting of this.#waiting.values()) {
      if (listed.length === MAX_LISTED_QUEUED) break
      const position = scheduler.position(waiting.job)
      if (position === undefined || position.position === 0) continue
      const model = waiting.model ?? (position.upstream === undefined ? undefined : this.#sources.defaultModel?.(position.upstream))
      listed.push({ job: waiting.job, class: waiting.class, position: position.position, upstream: position.upstream ?? null, model: model ?? null, thread: shortThread(waiting.thread), queuedAt: waiting.queuedAt, etaMs: position.etaMs ?? null })
    }
    listed.sort((a, b) => a.position - b.position || a.queuedAt - b.queuedAt)
    const recent: DashboardRecentJob[] = []
    for (let i = 1; i <= this.#maxRecent; i++) {
      const job = this.#recent[(this.#recentNext - i + this.#maxRecent) % this.#maxRecent]
      if (job === undefined) break
      recent.push(job)
    }
    return {
      now,
      running: state.running,
      queued: state.queued,
      upstreams,
      queue: { interactive: listed.filter((job) => job.class === 'interactive'), batch: listed.filter((job) => job.class === 'batch'), unlisted: Math.max(0, state.queued - listed.length) },
      recent,
      rates: this.#rates.snapshot(now),
    }
  }

  /** Stops listening to the scheduler. */
  close(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe()
  }

  #model(jobId: string): string | undefined {
    return this.#sources.jobs.get(jobId)?.model
  }

  #ended(event: RequestEnd): void {
    const now = this.#sources.clock.now()
    const ttftMs = finite(event.ttftMs)
    const tokens = finite(event.tokens)
    const generationMs = ttftMs === undefined ? event.totalMs - event.waitMs : event.totalMs - event.waitMs - ttftMs
    const failed = event.error !== undefined || event.status >= 400
    this.#recent[this.#recentNext] = {
      job: event.jobId,
      model: event.model ?? null,
      upstream: event.upstream ?? null,
      status: event.status,
      stream: event.stream,
      waitMs: Math.round(event.waitMs),
      totalMs: Math.round(event.totalMs),
      ttftMs: ttftMs === undefined ? null : Math.round(ttftMs),
      tokens: tokens ?? null,
      tokensPerSecond: tokens === undefined || tokens === 0 || generationMs <= 0 ? null : Math.round((tokens * 10_000) / generationMs) / 10,
      toolCallsRecovered: this.#recovered.get(event.jobId) ?? null,
      error: event.error ?? null,
      endedAt: now,
    }
    this.#recentNext = (this.#recentNext + 1) % this.#maxRecent
    this.#recovered.delete(event.jobId)
    this.#rates.add(now, 'requests', 1)
    if (failed && event.status !== 499) this.#rates.add(now, 'errors', 1)
    if (tokens !== undefined) this.#rates.add(now, 'tokens', tokens)
    this.#rates.add(now, 'waitMs', event.waitMs)
    this.#onChange()
  }
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** A sticky key as the page shows it: a hash shortened, a client's own id cut to 40 characters. */
function shortThread(thread: string | undefined): string | null {
  if (thread === undefined || thread === '') return null
  if (thread.startsWith('h:')) return thread.slice(0, 10)
  return thread.length > 40 ? `${thread.slice(0, 39)}…` : thread
}
