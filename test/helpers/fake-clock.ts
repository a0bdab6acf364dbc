/**
 * A gateway {@link Clock} driven by hand (the scheduler's fake time, plus intervals and a wall
 * clock): `advance(ms)` moves both clocks and fires due timers in order. Pass it as
 * `_internal.clock`, or to a piece that takes a clock.
 * @module
 */
import type { Clock } from '../../src/gateway/clock.js'
import { createFakeTime } from '../queue/fake-time.js'

/** A clock whose time moves only with `advance`. */
export interface FakeClock extends Clock {
  advance(ms: number): void
  /** Armed timers and intervals. */
  readonly pending: number
}

/** A fake clock; wall time starts at `start` ms since the epoch. */
export function createFakeClock(start = Date.UTC(2026, 11, 4)): FakeClock {
  const time = createFakeTime(start)
  const intervals = new Map<number, unknown>()
  let nextInterval = 1
  return {
    now: time.now,
    monotonic: time.now,
    setTimeout: time.setTimeout,
    clearTimeout: time.clearTimeout,
    setInterval(callback, ms) {
      const id = nextInterval++
      const arm = (): void => {
        intervals.set(
          id,
          time.setTimeout(() => {
            arm()
            callback()
          }, ms),
        )
      }
      arm()
      return id
    },
    clearInterval(handle) {
      time.clearTimeout(intervals.get(handle as number))
      intervals.delete(handle as number)
    },
    advance: time.advance,
    get pending() {
      return time.pending
    },
  }
}
