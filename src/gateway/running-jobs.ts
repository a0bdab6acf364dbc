/**
 * The jobs that hold an upstream slot right now, so that shutdown can wait for them (bounded)
 * and then abort the rest.
 * @module
 */

/** Tracks running jobs by their abort controllers. */
export class RunningJobs {
  readonly #jobs = new Set<AbortController>()
  #idle: Array<() => void> = []

  /** Registers a running job; the returned function unregisters it (idempotent). */
  add(controller: AbortController): () => void {
    this.#jobs.add(controller)
    return () => {
      if (!this.#jobs.delete(controller)) return
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
  abortAll(reason: unknown): void {
    for (const controller of this.#jobs) controller.abort(reason)
  }
}
