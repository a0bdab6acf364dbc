import { afterEach, describe, expect, it } from 'vitest'
import { AbortError, QueueFullError, QueueTimeoutError, UnavailableError } from '../../src/errors.js'
import { createInMemorySchedulerState } from '../../src/queue/in-memory-scheduler-state.js'
import { QueueScheduler } from '../../src/queue/queue-scheduler.js'
import type { JobRequest, JobStartEvent, Lease, QueueSchedulerOptions, SchedulerUpstream } from '../../src/queue/queue-scheduler.js'
import { createFakeTime } from './fake-time.js'

const open: QueueScheduler[] = []

afterEach(() => {
  for (const scheduler of open.splice(0)) scheduler.close()
})

function setup(upstreams: SchedulerUpstream[], options: Omit<QueueSchedulerOptions, 'upstreams'> = {}) {
  const time = createFakeTime()
  const scheduler = new QueueScheduler({ upstreams, now: time.now, _internal: { setTimeout: time.setTimeout, clearTimeout: time.clearTimeout }, ...options })
  open.push(scheduler)
  const starts: JobStartEvent[] = []
  scheduler.on('job-start', (event) => starts.push(event))
  const pending = new Map<string, Promise<Lease>>()
  const acquire = (job: JobRequest, signal?: AbortSignal) => {
    const promise = scheduler.acquire(job, { signal })
    promise.catch(() => {})
    pending.set(job.id, promise)
    return promise
  }
  /** The lease of a job that has started (its promise is already resolved). */
  const lease = async (id: string) => {
    expect(scheduler.status(id)).toBe('running')
    return (await pending.get(id)) as Lease
  }
  const release = async (id: string) => (await lease(id)).release()
  const started = () => starts.map((event) => event.jobId)
  const startOf = (id: string) => starts.find((event) => event.jobId === id)
  return { time, scheduler, starts, acquire, lease, release, started, startOf }
}

describe('QueueScheduler ordering', () => {
  it('serves interactive before batch and FIFO within a class', async () => {
    const { acquire, release, started } = setup([{ id: 'u', slots: 1 }])
    await acquire({ id: 'running' })
    for (const [id, jobClass] of [['b1', 'batch'], ['i1', 'interactive'], ['b2', 'batch'], ['i2', 'interactive']] as const) acquire({ id, class: jobClass })
    await release('running')
    await release('i1')
    await release('i2')
    await release('b1')
    await release('b2')
    expect(started()).toEqual(['running', 'i1', 'i2', 'b1', 'b2'])
  })

  it('serves a batch job that waited batchMaxWaitMs before newer interactive jobs, not before older ones', async () => {
    const { time, acquire, release, started, scheduler } = setup([{ id: 'u', slots: 1 }], { batchMaxWaitMs: 30_000 })
    await acquire({ id: 'running' })
    acquire({ id: 'i-old' })
    acquire({ id: 'b', class: 'batch' })
    time.advance(30_000)
    acquire({ id: 'i-new' })
    expect(scheduler.position('b')?.position).toBe(2)
    expect(scheduler.position('i-new')?.position).toBe(3)
    await release('running')
    await release('i-old')
    await release('b')
    expect(started()).toEqual(['running', 'i-old', 'b', 'i-new'])
  })

  it('keeps batch after interactive before it has aged', async () => {
    const { time, acquire, release, started } = setup([{ id: 'u', slots: 1 }], { batchMaxWaitMs: 30_000 })
    await acquire({ id: 'running' })
    acquire({ id: 'b', class: 'batch' })
    time.advance(29_999)
    acquire({ id: 'i' })
    await release('running')
    expect(started()).toEqual(['running', 'i'])
  })

  it('gives a retried job (retryOf: its earlier lease) its place in line back, ahead of the jobs that came after it', async () => {
    const { time, acquire, release, started, startOf, scheduler } = setup([{ id: 'gpu0', slots: 1 }, { id: 'gpu1', slots: 1 }])
    const first = await acquire({ id: 'a' }) // on one upstream at once
    await acquire({ id: 'busy' }) // the other
    time.advance(1000)
    for (const id of ['b', 'c']) acquire({ id })
    // a failed there and runs again elsewhere: it keeps its place, ahead of b and c.
    first.release()
    time.advance(500)
    const other = first.upstream === 'gpu0' ? 'gpu1' : 'gpu0'
    // b took the slot a freed; a, retried, waits first in line for the other upstream.
    expect(started()).toEqual(['a', 'busy', 'b'])
    acquire({ id: 'a#2', excluded: new Set([first.upstream]), retryOf: first })
    expect(scheduler.position('a#2')?.position).toBe(1)
    expect(scheduler.position('c')?.position).toBe(2)
    await release('busy')
    expect(started()).toEqual(['a', 'busy', 'b', 'a#2'])
    expect(startOf('a#2')).toMatchObject({ upstream: other, waitedMs: 0 })
    await release('b')
    await release('a#2')
    expect(started()).toEqual(['a', 'busy', 'b', 'a#2', 'c'])
  })

  it('keeps a retried batch job\'s age (it counts from its first arrival), and a lease of another scheduler gives no place', async () => {
    const { time, acquire, release, started } = setup([{ id: 'u', slots: 1 }], { batchMaxWaitMs: 30_000 })
    const batch = await acquire({ id: 'b', class: 'batch' })
    time.advance(30_000)
    await release('b')
    await acquire({ id: 'running' })
    acquire({ id: 'i-new' })
    acquire({ id: 'b#2', class: 'batch', retryOf: batch })
    const stranger = setup([{ id: 'u', slots: 1 }])
    const foreign = await stranger.acquire({ id: 'x' })
    acquire({ id: 'x#2', retryOf: foreign })
    await release('running')
    await release('b#2')
    await release('i-new')
    expect(started()).toEqual(['b', 'running', 'b#2', 'i-new', 'x#2'])
  })

  it('throws on a duplicate job id and resolves at once when a slot is free', async () => {
    const { acquire, scheduler } = setup([{ id: 'u', slots: 1 }])
    const lease = await acquire({ id: 'a' })
    expect(lease).toMatchObject({ jobId: 'a', upstream: 'u', slot: undefined, waitedMs: 0 })
    expect(() => scheduler.acquire({ id: 'a' })).toThrow(TypeError)
  })
})

