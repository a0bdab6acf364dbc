import { getEventListeners } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { UnavailableError } from '../../src/errors.js'
import { QueueScheduler } from '../../src/queue/queue-scheduler.js'
import type { JobRequest, Lease, QueueSchedulerEvents, QueueSchedulerOptions, SchedulerUpstream } from '../../src/queue/queue-scheduler.js'
import { createFakeTime } from './fake-time.js'

const open: QueueScheduler[] = []

afterEach(() => {
  for (const scheduler of open.splice(0)) scheduler.close()
})

function setup(upstreams: SchedulerUpstream[], options: Omit<QueueSchedulerOptions, 'upstreams'> = {}) {
  const time = createFakeTime()
  const scheduler = new QueueScheduler({ upstreams, now: time.now, _internal: { setTimeout: time.setTimeout, clearTimeout: time.clearTimeout }, ...options })
  open.push(scheduler)
  /** Every event, as `name:jobId@upstream` (or `:reason` for drops). */
  const events: string[] = []
  scheduler.on('job-queued', (event) => events.push(`queued:${event.jobId}@${event.upstream}`))
  scheduler.on('job-start', (event) => events.push(`start:${event.jobId}@${event.upstream}`))
  scheduler.on('job-end', (event) => events.push(`end:${event.jobId}@${event.upstream}`))
  scheduler.on('job-dropped', (event) => events.push(`dropped:${event.jobId}:${event.reason}`))
  const starts: Array<QueueSchedulerEvents['job-start']> = []
  scheduler.on('job-start', (event) => starts.push(event))
  const pending = new Map<string, Promise<Lease>>()
  const acquire = (job: JobRequest, signal?: AbortSignal) => {
    const promise = scheduler.acquire(job, { signal })
    promise.catch(() => {})
    pending.set(job.id, promise)
    return promise
  }
  const release = async (id: string) => {
    expect(scheduler.status(id)).toBe('running')
    ;((await pending.get(id)) as Lease).release()
  }
  const started = () => starts.map((event) => event.jobId)
  const startOf = (id: string) => starts.find((event) => event.jobId === id)
  const positions = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, scheduler.position(id)]))
  return { time, scheduler, events, acquire, release, started, startOf, positions }
}

