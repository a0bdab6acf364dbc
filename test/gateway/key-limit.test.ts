import { describe, expect, it } from 'vitest'
import { KeyLimit } from '../../src/gateway/key-limit.js'

describe('KeyLimit', () => {
  it('admits up to maxRunning at once, then in arrival order as requests end', async () => {
    const limit = new KeyLimit(2)
    expect(limit.enter()).toBeUndefined()
    expect(limit.enter()).toBeUndefined()
    const order: string[] = []
    const third = limit.enter()!.then(() => order.push('third'))
    const fourth = limit.enter()!.then(() => order.push('fourth'))
    expect(limit.waiting).toBe(2)
    limit.exit()
    await third
    expect(order).toEqual(['third'])
    expect(limit.running).toBe(2)
    limit.exit()
    await fourth
    expect(order).toEqual(['third', 'fourth'])
    limit.exit()
    limit.exit()
    expect(limit.running).toBe(0)
    // An exit too many changes nothing.
    limit.exit()
    expect(limit.running).toBe(0)
  })

  it('a waiter whose signal aborts leaves the line, and is not admitted later', async () => {
    const limit = new KeyLimit(1)
    limit.enter()
    const controller = new AbortController()
    const leaving = limit.enter(controller.signal)!
    const staying = limit.enter()!
    controller.abort()
    await expect(leaving).rejects.toMatchObject({ code: 'aborted' })
    limit.exit()
    await staying
    expect(limit.running).toBe(1)
    expect(limit.waiting).toBe(0)
    const aborted = new AbortController()
    aborted.abort()
    await expect(limit.enter(aborted.signal)).rejects.toBeDefined()
  })
})
