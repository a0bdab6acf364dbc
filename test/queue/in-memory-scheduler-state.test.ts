import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InMemorySlotTable } from '../../src/queue/in-memory-scheduler-state.js'

/** The table's contract written the obvious way: a scan for the coldest free slot. */
class ScanSlotTable {
  readonly busy: boolean[]
  readonly lastUsed: number[]

  constructor(
    slots: number,
    private readonly now: () => number,
  ) {
    this.busy = Array.from({ length: slots }, () => false)
    this.lastUsed = Array.from({ length: slots }, () => Number.NEGATIVE_INFINITY)
  }

  coldest(): number | undefined {
    let best: number | undefined
    for (let slot = 0; slot < this.busy.length; slot++) {
      if (!this.busy[slot] && (best === undefined || this.lastUsed[slot]! < this.lastUsed[best]!)) best = slot
    }
    return best
  }

  claim(preferred: number | undefined): number | undefined {
    const slot = preferred !== undefined && preferred >= 0 && preferred < this.busy.length && !this.busy[preferred] ? preferred : this.coldest()
    if (slot === undefined) return undefined
    this.busy[slot] = true
    this.lastUsed[slot] = this.now()
    return slot
  }

  free(slot: number): void {
    if (!this.busy[slot]) return
    this.busy[slot] = false
    this.lastUsed[slot] = this.now()
  }
}

type Op = { op: 'claim'; preferred: number | undefined } | { op: 'free'; slot: number } | { op: 'tick'; ms: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('claim' as const), preferred: fc.option(fc.integer({ min: -1, max: 9 }), { nil: undefined }) }),
  fc.record({ op: fc.constant('free' as const), slot: fc.integer({ min: 0, max: 8 }) }),
  // 0 ms often: ties in last use must go to the lower slot, as the scan does.
  fc.record({ op: fc.constant('tick' as const), ms: fc.constantFrom(0, 0, 1, 5) }),
)

describe('InMemorySlotTable', () => {
  it('claims the coldest free slot (ties to the lower index) or the preferred free one, like a scan would', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 200 }), (slots, ops) => {
        let time = 0
        const now = (): number => time
        const table = new InMemorySlotTable({ now })
        table.define('u', slots)
        const reference = new ScanSlotTable(slots, now)
        for (const step of ops) {
          if (step.op === 'tick') time += step.ms
          else if (step.op === 'claim') expect(table.claim('u', step.preferred)).toBe(reference.claim(step.preferred))
          else if (step.slot < slots) {
            table.free('u', step.slot)
            reference.free(step.slot)
          }
          expect(table.running('u')).toBe(reference.busy.filter(Boolean).length)
          const coldest = reference.coldest()
          expect(table.coldestFree('u')).toBe(coldest === undefined ? undefined : reference.lastUsed[coldest])
        }
      }),
      { numRuns: 300 },
    )
  })

  it('never hands out a busy slot, and says so when all are busy', () => {
    const table = new InMemorySlotTable({ now: () => 0 })
    table.define('u', 3)
    expect([table.claim('u', undefined), table.claim('u', 0), table.claim('u', 2)]).toEqual([0, 1, 2])
    expect(table.claim('u', undefined)).toBeUndefined()
    expect(table.coldestFree('u')).toBeUndefined()
    table.free('u', 1)
    table.free('u', 1)
    expect(table.running('u')).toBe(2)
    expect(table.claim('u', 0)).toBe(1)
  })

  it('throws for an upstream it does not know', () => {
    expect(() => new InMemorySlotTable().claim('nope', undefined)).toThrow(/Unknown upstream "nope"/)
  })
})
