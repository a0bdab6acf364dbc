/**
 * A job's excluded upstreams (issue 12's retries): the gateway retries a job that failed on one
 * upstream elsewhere, and the scheduler must never route it back there: not by least load, not by
 * its sticky home, not by stealing when a slot frees.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { UnavailableError } from '../../src/errors.js'
import { QueueScheduler } from '../../src/queue/queue-scheduler.js'
import type { Lease, SchedulerUpstream } from '../../src/queue/queue-scheduler.js'
import { createFakeTime } from './fake-time.js'

const open: QueueScheduler[] = []
afterEach(() => {
  for (const scheduler of open.splice(0)) scheduler.close()
})

function scheduler(upstreams: SchedulerUpstream[], stickyMaxImbalance = 2): QueueScheduler {
  const time = createFakeTime()
  const created = new QueueScheduler({ upstreams, stickyMaxImbalance, now: time.now, _internal: { setTimeout: time.setTimeout, clearTimeout: time.clearTimeout } })
  open.push(created)
  return created
}

describe('QueueScheduler: excluded upstreams', () => {
  it('routes a job away from the upstreams it excludes, even when they are the least loaded', async () => {
    const queue = scheduler([{ id: 'a', slots: 1 }, { id: 'b', slots: 4 }])
    // b is busier than a, so without the exclusion the job would go to a.
    await queue.acquire({ id: 'b1' })
    await queue.acquire({ id: 'b2' })
    const lease = await queue.acquire({ id: 'retry', excluded: new Set(['a']) })
    expect(lease.upstream).toBe('b')
  })

  it('does not send a job back to its sticky home when it excludes it', async () => {
    const queue = scheduler([{ id: 'a', slots: 2 }, { id: 'b', slots: 2 }])
    const first = await queue.acquire({ id: 'turn1', threadKey: 'chat' })
    first.release()
    const again = await queue.acquire({ id: 'turn2', threadKey: 'chat', excluded: new Set([first.upstream]) })
    expect(again.upstream).not.toBe(first.upstream)
  })

  it('a freed slot on an excluded upstream passes over the job; the next slot elsewhere takes it', async () => {
    const queue = scheduler([{ id: 'a', slots: 1 }, { id: 'b', slots: 1 }], 0)
    const onA = await queue.acquire({ id: 'on-a' })
    const onB = await queue.acquire({ id: 'on-b' })
    expect([onA.upstream, onB.upstream].sort()).toEqual(['a', 'b'])
    const waiting = queue.acquire({ id: 'retry', excluded: new Set([onA.upstream]) })
    let granted: Lease | undefined
    void waiting.then((lease) => (granted = lease))
    onA.release()
    await Promise.resolve()
    expect(granted).toBeUndefined()
    expect(queue.status('retry')).toBe('queued')
    onB.release()
    expect((await waiting).upstream).toBe(onB.upstream)
  })

  it('rejects with no_upstream when every upstream serving the model is excluded', async () => {
    const queue = scheduler([{ id: 'a', slots: 1, models: ['m'] }, { id: 'b', slots: 1, models: ['other'] }])
    const error = await queue.acquire({ id: 'retry', model: 'm', excluded: new Set(['a']) }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UnavailableError)
    expect(error).toMatchObject({ code: 'no_upstream' })
    expect(queue.snapshot()).toMatchObject({ queued: 0, running: 0 })
  })

  it('an empty exclusion changes nothing', async () => {
    const queue = scheduler([{ id: 'a', slots: 1 }])
    expect((await queue.acquire({ id: 'job', excluded: new Set() })).upstream).toBe('a')
  })
})
