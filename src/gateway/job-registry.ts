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
}

/**
 * Keeps job records. Finished ones live in two generations: when the current one holds
 * `maxFinished / 2` records it becomes the previous one and the old previous one is dropped, so
 * between `maxFinished / 2` and `maxFinished` recent finished jobs are kept at no per-request
 * eviction cost (deleting from one large Map on every request showed in profiles).
 */
export class JobRegistry {
  readonly #active = new Map<string, JobRecord>()
  #finished = new Map<string, JobRecord>()
  #previous = new Map<string, JobRecord>()
  readonly #generationSize: number

  constructor(options: { maxFinished: number }) {
    this.#generationSize = Math.max(1, Math.floor(options.maxFinished / 2))
  }

  /** Records a new job. */
  add(record: JobRecord): void {
    this.#active.set(record.id, record)
  }

  /** The job's record, active or recently finished. */
  get(id: string): JobRecord | undefined {
    return this.#active.get(id) ?? this.#finished.get(id) ?? this.#previous.get(id)
  }

  /** Marks a job running on an upstream. */
  start(id: string, update: { upstream: string; slot: number | undefined; at: number }): void {
    const record = this.#active.get(id)
    if (record === undefined) return
    record.status = 'running'
    record.upstream = update.upstream
    record.slot = update.slot
    record.startedAt = update.at
  }

  /** Marks a job finished (once; later calls are ignored). */
  finish(id: string, update: { at: number; error?: string | undefined }): void {
    const record = this.#active.get(id)
    if (record === undefined) return
    this.#active.delete(id)
    record.status = update.error === undefined ? 'done' : 'error'
    record.error = update.error
    record.endedAt = update.at
    if (this.#finished.size >= this.#generationSize) {
      this.#previous = this.#finished
      this.#finished = new Map()
    }
    this.#finished.set(id, record)
  }

  /** Number of jobs not yet finished. */
  get activeCount(): number {
    return this.#active.size
  }
}
