/**
 * The jobs that hold an upstream slot right now, so that shutdown can wait for them (bounded)
 * and then abort the rest.
 * @module
 */
import { systemClock } from './clock.js'
import type { Clock } from './clock.js'

/** A running job as shutdown sees it. */
export interface AbortableJob {
  abort(reason: Error): void
  /** The scheduler's job id, when the job has one (a shared state may ask to abort it by id). */
  readonly jobId?: string | undefined
}

/** Tracks running jobs. */
export class RunningJobs {
  readonly #jobs = new Set<AbortableJob>()
  #idle: Array<() => void> = []
  readonly #clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>

  constructor(options: { clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'> | undefined } = {}) {
    this.#clock = options.clock ?? systemClock
  }

  /** Registers a running job; the returned function unregisters it (idempotent). */
  add(job: AbortableJob): () => void {
    this.#jobs.add(job)
    return () => {
      if (!this.#jobs.delete(job)) return
      if (this.#jobs.size === 0) {
        const waiters = this.#idle
        this.#idle = []
        for (const resolve of waiters) resolve()
      }
    }
  }

  /** Number of running jobs. */
  get size(): number {
    return this.#jobs.size
  }

  /** Resolves when no job runs, or after `timeoutMs`, whichever comes first. */
  async idle(timeoutMs: number): Promise<void> {
    if (this.#jobs.size === 0) return
    await new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(resolve, timeoutMs)
      this.#idle.push(() => {
        this.#clock.clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Aborts the running job with this id (its slot lease was lost); O(running jobs), and rare. */
  abortJob(jobId: string, reason: Error): void {
    for (const job of this.#jobs) if (job.jobId === jobId) job.abort(reason)
  }

  /** Aborts every running job with `reason`. */
  abortAll(reason: Error): void {
    for (const job of this.#jobs) job.abort(reason)
  }
}
