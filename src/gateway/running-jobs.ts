/**
 * The jobs that hold an upstream slot right now, so that shutdown can wait for them (bounded)
 * and then abort the rest.
 * @module
 */

/** A running job as shutdown sees it. */
export interface AbortableJob {
  abort(reason: Error): void
}

/** Tracks running jobs. */
export class RunningJobs {
  readonly #jobs = new Set<AbortableJob>()
  #idle: Array<() => void> = []

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
      const timer = setTimeout(resolve, timeoutMs)
      this.#idle.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Aborts every running job with `reason`. */
  abortAll(reason: Error): void {
    for (const job of this.#jobs) job.abort(reason)
  }
}