describe('QueueScheduler routing', () => {
  it('sends a thread key back to the upstream that served it, over a colder idle one', async () => {
    const { acquire, release, startOf } = setup([{ id: 'x', slots: 1 }, { id: 'y', slots: 1 }])
    await acquire({ id: 't1', threadKey: 'chat' })
    const first = startOf('t1')?.upstream as string
    await release('t1')
    // Without a key the colder upstream wins the tie.
    await acquire({ id: 'plain' })
    expect(startOf('plain')?.upstream).not.toBe(first)
    await release('plain')
    await acquire({ id: 't2', threadKey: 'chat' })
    expect(startOf('t2')).toMatchObject({ upstream: first, stickyHit: true })
  })

  it('spreads keyless jobs to the least-loaded upstream', async () => {
    const { acquire, scheduler } = setup([{ id: 'x', slots: 2 }, { id: 'y', slots: 1 }])
    for (const id of ['a', 'b', 'c']) await acquire({ id })
    expect(scheduler.snapshot().upstreams.map((u) => u.running)).toEqual([2, 1])
    acquire({ id: 'd' })
    acquire({ id: 'e' })
    acquire({ id: 'f' })
    // Loads (running + waiting) / slots stay level: x 2+2 → 2, y 1+1 → 2.
    expect(scheduler.snapshot().upstreams.map((u) => u.queued)).toEqual([2, 1])
  })

  it('places a new key on the coldest free slot within the imbalance bound, a keyless job on the least-loaded upstream', async () => {
    const { time, acquire, release, startOf } = setup([{ id: 'x', slots: 2 }, { id: 'y', slots: 2 }])
    for (const id of ['h1', 'h2', 'h3']) await acquire({ id })
    const upstreamOf = (id: string) => startOf(id)?.upstream as string
    const full = ['h1', 'h2', 'h3'].map(upstreamOf).find((upstream, _, all) => all.filter((other) => other === upstream).length === 2) as string
    const half = full === 'x' ? 'y' : 'x'
    time.advance(1000)
    for (const id of ['h1', 'h2', 'h3']) if (upstreamOf(id) === full) await release(id)
    // `full` is now empty but both its slots were just used; `half` runs one job and has a never-used slot.
    await acquire({ id: 'keyed', threadKey: 'K' })
    expect(upstreamOf('keyed')).toBe(half)
    await release('keyed')
    await acquire({ id: 'keyless' })
    expect(upstreamOf('keyless')).toBe(full)
  })

  it('moves a key when its upstream is more than stickyMaxImbalance jobs per slot above the least loaded', async () => {
    const { acquire, release, scheduler, startOf } = setup([{ id: 'x', slots: 1 }, { id: 'y', slots: 1 }], { stickyMaxImbalance: 2 })
    await acquire({ id: 'k1', threadKey: 'A' })
    const home = startOf('k1')?.upstream as string
    const other = home === 'x' ? 'y' : 'x'
    await acquire({ id: 'busy' })
    expect(startOf('busy')?.upstream).toBe(other)
    acquire({ id: 'k2', threadKey: 'A' })
    acquire({ id: 'k3', threadKey: 'A' })
    acquire({ id: 'k4', threadKey: 'A' }) // home 1 + 2 waiting = 3 vs 1: difference 2, not more
    expect(scheduler.position('k4')?.upstream).toBe(home)
    acquire({ id: 'k5', threadKey: 'A' }) // home 4 vs 1: difference 3 > 2
    expect(scheduler.position('k5')?.upstream).toBe(other)
    await release('busy')
    expect(startOf('k5')).toMatchObject({ upstream: other, stickyHit: false })
    // The key moved with it.
    acquire({ id: 'k6', threadKey: 'A' })
    expect(scheduler.position('k6')?.upstream).toBe(other)
  })

  it('keeps a sticky job waiting for its warm upstream while within stickyMaxImbalance, even with another idle', async () => {
    const { acquire, release, startOf, scheduler } = setup([{ id: 'x', slots: 1 }, { id: 'y', slots: 1 }])
    await acquire({ id: 'a', threadKey: 'A' })
    const home = startOf('a')?.upstream as string
    await acquire({ id: 'b' })
    const waiting = acquire({ id: 'a2', threadKey: 'A' })
    await release('b')
    // The other upstream is idle now, but a2 waits for its warm one (load 2 vs 0: not more than 2).
    expect(scheduler.status('a2')).toBe('queued')
    const parallel = acquire({ id: 'a3', threadKey: 'A' })
    expect(scheduler.position('a3')?.upstream).toBe(home)
    await release('a')
    expect((await waiting).upstream).toBe(home)
    expect(startOf('a2')).toMatchObject({ upstream: home, stickyHit: true })
    // a3 makes home 1 running + 1 waiting; a keyless job still goes to the idle upstream at once.
    const keyless = await acquire({ id: 'plain' })
    expect(keyless.upstream).not.toBe(home)
    void parallel
  })

  it('lets an idle upstream steal waiting work bound to a busy one (stickyMaxImbalance 0: fully work conserving)', async () => {
    const { acquire, release, startOf, scheduler } = setup([{ id: 'x', slots: 1 }, { id: 'y', slots: 1 }], { stickyMaxImbalance: 0 })
    await acquire({ id: 'a', threadKey: 'A' })
    const home = startOf('a')?.upstream as string
    const other = home === 'x' ? 'y' : 'x'
    await acquire({ id: 'b' })
    acquire({ id: 'a2', threadKey: 'A' })
    expect(scheduler.position('a2')?.upstream).toBe(home)
    await release('b')
    expect(startOf('a2')?.upstream).toBe(other)
    expect(scheduler.snapshot()).toMatchObject({ queued: 0, running: 2 })
  })

  it('with the warm upstream busy and another idle, a keyed job starts at once on the idle one (stickyMaxImbalance 0)', async () => {
    const { acquire, startOf } = setup([{ id: 'x', slots: 1 }, { id: 'y', slots: 1 }], { stickyMaxImbalance: 0 })
    await acquire({ id: 'a', threadKey: 'A' })
    const home = startOf('a')?.upstream
    const lease = await acquire({ id: 'a-parallel', threadKey: 'A' })
    expect(lease.upstream).not.toBe(home)
  })

  it('only runs a job where its model is served, and steals only eligible work', async () => {
    const { acquire, release, startOf, scheduler } = setup([
      { id: 'x', slots: 1, models: ['a'] },
      { id: 'y', slots: 1, models: ['b'] },
      { id: 'z', slots: 1 },
    ])
    await acquire({ id: 'c1', model: 'c' })
    expect(startOf('c1')?.upstream).toBe('z')
    await acquire({ id: 'a1', model: 'a' })
    expect(startOf('a1')?.upstream).toBe('x')
    await acquire({ id: 'b1', model: 'b' })
    expect(startOf('b1')?.upstream).toBe('y')
    acquire({ id: 'a2', model: 'a' })
    acquire({ id: 'c2', model: 'c' })
    expect(['x', 'z']).toContain(scheduler.position('a2')?.upstream)
    expect(scheduler.position('c2')?.upstream).toBe('z')
    await release('b1') // y may take neither
    expect(scheduler.snapshot()).toMatchObject({ queued: 2, running: 2 })
    const a2Home = scheduler.position('a2')?.upstream
    await release('c1') // z serves its own lane first: a2 only if a2 waits for z (it is older)
    expect(startOf(a2Home === 'z' ? 'a2' : 'c2')?.upstream).toBe('z')
    await release('a1')
    expect(startOf('a2')?.upstream).toBe(a2Home === 'z' ? 'z' : 'x')
    await acquire({ id: 'any' }) // no model: any free upstream
    expect(['x', 'y']).toContain(startOf('any')?.upstream)
  })

  it('rejects a model no upstream serves with no_upstream', async () => {
    const { acquire } = setup([{ id: 'x', slots: 1, models: ['a'] }])
    await expect(acquire({ id: 'j', model: 'other' })).rejects.toMatchObject({ name: 'UnavailableError', code: 'no_upstream', status: 503 })
  })

  it('gives unhealthy upstreams no new jobs, moves sticky keys off them, and hands their waiting jobs over', async () => {
    const { acquire, release, startOf, scheduler } = setup([{ id: 'x', slots: 1 }, { id: 'y', slots: 1 }])
    await acquire({ id: 'a', threadKey: 'A' })
    const home = startOf('a')?.upstream as string
    const other = home === 'x' ? 'y' : 'x'
    await acquire({ id: 'b' })
    acquire({ id: 'a2', threadKey: 'A' })
    acquire({ id: 'c' })
    expect(scheduler.position('a2')?.upstream).toBe(home)
    scheduler.setHealthy(home, false)
    acquire({ id: 'a3', threadKey: 'A' })
    expect(scheduler.position('a3')?.upstream).toBe(other)
    await release('a') // the unhealthy upstream starts nothing
    expect(scheduler.status('a2')).toBe('queued')
    await release('b') // other takes the oldest: a2 (orphaned) before c and a3
    expect(startOf('a2')?.upstream).toBe(other)
    scheduler.setHealthy(home, true)
    expect(scheduler.snapshot().upstreams.find((u) => u.id === home)).toMatchObject({ running: 1, healthy: true })
    expect(() => scheduler.setHealthy('nope', true)).toThrow(/nope/)
  })
})

