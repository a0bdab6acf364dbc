/**
 * Passive health: an upstream that cannot be reached is taken out of rotation for a cooldown,
 * as long as another upstream is healthy (the gateway never benches every upstream on its own;
 * with all of them down, requests keep trying and get 502). After the cooldown the next job
 * tries it again.
 * @module
 */
import type { QueueScheduler } from '../queue/queue-scheduler.js'
import { systemClock } from './clock.js'
import type { Clock, TimerHandle } from './clock.js'

/** Options of {@link UpstreamHealth}. */
export interface UpstreamHealthOptions {
  /** How long an unreachable upstream stays out of rotation. */
  cooldownMs: number
  /** Called when an upstream goes down or comes back. */
  onChange?: ((upstream: string, healthy: boolean) => void) | undefined
  /** Timers. @default the real clock */
  clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'> | undefined
  /** Whether an upstream serves a model (undefined model: any upstream does). @default every upstream serves every model */
  serves?: ((upstream: string, model: string | undefined) => boolean) | undefined
}

/** Marks unreachable upstreams unhealthy in the scheduler for a while. */
export class UpstreamHealth {
  readonly #scheduler: QueueScheduler
  readonly #cooldownMs: number
  readonly #onChange: ((upstream: string, healthy: boolean) => void) | undefined
  readonly #timers = new Map<string, TimerHandle>()
  readonly #clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>
  readonly #serves: (upstream: string, model: string | undefined) => boolean

  constructor(scheduler: QueueScheduler, options: UpstreamHealthOptions) {
    this.#scheduler = scheduler
    this.#cooldownMs = options.cooldownMs
    this.#onChange = options.onChange
    this.#serves = options.serves ?? (() => true)
    this.#clock = options.clock ?? systemClock
  }

  /**
   * Takes `upstream` out of rotation for the cooldown, unless no other healthy upstream serves
   * `model` (then the job's client gets the 502 at once rather than wait for the cooldown).
   * True when it did (the caller may then run the job elsewhere).
   */
  markDown(upstream: string, model?: string | undefined): boolean {
    const states = this.#scheduler.snapshot().upstreams
    if (!states.some((state) => state.id !== upstream && state.healthy && this.#serves(state.id, model))) return false
    if (this.#timers.has(upstream)) return true
    this.#scheduler.setHealthy(upstream, false)
    this.#onChange?.(upstream, false)
    // (The real clock's timers are unref'd: a pending cooldown does not keep the process alive.)
    const timer = this.#clock.setTimeout(() => {
      this.#timers.delete(upstream)
      this.#scheduler.setHealthy(upstream, true)
      this.#onChange?.(upstream, true)
    }, this.#cooldownMs)
    this.#timers.set(upstream, timer)
    return true
  }

  /** Cancels every cooldown. */
  close(): void {
    for (const timer of this.#timers.values()) this.#clock.clearTimeout(timer)
    this.#timers.clear()
  }
}
