/**
 * Deadlines of running model calls (issue 12): the first byte of an answer (`ttfbTimeoutMs`, from
 * when the attempt went upstream), the gap between two events of a streamed answer
 * (`stallTimeoutMs`; a trickle of bytes that completes no event is a gap), and the whole call
 * (`maxDurationMs`, from its first attempt; 0: none).
 *
 * No timer per request: one interval on the injected clock sweeps the watched calls, every
 * quarter of the shortest deadline, and stops when nothing is watched. A call reports progress by
 * a counter it bumps for free; the sweep notes when the counter last moved, so a deadline passes
 * at most a quarter late and never early. Watching and unwatching a call is a Set add and delete.
 * @module
 */
import type { Clock, TimerHandle } from './clock.js'

/** Which deadline passed. */
export type Deadline = 'ttfb' | 'stall' | 'duration'

/** A call as the sweep sees it; the sweep keeps its own notes (`seen`, `seenAt`) on it. */
export interface WatchedCall {
  /** Monotonic time the current attempt went upstream. */
  attemptAt: number
  /** Monotonic time the call's first attempt went upstream. */
  startedAt: number
  /** The progress count at the last sweep, and when the sweep saw it move. */
  seen: number
  seenAt: number
  /** How far the answer got: 0 before its first byte, then a count that grows with each event. */
  progress(): number
  /** Whether gaps between events count now: a streamed answer whose client is not holding it back. */
  stalls(): boolean
  /** The deadline passed (called once per watch; the call is no longer watched). */
  expire(deadline: Deadline, afterMs: number): void
}

/** Options of {@link CallDeadlines}. */
export interface CallDeadlinesOptions {
  clock: Pick<Clock, 'monotonic' | 'setInterval' | 'clearInterval'>
  ttfbMs: number
  stallMs: number
  /** 0: no limit. */
  maxDurationMs: number
}

/** The shortest sweep interval, in ms (deadlines of a few ms are a test's business, not a server's). */
const MIN_SWEEP_MS = 5

/** Watches running calls' deadlines; see the module doc. */
export class CallDeadlines {
  readonly #clock: CallDeadlinesOptions['clock']
  readonly #ttfbMs: number
  readonly #stallMs: number
  readonly #maxDurationMs: number
  readonly #sweepMs: number
  readonly #watched = new Set<WatchedCall>()
  #interval: TimerHandle | undefined

  constructor(options: CallDeadlinesOptions) {
    this.#clock = options.clock
    this.#ttfbMs = options.ttfbMs
    this.#stallMs = options.stallMs
    this.#maxDurationMs = options.maxDurationMs
    const shortest = Math.min(options.ttfbMs, options.stallMs, options.maxDurationMs > 0 ? options.maxDurationMs : Number.POSITIVE_INFINITY)
    this.#sweepMs = Math.max(MIN_SWEEP_MS, Math.floor(shortest / 4))
  }

  /** Calls watched now. */
  get size(): number {
    return this.#watched.size
  }

  /** Watches `call` (again, after a new attempt: its `attemptAt` says when that went out). */
  watch(call: WatchedCall): void {
    call.seen = call.progress()
    call.seenAt = call.attemptAt
    this.#watched.add(call)
    if (this.#interval === undefined) this.#interval = this.#clock.setInterval(() => this.sweep(), this.#sweepMs)
  }

  /** Stops watching `call` (it ended). */
  unwatch(call: WatchedCall): void {
    this.#watched.delete(call)
  }

  /** One sweep (the interval's work; tests may call it). */
  sweep(): void {
    if (this.#watched.size === 0) {
      // Idle: no timer until the next call is watched.
      if (this.#interval !== undefined) this.#clock.clearInterval(this.#interval)
      this.#interval = undefined
      return
    }
    const now = this.#clock.monotonic()
    for (const call of this.#watched) {
      const progress = call.progress()
      if (progress !== call.seen) {
        call.seen = progress
        call.seenAt = now
      }
      let passed: Deadline | undefined
      let afterMs = 0
      if (this.#maxDurationMs > 0 && now - call.startedAt >= this.#maxDurationMs) {
        passed = 'duration'
        afterMs = this.#maxDurationMs
      } else if (progress === 0) {
        if (now - call.attemptAt >= this.#ttfbMs) {
          passed = 'ttfb'
          afterMs = this.#ttfbMs
        }
      } else if (!call.stalls()) {
        // Held back by its client (or not a stream): a gap is not the upstream's.
        call.seenAt = now
      } else if (now - call.seenAt >= this.#stallMs) {
        passed = 'stall'
        afterMs = this.#stallMs
      }
      if (passed === undefined) continue
      this.#watched.delete(call)
      call.expire(passed, afterMs)
    }
  }

  /** Stops the sweep and forgets every call. */
  close(): void {
    if (this.#interval !== undefined) this.#clock.clearInterval(this.#interval)
    this.#interval = undefined
    this.#watched.clear()
  }
}
