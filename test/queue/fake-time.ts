/**
 * An injected clock with manual timers for scheduler tests: `advance(ms)` moves time and fires due timers in order.
 * @module
 */

interface FakeTimer {
  at: number
  callback: () => void
}

/** A clock and timer seam driven by hand. */
export interface FakeTime {
  now: () => number
  setTimeout: (callback: () => void, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
  /** Moves the clock forward, firing due timers in time order. */
  advance: (ms: number) => void
  /** Number of armed timers. */
  readonly pending: number
}

/** A fake clock starting at `start` ms. */
export function createFakeTime(start = 1_000_000): FakeTime {
  let now = start
  let nextId = 1
  const timers = new Map<number, FakeTimer>()
  return {
    now: () => now,
    setTimeout: (callback, ms) => {
      const id = nextId++
      timers.set(id, { at: now + Math.max(0, ms), callback })
      return id
    },
    clearTimeout: (handle) => {
      timers.delete(handle as number)
    },
    advance: (ms) => {
      const target = now + ms
      // Bounded: each timer fires once; new timers armed by callbacks count too, up to a generous cap.
      for (let fired = 0; fired < 100_000; fired++) {
        let dueId: number | undefined
        let due: FakeTimer | undefined
        for (const [id, timer] of timers) if (timer.at <= target && (due === undefined || timer.at < due.at)) [dueId, due] = [id, timer]
        if (due === undefined || dueId === undefined) break
        timers.delete(dueId)
        now = due.at
        due.callback()
      }
      now = target
    },
    get pending() {
      return timers.size
    },
  }
}
