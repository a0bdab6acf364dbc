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
    expect(gaps.outlook(200_000)).toEqual({ probability: 0, remainingMs: Number.POSITIVE_INFINITY })
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
})
