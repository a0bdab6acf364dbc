/** The deadline sweep (issue 12) on a fake clock: when each deadline passes, what holds it back, and that it costs no timer while idle. */
import { describe, expect, it } from 'vitest'
import { CallDeadlines } from '../../src/gateway/call-deadlines.js'
import type { Deadline, WatchedCall } from '../../src/gateway/call-deadlines.js'
import { createFakeClock } from '../helpers/fake-clock.js'

function call(clock: { monotonic(): number }, options: { stream?: boolean } = {}) {
  const expired: Array<[Deadline, number, number]> = []
  const watched: WatchedCall & { events: number; blocked: boolean; expired: typeof expired } = {
    attemptAt: clock.monotonic(),
    startedAt: clock.monotonic(),
    seen: 0,
    seenAt: 0,
    events: 0,
    blocked: false,
    expired,
    progress: () => watched.events,
    stalls: () => options.stream !== false && !watched.blocked,
    expire: (deadline, afterMs) => expired.push([deadline, afterMs, clock.monotonic()]),
  }
  return watched
}

describe('CallDeadlines', () => {
  it('first byte: passes no earlier than ttfbMs after the attempt, at most a quarter later', () => {
    const clock = createFakeClock()
    const deadlines = new CallDeadlines({ clock, ttfbMs: 1000, stallMs: 2000, maxDurationMs: 0 })
    const start = clock.monotonic()
    const watched = call(clock)
    deadlines.watch(watched)
    clock.advance(999)
    expect(watched.expired).toEqual([])
    clock.advance(250)
    expect(watched.expired).toHaveLength(1)
    expect(watched.expired[0]?.slice(0, 2)).toEqual(['ttfb', 1000])
    expect((watched.expired[0]?.[2] ?? 0) - start).toBeLessThanOrEqual(1250)
    expect(deadlines.size).toBe(0)
  })

  it('stall: events keep it alive; a gap of stallMs ends it; a client holding the answer back does not', () => {
    const clock = createFakeClock()
    const deadlines = new CallDeadlines({ clock, ttfbMs: 1000, stallMs: 400, maxDurationMs: 0 })
    const watched = call(clock)
    deadlines.watch(watched)
    for (let i = 0; i < 20; i++) {
      watched.events += 1
      clock.advance(100)
    }
    expect(watched.expired).toEqual([])
    watched.blocked = true
    clock.advance(5000)
    expect(watched.expired).toEqual([])
    watched.blocked = false
    clock.advance(399)
    expect(watched.expired).toEqual([])
    clock.advance(200)
    expect(watched.expired.map(([deadline]) => deadline)).toEqual(['stall'])
  })

  it('a non-streamed answer is not stalled after its headers; maxDurationMs still ends it', () => {
    const clock = createFakeClock()
    const deadlines = new CallDeadlines({ clock, ttfbMs: 1000, stallMs: 100, maxDurationMs: 3000 })
    const watched = call(clock, { stream: false })
    deadlines.watch(watched)
    watched.events = 1
    clock.advance(2900)
    expect(watched.expired).toEqual([])
    clock.advance(1000)
    expect(watched.expired.map(([deadline, afterMs]) => [deadline, afterMs])).toEqual([['duration', 3000]])
  })

  it('holds no timer while nothing is watched', () => {
    const clock = createFakeClock()
    const deadlines = new CallDeadlines({ clock, ttfbMs: 1000, stallMs: 1000, maxDurationMs: 0 })
    expect(clock.pending).toBe(0)
    const watched = call(clock)
    deadlines.watch(watched)
    expect(clock.pending).toBe(1)
    deadlines.unwatch(watched)
    clock.advance(1000)
    expect(clock.pending).toBe(0)
    expect(watched.expired).toEqual([])
  })
})
