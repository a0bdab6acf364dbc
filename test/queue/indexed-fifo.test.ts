import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { IndexedFifo } from '../../src/queue/indexed-fifo.js'

interface Item {
  id: number
  fifoOrdinal: number
  seq: number
  enqueuedAt: number
}

const item = (id: number, enqueuedAt = id): Item => ({ id, fifoOrdinal: -1, seq: id, enqueuedAt })

describe('IndexedFifo', () => {
  it('keeps FIFO order, deletes from the middle and counts ranks', () => {
    const fifo = new IndexedFifo<Item>()
    const items = Array.from({ length: 40 }, (_, id) => item(id, id * 10))
    for (const entry of items) fifo.push(entry)
    expect(fifo.delete(items[5] as Item)).toBe(true)
    expect(fifo.delete(items[5] as Item)).toBe(false)
    expect(fifo.countBefore(items[10] as Item)).toBe(9)
    expect(fifo.countBelow(10)).toBe(9)
    expect(fifo.countBelow(10, 30)).toBe(4)
    expect(fifo.shift()?.id).toBe(0)
    expect(fifo.size).toBe(38)
    expect([...fifo].map((item) => item.id).slice(0, 5)).toEqual([1, 2, 3, 4, 6])
  })

  it('agrees with an array model under random push/shift/delete (including ring wrap, growth and compaction)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('push', 'push', 'push', 'shift', 'delete'), fc.nat(1000)), { maxLength: 400, size: 'max' }), (ops) => {
        const fifo = new IndexedFifo<Item>()
        const model: Item[] = []
        let next = 0
        for (const [op, pick] of ops) {
          if (op === 'push') {
            const entry = item(next++)
            fifo.push(entry)
            model.push(entry)
          } else if (op === 'shift') {
            expect(fifo.shift()).toBe(model.shift())
          } else if (model.length > 0) {
            const [entry] = model.splice(pick % model.length, 1)
            expect(fifo.delete(entry as Item)).toBe(true)
          }
          expect(fifo.size).toBe(model.length)
          expect(fifo.peek()).toBe(model[0])
          if (model.length > 0) {
            const index = pick % model.length
            const entry = model[index] as Item
            expect(fifo.countBefore(entry)).toBe(index)
            expect(fifo.countBelow(entry.id)).toBe(index)
            expect(fifo.countBelow(entry.id + 1, (model[0] as Item).id)).toBe(Math.min(index + 1, 1))
          }
        }
        expect([...fifo]).toEqual(model)
      }),
      { numRuns: 300 },
    )
  })
})