describe('QueueScheduler slot affinity', () => {
  it('gives each key a sticky slot, the coldest free one first, and never two running jobs one slot', async () => {
    const { acquire, release, lease } = setup([{ id: 'u', slots: 3, slotAffinity: true }])
    const a = await acquire({ id: 'a1', threadKey: 'A' })
    const b = await acquire({ id: 'b1', threadKey: 'B' })
    const c = await acquire({ id: 'c1', threadKey: 'C' })
    expect(new Set([a.slot, b.slot, c.slot])).toEqual(new Set([0, 1, 2]))
    await release('a1')
    await release('b1')
    const b2 = await acquire({ id: 'b2', threadKey: 'B' })
    expect(b2.slot).toBe(b.slot)
    const a2 = await acquire({ id: 'a2', threadKey: 'A' })
    expect(a2.slot).toBe(a.slot)
    await release('c1')
    // A parallel job of key A: its slot is busy, so it takes the free one.
    const a3 = await acquire({ id: 'a3', threadKey: 'A' })
    expect(a3.slot).toBe(c.slot)
    expect((await lease('a2')).slot).not.toBe(a3.slot)
  })

  it('when a key finds its slot taken by another key, it takes the coldest free slot and moves there', async () => {
    const { acquire, release, starts } = setup([{ id: 'u', slots: 2, slotAffinity: true }], { stickyTtlMs: 1000 })
    const a = await acquire({ id: 'a1', threadKey: 'A' })
    await release('a1')
    // B lands on the other (never used) slot; C then on A's slot, as the coldest free one.
    const b = await acquire({ id: 'b1', threadKey: 'B' })
    expect(b.slot).not.toBe(a.slot)
    const c = await acquire({ id: 'c1', threadKey: 'C' })
    expect(c.slot).toBe(a.slot)
    await release('b1')
    const a2 = await acquire({ id: 'a2', threadKey: 'A' })
    expect(a2.slot).toBe(b.slot)
    expect(starts.at(-1)).toMatchObject({ jobId: 'a2', stickyHit: false })
    await release('c1')
    await release('a2')
    const a3 = await acquire({ id: 'a3', threadKey: 'A' })
    expect(a3.slot).toBe(b.slot)
  })

  it('leaves lease.slot undefined on upstreams without slot affinity', async () => {
    const { acquire } = setup([{ id: 'u', slots: 2 }])
    expect((await acquire({ id: 'a', threadKey: 'A' })).slot).toBeUndefined()
  })
})

