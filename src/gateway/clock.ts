/**
 * Time, injected: every piece of the gateway that reads the time or sets a timer takes it from
 * one {@link Clock}, so tests of cooldowns, notices, deadlines and caches advance a fake clock
 * instead of sleeping. The real one reads `Date.now()` and `performance.now()` and sets
 * unref'd timers (a pending timer of the gateway never keeps a process alive).
 * @module
 */

/** An opaque timer handle. */
export type TimerHandle = unknown

/** The time and timers the gateway uses. */
export interface Clock {
  /** Wall-clock time in ms since the epoch (job records, `created` fields). */
  now(): number
  /** Monotonic time in ms, for durations and the scheduler (never goes back). */
  monotonic(): number
  /** Calls `callback` once after `ms`. */
  setTimeout(callback: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
  /** Calls `callback` every `ms` until cleared. */
  setInterval(callback: () => void, ms: number): TimerHandle
  clearInterval(handle: TimerHandle): void
}

function unref(handle: ReturnType<typeof globalThis.setTimeout>): TimerHandle {
  ;(handle as { unref?: () => void }).unref?.()
  return handle
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (callback, ms) => unref(globalThis.setTimeout(callback, ms)),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
  setInterval: (callback, ms) => unref(globalThis.setInterval(callback, ms)),
  clearInterval: (handle) => globalThis.clearInterval(handle as ReturnType<typeof globalThis.setInterval>),
}

/** A clock whose `now` (and, unless given, `monotonic`) is `now`, with the real timers: the `_internal.now` seam. */
export function clockWith(overrides: Partial<Clock>): Clock {
  const now = overrides.now ?? systemClock.now
  return {
    ...systemClock,
    monotonic: overrides.now !== undefined && overrides.monotonic === undefined ? now : systemClock.monotonic,
    ...overrides,
    now,
  }
}

/** Resolves with the promise's value if it settles within `ms` on the clock, else undefined (rejections pass through). */
export async function within<T>(clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>, promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: unknown
  const timeout = new Promise<undefined>((resolve) => {
    timer = clock.setTimeout(() => resolve(undefined), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clock.clearTimeout(timer)
  }
}
