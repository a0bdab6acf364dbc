/**
 * What `GET /v1/jobs/{id}` answers: a record per request, kept while it runs and for a
 * bounded number of finished ones afterwards.
 * @module
 */

/** The state of a job. */
export type JobStatus = 'queued' | 'running' | 'done' | 'error'

/** One request's record. */
export interface JobRecord {
  id: string
  status: JobStatus
  kind: 'interactive' | 'batch'
  model: string | undefined
  stream: boolean
  upstream: string | undefined
  slot: number | undefined
  createdAt: number
  startedAt: number | undefined
  endedAt: number | undefined
  error: string | undefined
  /** `routing: 'cache-aware'`: why the cost model chose its upstream (`routeReason`). */
  route?: string | undefined
  /** Execute mode: the tool round the job is in (1-based), while it runs. */
  toolRound?: number | undefined
  /** Execute mode: the tools running now (names, comma-joined), while they run. */
  toolsRunning?: string | undefined
}

/**
 * Keeps job records: running ones as objects, and the last `maxFinished` finished ones in a ring
 * of columns (typed arrays, and arrays of strings), so a finished job leaves no object of its
 * own behind. Records kept for thousands of requests outlive the young generation; as objects
 * they, and what they pointed at, were promoted and collected again on every request, which
 * showed as long scavenges under load. A finished job's record is rebuilt when asked for.
 */
export class JobRegistry {
  readonly #active = new Map<string, JobRecord>()
  readonly #capacity: number
  /** Ring position of each kept finished job. */
  readonly #index = new Map<string, number>()
  readonly #ids: Array<string | undefined>
  readonly #models: Array<string | undefined>
  readonly #upstreams: Array<string | undefined>
  readonly #errors: Array<string | undefined>
  /** Created on the first routed job (cache-aware routing only). */
  #routes: Array<string | undefined> | undefined
  /** Bit 0: error; bit 1: batch; bit 2: stream. */
  readonly #flags: Uint8Array
  /** -1 for no slot. */
  readonly #slots: Int32Array
  /** NaN for never. */
  readonly #createdAt: Float64Array
  readonly #startedAt: Float64Array
  readonly #endedAt: Float64Array
  #next = 0
  /** One kept copy of each model id seen (a bounded few), so finished jobs do not each keep their own. */
  readonly #modelIds = new Map<string, string>()

  constructor(options: { maxFinished: number }) {
    const capacity = Math.max(1, Math.floor(options.maxFinished))
    this.#capacity = capacity
    this.#ids = new Array<string | undefined>(capacity).fill(undefined)
    this.#models = new Array<string | undefined>(capacity).fill(undefined)
    this.#upstreams = new Array<string | undefined>(capacity).fill(undefined)
    this.#errors = new Array<string | undefined>(capacity).fill(undefined)
    this.#flags = new Uint8Array(capacity)
    this.#slots = new Int32Array(capacity)
    this.#createdAt = new Float64Array(capacity)
    this.#startedAt = new Float64Array(capacity)
    this.#endedAt = new Float64Array(capacity)
  }

  /** Records a new job. */
  add(record: JobRecord): void {
    this.#active.set(record.id, record)
  }

  /** The job's record, active or one of the last `maxFinished` finished. */
  get(id: string): JobRecord | undefined {
    const active = this.#active.get(id)
    if (active !== undefined) return active
    const at = this.#index.get(id)
    if (at === undefined) return undefined
    const flags = this.#flags[at] as number
    const slot = this.#slots[at] as number
    return {
      id,
      status: (flags & 1) === 1 ? 'error' : 'done',
      kind: (flags & 2) === 2 ? 'batch' : 'interactive',
      model: this.#models[at],
      stream: (flags & 4) === 4,
      upstream: this.#upstreams[at],
      slot: slot < 0 ? undefined : slot,
      createdAt: this.#createdAt[at] as number,
      startedAt: orUndefined(this.#startedAt[at] as number),
      endedAt: orUndefined(this.#endedAt[at] as number),
      error: this.#errors[at],
      ...(this.#routes?.[at] === undefined ? {} : { route: this.#routes[at] }),
    }
  }

  /** Marks a job running on an upstream. */
  start(id: string, update: { upstream: string; slot: number | undefined; at: number; route?: string | undefined }): void {
    const record = this.#active.get(id)
    if (record === undefined) return
    if (update.route !== undefined) record.route = update.route
    record.status = 'running'
    record.upstream = update.upstream
    record.slot = update.slot
    record.startedAt = update.at
  }

  /** Execute mode: the round a running job is in and the tools it runs now (undefined: none). */
  toolProgress(id: string, update: { round: number; running: string | undefined }): void {
    const record = this.#active.get(id)
    if (record === undefined) return
    record.toolRound = update.round
    record.toolsRunning = update.running
  }

  /** Marks a job finished (once; later calls are ignored); the oldest kept finished job makes room. */
  finish(id: string, update: { at: number; error?: string | undefined }): void {
    const record = this.#active.get(id)
    if (record === undefined) return
    this.#active.delete(id)
    const at = this.#next
    this.#next = at + 1 === this.#capacity ? 0 : at + 1
    const evicted = this.#ids[at]
    if (evicted !== undefined) this.#index.delete(evicted)
    this.#ids[at] = id
    this.#index.set(id, at)
    this.#models[at] = record.model === undefined ? undefined : this.#modelId(record.model)
    this.#upstreams[at] = record.upstream
    this.#errors[at] = update.error
    if (record.route !== undefined) this.#routes ??= new Array<string | undefined>(this.#capacity).fill(undefined)
    if (this.#routes !== undefined) this.#routes[at] = record.route
    this.#flags[at] = (update.error === undefined ? 0 : 1) | (record.kind === 'batch' ? 2 : 0) | (record.stream ? 4 : 0)
    this.#slots[at] = record.slot ?? -1
    this.#createdAt[at] = record.createdAt
    this.#startedAt[at] = record.startedAt ?? Number.NaN
    this.#endedAt[at] = update.at
  }

  #modelId(model: string): string {
    const kept = this.#modelIds.get(model)
    if (kept !== undefined) return kept
    if (this.#modelIds.size < 256) this.#modelIds.set(model, model)
    return model
  }

  /** Number of jobs not yet finished. */
  get activeCount(): number {
    return this.#active.size
  }
}

function orUndefined(value: number): number | undefined {
  return Number.isNaN(value) ? undefined : value
}