describe('QueueScheduler sticky memory', () => {
  it('forgets a key stickyTtlMs after its last use, and renews on use', async () => {
    const { time, acquire, release, startOf } = setup([{ id: 'x', slots: 1 }, { id: 'y', slots: 1 }], { stickyTtlMs: 1000 })
    await acquire({ id: 't1', threadKey: 'A' })
    const home = startOf('t1')?.upstream
    await release('t1')
    time.advance(900)
    await acquire({ id: 't2', threadKey: 'A' })
    expect(startOf('t2')?.upstream).toBe(home)
    await release('t2')
    time.advance(900) // 1800 after the first use, 900 after the renewal
    await acquire({ id: 't3', threadKey: 'A' })
    expect(startOf('t3')?.upstream).toBe(home)
    await release('t3')
    time.advance(1000)
    await acquire({ id: 't4', threadKey: 'A' })
    // Expired: the tie goes to the colder upstream.
    expect(startOf('t4')).toMatchObject({ stickyHit: false })
    expect(startOf('t4')?.upstream).not.toBe(home)
  })

  it('keeps at most maxStickyKeys keys, forgetting the least recently used', () => {
    let now = 0
    const state = createInMemorySchedulerState({ stickyTtlMs: 10_000, maxStickyKeys: 2, now: () => now })
    state.sticky.set('A', { upstream: 'x', slot: undefined })
    now = 1
    state.sticky.set('B', { upstream: 'x', slot: 1 })
    now = 2
    state.sticky.set('A', { upstream: 'y', slot: undefined }) // renew A: B is now the oldest
    now = 3
    state.sticky.set('C', { upstream: 'x', slot: undefined })
    expect(state.sticky.size).toBe(2)
    expect(state.sticky.get('B')).toBeUndefined()
    expect(state.sticky.get('A')).toMatchObject({ upstream: 'y' })
    now = 10_002
    expect(state.sticky.get('A')).toBeUndefined()
    expect(state.sticky.get('C')).toMatchObject({ upstream: 'x' })
  })

  it('sweeps expired keys as new ones arrive, so expired entries do not pile up', () => {
    let now = 0
    const state = createInMemorySchedulerState({ stickyTtlMs: 100, maxStickyKeys: 1000, now: () => now })
    for (now = 0; now < 10; now++) state.sticky.set(`k${now}`, { upstream: 'x', slot: undefined })
    now = 500
    state.sticky.set('late', { upstream: 'x', slot: undefined })
    expect(state.sticky.size).toBe(1)
  })

  it('uses a shared state object when given one (the seam a Redis store plugs into)', async () => {
    const state = createInMemorySchedulerState()
    const { acquire } = setup([{ id: 'x', slots: 1 }], { state })
    await acquire({ id: 'a', threadKey: 'A' })
    expect(state.sticky.get('A')).toMatchObject({ upstream: 'x' })
    expect(state.slots.running('x')).toBe(1)
  })
})