describe('QueueScheduler.setUpstreamModels', () => {
  it('lets a job waiting behind a full restricted upstream start at once on an upstream that starts listing its model', async () => {
    const { acquire, scheduler, startOf } = setup([
      { id: 'r', slots: 1, models: ['m'] },
      { id: 's', slots: 1, models: ['n'] },
    ])
    await acquire({ id: 'busy', model: 'm' })
    const waiting = acquire({ id: 'j', model: 'm' })
    expect(scheduler.position('j')?.upstream).toBe('r')
    scheduler.setUpstreamModels('s', ['n', 'm'])
    expect(scheduler.status('j')).toBe('running')
    expect((await waiting).upstream).toBe('s')
    expect(startOf('j')).toMatchObject({ upstream: 's', waitedMs: 0 })
  })

  it('moves a job whose model becomes restricted to an upstream that now lists it, and starts it there', async () => {
    // Before: no list names m, so only the unrestricted upstream u may take it (lane key "other").
    const { acquire, scheduler, events } = setup([
      { id: 'u', slots: 1 },
      { id: 's', slots: 1, models: ['n'] },
    ])
    await acquire({ id: 'busy', model: 'z' })
    const waiting = acquire({ id: 'j', model: 'm' })
    expect(scheduler.position('j')?.upstream).toBe('u')
    events.length = 0
    scheduler.setUpstreamModels('s', ['m', 'n'])
    expect((await waiting).upstream).toBe('s')
    expect(events).toEqual(['start:j@s'])
    expect(scheduler.snapshot()).toMatchObject({ queued: 0, running: 2 })
  })

  it('rejects a waiting job no upstream serves any more with no_upstream and disarms its signal and timer; running jobs stay', async () => {
    const { acquire, release, scheduler, events, time, started } = setup([{ id: 'r', slots: 1, models: ['m'] }], { maxWaitMs: 60_000 })
    await acquire({ id: 'running', model: 'm' })
    const controller = new AbortController()
    const orphan = acquire({ id: 'j', model: 'm' }, controller.signal)
    acquire({ id: 'anything' }) // no model: every upstream may take it
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    expect(time.pending).toBe(2)
    events.length = 0
    scheduler.setUpstreamModels('r', ['other'])
    await expect(orphan).rejects.toBeInstanceOf(UnavailableError)
    await expect(orphan).rejects.toMatchObject({ status: 503, code: 'no_upstream' })
    expect(events).toEqual(['dropped:j:no_upstream'])
    expect(scheduler.status('j')).toBeUndefined()
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    expect(time.pending).toBe(1)
    expect(scheduler.snapshot()).toMatchObject({ queued: 1, running: 1 })
    controller.abort()
    time.advance(60_000 - 1)
    expect(events).toEqual(['dropped:j:no_upstream'])
    // The running job keeps its lease; its release starts the next job on the same upstream.
    expect(scheduler.status('running')).toBe('running')
    await release('running')
    expect(started()).toEqual(['running', 'anything'])
    await expect(acquire({ id: 'later', model: 'm' })).rejects.toMatchObject({ code: 'no_upstream' })
  })

  it('keeps FIFO within a class across a re-route: moved jobs merge by arrival into a lane holding younger ones', async () => {
    const { acquire, release, scheduler, started, positions, time } = setup(
      [
        { id: 'x', slots: 1, models: ['a'] },
        { id: 'y', slots: 1, models: ['b'] },
      ],
      { maxWaitMs: 60_000 },
    )
    await acquire({ id: 'rx', model: 'a' })
    await acquire({ id: 'ry', model: 'b' })
    const controller = new AbortController()
    acquire({ id: 'j1', model: 'a' })
    acquire({ id: 'j2', model: 'b' })
    acquire({ id: 'j3', model: 'a' }, controller.signal)
    acquire({ id: 'j4', model: 'b' })
    acquire({ id: 'b5', model: 'a', class: 'batch' })
    acquire({ id: 'j6', model: 'a' })
    scheduler.setUpstreamModels('y', ['a', 'b'])
    // 'a' stays restricted and x still serves it: nothing moves.
    expect(Object.values(positions(['j1', 'j3', 'b5', 'j6'])).map((position) => position?.upstream)).toEqual(['x', 'x', 'x', 'x'])
    acquire({ id: 'j7', model: 'a' }) // x: 1 + 4 per slot, y: 1 + 2: y
    expect(scheduler.position('j7')?.upstream).toBe('y')
    scheduler.setUpstreamModels('x', ['c'])
    const order = ['j1', 'j2', 'j3', 'j4', 'j6', 'j7', 'b5']
    expect(Object.values(positions(order)).map((position) => [position?.upstream, position?.position])).toEqual(order.map((_, index) => ['y', index + 1]))
    // The moved jobs kept their timers and abort listeners.
    expect(time.pending).toBe(7)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    controller.abort()
    expect(scheduler.position('j4')?.position).toBe(3)
    expect(scheduler.status('rx')).toBe('running') // running jobs are not touched
    await release('rx')
    for (const id of ['ry', 'j1', 'j2', 'j4', 'j6', 'j7']) await release(id)
    expect(started()).toEqual(['rx', 'ry', 'j1', 'j2', 'j4', 'j6', 'j7', 'b5'])
    expect(time.pending).toBe(0)
  })

  it('keeps a moved job bound to its warm upstream when that one still serves it', async () => {
    const { acquire, release, scheduler, startOf } = setup([
      { id: 'h', slots: 1 },
      { id: 'o', slots: 1 },
    ])
    await acquire({ id: 'a1', threadKey: 'A', model: 'm' })
    const home = startOf('a1')?.upstream as string
    const other = home === 'h' ? 'o' : 'h'
    await acquire({ id: 'busy', model: 'm' })
    expect(startOf('busy')?.upstream).toBe(other)
    acquire({ id: 'a2', threadKey: 'A', model: 'm' })
    expect(scheduler.position('a2')?.upstream).toBe(home)
    // m becomes restricted (its lane key changes), the other upstream lists it, the home one serves anything.
    scheduler.setUpstreamModels(other, ['m'])
    expect(scheduler.position('a2')?.upstream).toBe(home)
    await release('busy')
    // Still waiting for its warm slot, not stolen by the idle upstream (load 2 - 1 vs 0 is within 2).
    expect(scheduler.status('a2')).toBe('queued')
    await release('a1')
    expect(startOf('a2')).toMatchObject({ upstream: home, stickyHit: true })
  })

  it('changes nothing for a list equal to the current one: no events, same positions', async () => {
    const { acquire, scheduler, events, positions } = setup([
      { id: 'x', slots: 1 },
      { id: 'y', slots: 1, models: ['a', 'b'] },
    ])
    await acquire({ id: 'rx', model: 'c' })
    await acquire({ id: 'ry', model: 'a' })
    for (const [id, model] of [['w1', 'a'], ['w2', 'c'], ['w3', 'b'], ['w4', undefined]] as const) acquire({ id, model })
    const ids = ['w1', 'w2', 'w3', 'w4']
    const before = { positions: positions(ids), snapshot: scheduler.snapshot() }
    events.length = 0
    scheduler.setUpstreamModels('y', ['b', 'a', 'b'])
    scheduler.setUpstreamModels('y', ['a', 'b'])
    scheduler.setUpstreamModels('x', undefined)
    expect(events).toEqual([])
    expect({ positions: positions(ids), snapshot: scheduler.snapshot() }).toEqual(before)
    expect(scheduler.snapshot().upstreams.map((upstream) => upstream.models)).toEqual([undefined, ['a', 'b']])
  })

  it('treats an empty list as the constructor does: only jobs with no model', async () => {
    const { acquire, scheduler } = setup([{ id: 'x', slots: 1 }])
    await acquire({ id: 'r' })
    const withModel = acquire({ id: 'm', model: 'a' })
    acquire({ id: 'plain' })
    scheduler.setUpstreamModels('x', [])
    await expect(withModel).rejects.toMatchObject({ code: 'no_upstream' })
    expect(scheduler.status('plain')).toBe('queued')
    expect(scheduler.snapshot().upstreams[0]?.models).toEqual([])
    const constructed = setup([{ id: 'x', slots: 2, models: [] }])
    await expect(constructed.acquire({ id: 'm', model: 'a' })).rejects.toMatchObject({ code: 'no_upstream' })
    expect((await constructed.acquire({ id: 'plain' })).upstream).toBe('x')
  })

  it.each([
    ['a list added', undefined, ['a']],
    ['a list removed', ['a'], undefined],
    ['a model added', ['a'], ['a', 'b']],
    ['the last listing of a model removed', ['a', 'b'], ['b']],
    ['emptied', ['a'], []],
  ] as const)('gives the eligibility the new list would have had at construction (%s)', async (_, from, to) => {
    const others: SchedulerUpstream[] = [
      { id: 'p', slots: 1, models: ['b'] },
      { id: 'q', slots: 1 },
    ]
    const eligibleUpstreams = async (scheduler: QueueScheduler, model: string | undefined) => {
      const upstreams: string[] = []
      // One job per upstream: each starts on a different free eligible upstream, the rest wait or are refused.
      for (let index = 0; index < 3; index++) {
        const promise = scheduler.acquire({ id: `${model}-${index}`, model })
        promise.then((lease) => upstreams.push(lease.upstream)).catch(() => {})
      }
      await Promise.resolve()
      await Promise.resolve()
      return upstreams.sort()
    }
    for (const model of [undefined, 'a', 'b', 'c']) {
      const changed = setup([{ id: 't', slots: 1, models: from === undefined ? undefined : [...from] }, ...others]).scheduler
      changed.setUpstreamModels('t', to)
      const constructed = setup([{ id: 't', slots: 1, models: to === undefined ? undefined : [...to] }, ...others]).scheduler
      expect(await eligibleUpstreams(changed, model)).toEqual(await eligibleUpstreams(constructed, model))
    }
  })

  it('reports each upstream models in snapshot() as a copy, and copies the list it is given', () => {
    const { scheduler } = setup([
      { id: 'x', slots: 1, models: ['a', 'b'] },
      { id: 'y', slots: 1 },
    ])
    expect(scheduler.snapshot().upstreams.map((upstream) => upstream.models)).toEqual([['a', 'b'], undefined])
    ;(scheduler.snapshot().upstreams[0]?.models as string[]).push('mutated')
    const list = ['c']
    scheduler.setUpstreamModels('y', list)
    list.push('mutated')
    expect(scheduler.snapshot().upstreams.map((upstream) => upstream.models)).toEqual([['a', 'b'], ['c']])
  })

  it.each([
    ['nope', ['a'], /upstreamId.*"nope"/],
    ['x', 'a', /models.*"a"/],
    ['x', [1], /models.*\[1\]/],
    ['x', null, /models.*null/],
  ])('throws a TypeError naming the bad argument (%j, %j)', (upstreamId, models, message) => {
    const { scheduler } = setup([{ id: 'x', slots: 1 }])
    expect(() => scheduler.setUpstreamModels(upstreamId, models as string[])).toThrow(TypeError)
    expect(() => scheduler.setUpstreamModels(upstreamId, models as string[])).toThrow(message)
  })
})
