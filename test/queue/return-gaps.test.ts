import { describe, expect, it } from 'vitest'
import { ReturnGaps } from '../../src/queue/return-gaps.js'

/** Ends `count` turns at `from`, `from + step`, …, and continues each `gap` ms after it ended. */
function teach(gaps: ReturnGaps, count: number, gap: number, from = 0, step = 1000): number {
  for (let index = 0; index < count; index++) {
    const endedAt = from + index * step
    gaps.ended(`t${from}-${index}`, endedAt)
    expect(gaps.arrived(['system', `t${from}-${index}`, 'answer', 'next'], endedAt + gap)).toBe(gap)
  }
  return from + count * step + gap
}

describe('ReturnGaps', () => {
  it('says nothing before it has seen enough returns', () => {
    const gaps = new ReturnGaps()
    teach(gaps, 7, 30_000)
    expect(gaps.outlook(0)).toBeUndefined()
    teach(gaps, 1, 30_000, 100_000)
    expect(gaps.outlook(0)).toBeDefined()
  })

  it('learns how long turns take to come back, and that a prompt idle past every gap is not coming back', () => {
    const gaps = new ReturnGaps()
    teach(gaps, 50, 30_000)
    const fresh = gaps.outlook(1000)!
    const late = gaps.outlook(28_000)!
    expect(fresh.probability).toBeGreaterThan(0.9)
    expect(fresh.remainingMs).toBeGreaterThan(late.remainingMs)
    expect(late.remainingMs).toBeLessThan(5000)
    expect(gaps.outlook(200_000)).toEqual({ probability: 0, remainingMs: Number.POSITIVE_INFINITY, beforeOverwrite: 0 })
  })

  it('counts turns never continued within the horizon, lowering the chance of a return', () => {
    const gaps = new ReturnGaps()
    let now = teach(gaps, 20, 10_000)
    const before = gaps.outlook(0)!.probability
    // Twenty more turns end and are never continued; the horizon (twice the largest gap, at least 1 min) passes.
    for (let index = 0; index < 20; index++) gaps.ended(`lost-${index}`, now + index)
    now += 120_000
    expect(gaps.arrived(['unrelated'], now)).toBeUndefined()
    expect(gaps.pending).toBe(0)
    const after = gaps.outlook(0)!.probability
    expect(after).toBeLessThan(before)
    expect(after).toBeGreaterThan(0.3)
    expect(after).toBeLessThan(0.7)
  })

  it('learns a gap once per ended turn, from the deepest hash that matches', () => {
    const gaps = new ReturnGaps()
    gaps.ended('a', 0)
    gaps.ended('a/b', 5)
    expect(gaps.arrived(['a', 'a/b', 'a/b/c'], 1005)).toBe(1000)
    expect(gaps.arrived(['a', 'a/b', 'a/b/c'], 2000)).toBe(2000)
    expect(gaps.arrived(['a', 'a/b', 'a/b/c'], 3000)).toBeUndefined()
  })

  it('keeps at most maxPending turns awaiting their continuation', () => {
    const gaps = new ReturnGaps({ maxPending: 3 })
    for (let index = 0; index < 10; index++) gaps.ended(`t${index}`, index)
    expect(gaps.pending).toBe(3)
    expect(gaps.arrived(['t0'], 20)).toBeUndefined()
    expect(gaps.arrived(['t9'], 20)).toBe(11)
    expect(() => new ReturnGaps({ maxPending: 0 })).toThrow(TypeError)
  })

  it('learns how often a conversation of each depth goes on: one that always ends at its third turn is not expected back', () => {
    const gaps = new ReturnGaps()
    let now = 0
    // Thirty conversations: turns 1 and 2 are continued 10 s after they end, turn 3 never is.
    for (let conversation = 0; conversation < 30; conversation++) {
      for (let turn = 1; turn <= 3; turn++) {
        gaps.ended(`c${conversation}/${turn}`, now, turn)
        now += 10_000
        if (turn < 3) expect(gaps.arrived([`c${conversation}/${turn}`, `c${conversation}/${turn + 1}`], now)).toBe(10_000)
      }
    }
    // The horizon (1 min here) passes for the last conversation's third turn.
    gaps.arrived(['unrelated'], now + 120_000)
    const second = gaps.outlook(1000, 2)!
    const third = gaps.outlook(1000, 3)!
    expect(second.probability).toBeGreaterThan(0.85)
    expect(third.probability).toBeLessThan(0.15)
    // A depth never seen, or unknown, takes the overall share (two of three turns continued).
    expect(gaps.outlook(1000, 7)!.probability).toBeCloseTo(gaps.outlook(1000)!.probability, 5)
    expect(gaps.outlook(1000)!.probability).toBeGreaterThan(0.55)
    expect(gaps.outlook(1000)!.probability).toBeLessThan(0.75)
  })

  it('gives the chance that a return beats the next overwrite, from the gaps still ahead', () => {
    const gaps = new ReturnGaps()
    teach(gaps, 50, 30_000)
    // Without keepMs the factor is 1; a return about 29 s away against overwrites every 10 s on average: e^(-2.9).
    expect(gaps.outlook(1000)!.beforeOverwrite).toBe(1)
    const soon = gaps.outlook(28_000, undefined, 10_000)!
    const far = gaps.outlook(1000, undefined, 10_000)!
    expect(far.beforeOverwrite).toBeGreaterThan(Math.exp(-3.5))
    expect(far.beforeOverwrite).toBeLessThan(Math.exp(-2.5))
    expect(soon.beforeOverwrite).toBeGreaterThan(0.7)
  })

  it('says how soon turns come back when they come back within milliseconds, and nothing when people think first', () => {
    const quick = new ReturnGaps()
    teach(quick, 20, 3)
    const answer = quick.quickReturn(2, 100)!
    expect(answer.gapMs).toBeGreaterThanOrEqual(3)
    expect(answer.gapMs).toBeLessThan(5)
    expect(answer.probability).toBeGreaterThan(0.9)
    const slow = new ReturnGaps()
    teach(slow, 20, 30_000)
    expect(slow.quickReturn(2, 100)).toBeUndefined()
    // Before enough returns were seen: nothing.
    const fresh = new ReturnGaps()
    teach(fresh, 3, 3)
    expect(fresh.quickReturn(2, 100)).toBeUndefined()
  })
})