describe('QueueScheduler cancellation and bounds', () => {
  it('drops a waiting job at once when its signal aborts; it never starts', async () => {
    const { acquire, release, scheduler, started } = setup([{ id: 'u', slots: 1 }])
    const dropped: string[] = []
    scheduler.on('job-dropped', (event) => dropped.push(`${event.jobId}:${event.reason}`))
    await acquire({ id: 'running' })
    const controller = new AbortController()
    const waiting = acquire({ id: 'w' }, controller.signal)
    acquire({ id: 'next' })
    controller.abort()
    await expect(waiting).rejects.toBeInstanceOf(AbortError)
    expect(scheduler.status('w')).toBeUndefined()
    expect(scheduler.position('next')?.position).toBe(1)
    expect(dropped).toEqual(['w:abort'])
    await release('running')
    await release('next')
    await scheduler.onIdle()
    expect(started()).toEqual(['running', 'next'])
  })

  it('rejects at once when the signal is already aborted', async () => {
    const { acquire, scheduler } = setup([{ id: 'u', slots: 1 }])
    await expect(acquire({ id: 'a' }, AbortSignal.abort())).rejects.toMatchObject({ code: 'aborted' })
    expect(scheduler.snapshot()).toMatchObject({ queued: 0, running: 0 })
  })

  it('releases a running lease exactly once', async () => {
    const { acquire, lease, scheduler, started } = setup([{ id: 'u', slots: 1 }])
    const ends: string[] = []
    scheduler.on('job-end', (event) => ends.push(event.jobId))
    await acquire({ id: 'a' })
    acquire({ id: 'b' })
    acquire({ id: 'c' })
    const a = await lease('a')
    a.release()
    a.release()
    expect(started()).toEqual(['a', 'b'])
    expect(ends).toEqual(['a'])
    expect(scheduler.snapshot()).toMatchObject({ running: 1, queued: 1 })
  })

  it('rejects beyond maxQueued with QueueFullError (429, Retry-After from service times)', async () => {
    const { time, acquire, release } = setup([{ id: 'u', slots: 1 }], { maxQueued: 2 })
    await acquire({ id: 'r' })
    time.advance(4000)
    await release('r')
    await acquire({ id: 'a' })
    acquire({ id: 'b' })
    acquire({ id: 'c' })
    const error = await acquire({ id: 'd' }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(QueueFullError)
    // (2 waiting + 1) × 4 s per job / 1 slot.
    expect(error).toMatchObject({ status: 429, code: 'queue_full', retryAfterSeconds: 12, headers: { 'retry-after': '12' } })
  })

  it('rejects a job that waited maxWaitMs with QueueTimeoutError and disarms timers of started jobs', async () => {
    const { time, acquire, release, scheduler } = setup([{ id: 'u', slots: 1 }], { maxWaitMs: 5000 })
    const reasons: string[] = []
    scheduler.on('job-dropped', (event) => reasons.push(event.reason))
    await acquire({ id: 'r' })
    const late = acquire({ id: 'late' })
    time.advance(1000)
    acquire({ id: 'served' })
    time.advance(4000)
    await expect(late).rejects.toBeInstanceOf(QueueTimeoutError)
    await expect(late).rejects.toMatchObject({ status: 503, code: 'queue_timeout' })
    expect(reasons).toEqual(['timeout'])
    expect(time.pending).toBe(1)
    await release('r')
    expect(scheduler.status('served')).toBe('running')
    expect(time.pending).toBe(0)
  })

  it('close() rejects waiting jobs and later acquires with shutting_down; running leases stay valid', async () => {
    const { acquire, lease, scheduler } = setup([{ id: 'u', slots: 1 }])
    await acquire({ id: 'r' })
    const waiting = acquire({ id: 'w' })
    scheduler.close()
    await expect(waiting).rejects.toBeInstanceOf(UnavailableError)
    await expect(waiting).rejects.toMatchObject({ code: 'shutting_down' })
    await expect(acquire({ id: 'later' })).rejects.toMatchObject({ code: 'shutting_down' })
    expect(scheduler.status('r')).toBe('running')
    const idle = scheduler.onIdle()
    ;(await lease('r')).release()
    await idle
    expect(scheduler.snapshot()).toMatchObject({ queued: 0, running: 0 })
  })
})

describe('QueueScheduler observation', () => {
  it('gives ETAs in whole ms that shrink while the job waits, from when each slot frees', async () => {
    const { time, acquire, release, scheduler } = setup([{ id: 'u', slots: 2 }])
    await acquire({ id: 'a' })
    await acquire({ id: 'b' })
    time.advance(1000.4)
    await release('a')
    // One service time known: 1000.4 ms. c takes a's slot; b has run 1000.4 ms, c 0.
    await acquire({ id: 'c' })
    for (const id of ['w1', 'w2', 'w3']) acquire({ id })
    // b is overdue: its slot is next (0 ms), then c's (1000.4 ms), then b's slot again one service time on.
    expect(['w1', 'w2', 'w3'].map((id) => scheduler.position(id)?.etaMs)).toEqual([0, 1000, 1000])
    time.advance(300.3)
    expect(['w1', 'w2', 'w3'].map((id) => scheduler.position(id)?.etaMs)).toEqual([0, 700, 1000])
    for (const id of ['w1', 'w2', 'w3']) expect(Number.isInteger(scheduler.position(id)?.etaMs)).toBe(true)
  })

  it('reports 1-based positions in dispatch order, queued totals and ETAs', async () => {
    const { time, acquire, release, scheduler, started } = setup([{ id: 'u', slots: 1 }], { batchMaxWaitMs: 30_000 })
    await acquire({ id: 'r0' })
    expect(scheduler.position('r0')).toEqual({ position: 0, queued: 0, etaMs: 0, upstream: 'u' })
    for (const [id, jobClass] of [['b1', 'batch'], ['i1', 'interactive'], ['b2', 'batch'], ['i2', 'interactive']] as const) acquire({ id, class: jobClass })
    expect(['i1', 'i2', 'b1', 'b2'].map((id) => scheduler.position(id)?.position)).toEqual([1, 2, 3, 4])
    expect(scheduler.position('i1')).toMatchObject({ queued: 4, etaMs: undefined, upstream: 'u' })
    time.advance(2000)
    await release('r0')
    // i1 runs; 2 s service time known now.
    expect(scheduler.position('i2')).toEqual({ position: 1, queued: 3, etaMs: 2000, upstream: 'u' })
    expect(scheduler.position('b2')).toMatchObject({ position: 3, etaMs: 6000 })
    expect(scheduler.position('nope')).toBeUndefined()
    // The positions match what the dispatcher does.
    const order = ['i2', 'b1', 'b2'].sort((a, b) => (scheduler.position(a)?.position ?? 0) - (scheduler.position(b)?.position ?? 0))
    for (const id of ['i1', 'i2', 'b1']) await release(id)
    expect(started().slice(2)).toEqual(order)
  })

  it('snapshots per-upstream figures, emits events and resolves onIdle', async () => {
    const { acquire, release, scheduler } = setup([{ id: 'x', slots: 2 }, { id: 'y', slots: 1 }])
    const queued: string[] = []
    scheduler.on('job-queued', (event) => queued.push(`${event.jobId}@${event.upstream}`))
    for (const id of ['a', 'b', 'c']) await acquire({ id })
    acquire({ id: 'd' })
    expect(queued).toHaveLength(1)
    expect(scheduler.snapshot()).toEqual({
      queued: 1,
      queuedByClass: { interactive: 1, batch: 0 },
      running: 3,
      upstreams: [
        { id: 'x', slots: 2, running: 2, queued: expect.any(Number), healthy: true },
        { id: 'y', slots: 1, running: 1, queued: expect.any(Number), healthy: true },
      ],
    })
    const idle = scheduler.onIdle()
    for (const id of ['a', 'b', 'c', 'd']) await release(id)
    await idle
  })

  it('keeps a throwing listener from breaking the scheduler', async () => {
    const { acquire, scheduler } = setup([{ id: 'x', slots: 1 }])
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', onUncaught)
    try {
      scheduler.on('job-start', () => {
        throw new Error('listener bug')
      })
      const lease = await acquire({ id: 'a' })
      expect(lease.upstream).toBe('x')
      await new Promise<void>((resolve) => setImmediate(resolve))
    } finally {
      process.off('uncaughtException', onUncaught)
    }
    expect(uncaught).toHaveLength(1)
  })
})

describe('QueueScheduler options', () => {
  it.each([
    [{ upstreams: [] }, /upstreams/],
    [{ upstreams: [{ id: 'a', slots: 0 }] }, /upstreams\[0\]\.slots.*0/],
    [{ upstreams: [{ id: 'a', slots: 1 }, { id: 'a', slots: 1 }] }, /upstreams\[1\]\.id.*"a"/],
    [{ upstreams: [{ id: 'a', slots: 1 }], maxQueued: -1 }, /maxQueued.*-1/],
    [{ upstreams: [{ id: 'a', slots: 1 }], stickyTtlMs: -5 }, /stickyTtlMs.*-5/],
    [{ upstreams: [{ id: 'a', slots: 1 }], batchMaxWaitMs: Number.NaN }, /batchMaxWaitMs/],
    [{ upstreams: [{ id: 'a', slots: 1, models: 'm' as unknown as string[] }] }, /models/],
  ])('rejects bad options: %j', (options, message) => {
    expect(() => new QueueScheduler(options as QueueSchedulerOptions)).toThrow(message)
  })
})

describe('QueueScheduler sticky route on job-start', () => {
  it('says new, kept (with slot reuse under slot affinity), and why a conversation moved: load, unhealthy, model', async () => {
    const { acquire, release, startOf, scheduler } = setup(
      [
        { id: 'a', slots: 2, slotAffinity: true },
        { id: 'b', slots: 2, slotAffinity: true },
      ],
      { stickyMaxImbalance: 0 },
    )
    await acquire({ id: 'j1', threadKey: 'k', model: 'm' })
    expect(startOf('j1')?.route).toEqual({ sticky: 'new' })
    expect(startOf('j1')?.threadKey).toBe('k')
    const home = startOf('j1')?.upstream as string
    const other = home === 'a' ? 'b' : 'a'
    await release('j1')
    await acquire({ id: 'j2', threadKey: 'k', model: 'm' })
    expect(startOf('j2')?.route).toEqual({ sticky: 'kept', slotReused: true })
    // Its home is busier by one (j2 still runs): with stickyMaxImbalance 0 the next turn moves.
    await acquire({ id: 'j3', threadKey: 'k', model: 'm' })
    expect(startOf('j3')?.route).toEqual({ sticky: 'moved', from: home, because: 'load' })
    expect(startOf('j3')?.upstream).toBe(other)
    await release('j2')
    await release('j3')
    // Now remembered on `other`; out of rotation, the conversation goes back.
    scheduler.setHealthy(other, false)
    await acquire({ id: 'j4', threadKey: 'k', model: 'm' })
    expect(startOf('j4')?.route).toEqual({ sticky: 'moved', from: other, because: 'unhealthy' })
    await release('j4')
    scheduler.setHealthy(other, true)
    // Remembered on `home` now; `home` stops serving the model.
    scheduler.setUpstreamModels(home, ['n'])
    await acquire({ id: 'j5', threadKey: 'k', model: 'm' })
    expect(startOf('j5')?.route).toEqual({ sticky: 'moved', from: home, because: 'model' })
    // A job without a key has no route.
    await acquire({ id: 'j6' })
    expect(startOf('j6')?.route).toBeUndefined()
  })

  it('counts waiting jobs by class in the snapshot', async () => {
    const { acquire, scheduler } = setup([{ id: 'u', slots: 1 }])
    await acquire({ id: 'run' })
    void acquire({ id: 'i1' })
    void acquire({ id: 'b1', class: 'batch' })
    void acquire({ id: 'b2', class: 'batch' })
    expect(scheduler.snapshot().queuedByClass).toEqual({ interactive: 1, batch: 2 })
  })
})
