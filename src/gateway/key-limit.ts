/**
 * A gateway key's `maxRunning`: at most that many of the key's requests hold an upstream slot at
 * once. The others wait here, in arrival order, before they enter the scheduler's queue, so every
 * other client's jobs go first meanwhile; when one of the key's requests ends, its next waiting one
 * enters the queue. Counted per client request (from its admission to its end, whatever failovers
 * it goes through), not per upstream lease.
 * @module
 */
import { AbortError } from '../errors.js'

interface Waiter {
  resolve: () => void
  reject: (error: unknown) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

/** The running count and waiting requests of one key. */
export class KeyLimit {
  readonly maxRunning: number
  #running = 0
  /** FIFO: a Set iterates in insertion order and deletes an aborted waiter in O(1). */
  readonly #waiting = new Set<Waiter>()

  constructor(maxRunning: number) {
    this.maxRunning = maxRunning
  }

  /** Requests of the key admitted and not yet ended. */
  get running(): number {
    return this.#running
  }

  /** Requests of the key waiting for admission. */
  get waiting(): number {
    return this.#waiting.size
  }

  /**
   * Admits a request: `undefined` when it is admitted at once, else a promise that resolves when
   * it is (or rejects with an `AbortError` when `signal` aborts first). Each admission is ended
   * by exactly one {@link exit}.
   */
  enter(signal?: AbortSignal): Promise<void> | undefined {
    if (this.#running < this.maxRunning && this.#waiting.size === 0) {
      this.#running++
      return undefined
    }
    if (signal?.aborted === true) return Promise.reject(new AbortError(undefined, signal.reason))
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined }
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#waiting.delete(waiter)
          reject(new AbortError(undefined, signal.reason))
        }
        signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      this.#waiting.add(waiter)
    })
  }

  /** An admitted request ended: the next waiting one is admitted. */
  exit(): void {
    if (this.#running === 0) return
    this.#running--
    for (const waiter of this.#waiting) {
      this.#waiting.delete(waiter)
      if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort)
      this.#running++
      waiter.resolve()
      return
    }
  }
}
