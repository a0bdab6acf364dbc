import { getEventListeners } from 'node:events'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { QueueScheduler } from '../../src/queue/queue-scheduler.js'
import type { JobClass, Lease, SchedulerUpstream } from '../../src/queue/queue-scheduler.js'
import { createFakeTime } from './fake-time.js'

const UPSTREAMS: SchedulerUpstream[] = [
  { id: 'x', slots: 2 },
  { id: 'y', slots: 1, models: ['a'] },
  { id: 'z', slots: 3, models: ['a', 'b'], slotAffinity: true },
]
const MAX_QUEUED = 5
const STICKY_MAX_IMBALANCE = 1
const MODELS = [undefined, 'a', 'b', 'c'] as const
/** What `setUpstreamModels` ops list: requested models, duplicates and orders, and `d`, which no job requests. */
const LISTED = ['a', 'b', 'c', 'd'] as const

type Op =
  | { op: 'enqueue'; jobClass: JobClass; key: number | undefined; model: (typeof MODELS)[number]; abortable: boolean }
  | { op: 'abort'; pick: number }
  | { op: 'release'; pick: number }
  | { op: 'advance'; ms: number }
  | { op: 'health'; upstream: number; healthy: boolean }
  | { op: 'models'; upstream: number; models: string[] | undefined }

const opArbitrary = (withHealth: boolean, withModels = false): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('enqueue' as const), jobClass: fc.constantFrom<JobClass>('interactive', 'batch'), key: fc.option(fc.nat(5), { nil: undefined }), model: fc.constantFrom(...MODELS), abortable: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('abort' as const), pick: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.nat(50_000) }) },
    { weight: withHealth ? 1 : 0, arbitrary: fc.record({ op: fc.constant('health' as const), upstream: fc.nat(UPSTREAMS.length - 1), healthy: fc.boolean() }) },
    {
      weight: withModels ? 2 : 0,
      arbitrary: fc.record({ op: fc.constant('models' as const), upstream: fc.nat(UPSTREAMS.length - 1), models: fc.option(fc.array(fc.constantFrom(...LISTED), { maxLength: 4 }), { nil: undefined }) }),
    },
  )

/** Model lists by upstream id, as the scheduler should hold them now. */
type ModelLists = Map<string, readonly string[] | undefined>

function eligible(model: string | undefined, lists: ModelLists, upstream: string): boolean {
  const models = lists.get(upstream)
  return model === undefined || models === undefined || models.includes(model)
}

/** The scheduler's lane key for a model: its own name while some list names it, else one shared key. */
function modelKey(model: string | undefined, lists: ModelLists): string {
  if (model === undefined) return '(any)'
  return [...lists.values()].some((models) => models?.includes(model)) ? model : '(other)'
}

interface Tracked {
  id: string
  key: string | undefined
  jobClass: JobClass
  model: string | undefined
  seq: number
  promise: Promise<Lease>
  controller: AbortController | undefined
  boundTo: string | undefined
  startedOn: string | undefined
  slot: number | undefined
  startIndex: number
  outcome: 'waiting' | 'running' | 'done' | 'rejected'
  /** Times the job ended (job-end, job-dropped or a refusal by acquire); exactly 1 in the end. */
  ends: number
  /** It has left the queue and was seen without an abort listener. */
  listenerGone: boolean
}

interface ScenarioOptions {
  batchMaxWaitMs: number
  /** Checks, at the end, FIFO per upstream among jobs that ran where they were bound (no model-list changes). */
  checkFifo: boolean
  /** @default 0 */
  maxWaitMs?: number
}

async function runScenario(ops: Op[], options: ScenarioOptions): Promise<void> {
  const time = createFakeTime()
  const maxWaitMs = options.maxWaitMs ?? 0
  const scheduler = new QueueScheduler({ upstreams: UPSTREAMS, maxQueued: MAX_QUEUED, batchMaxWaitMs: options.batchMaxWaitMs, maxWaitMs, stickyMaxImbalance: STICKY_MAX_IMBALANCE, now: time.now, _internal: { setTimeout: time.setTimeout, clearTimeout: time.clearTimeout } })
  const jobs = new Map<string, Tracked>()
  const healthy = new Map(UPSTREAMS.map((upstream) => [upstream.id, true]))
  const lists: ModelLists = new Map(UPSTREAMS.map((upstream) => [upstream.id, upstream.models]))
  /** Broken invariants seen inside listeners (an expect there would only surface as an uncaught error). */
  const problems: string[] = []
  let starts = 0
  scheduler.on('job-queued', (event) => {
    const job = jobs.get(event.jobId) as Tracked
    job.boundTo = event.upstream
  })
  scheduler.on('job-start', (event) => {
    const job = jobs.get(event.jobId) as Tracked
    if (job.outcome !== 'waiting') problems.push(`${job.id} started while ${job.outcome}`)
    // Where it starts serves its model at that moment (also when its own upstream went unhealthy).
    if (!eligible(job.model, lists, event.upstream)) problems.push(`${job.id} (${job.model}) started on ${event.upstream}, which serves ${JSON.stringify(lists.get(event.upstream))}`)
    // FIFO within a class: no older job of its class waits in this upstream's own lanes (wherever it came from).
    for (const other of jobs.values()) {
      if (other.outcome !== 'waiting' || other === job || other.jobClass !== job.jobClass || other.seq > job.seq) continue
      if (scheduler.position(other.id)?.upstream === event.upstream) problems.push(`${job.id} started on ${event.upstream} before older ${other.id} waiting there`)
    }
    Object.assign(job, { outcome: 'running', startedOn: event.upstream, slot: event.slot, startIndex: starts++ })
  })
  scheduler.on('job-end', (event) => {
    const job = jobs.get(event.jobId) as Tracked
    if (job.outcome !== 'running') problems.push(`${job.id} ended while ${job.outcome}`)
    job.outcome = 'done'
    job.ends++
  })
  scheduler.on('job-dropped', (event) => {
    const job = jobs.get(event.jobId) as Tracked
    if (job.outcome !== 'waiting') problems.push(`${job.id} dropped (${event.reason}) while ${job.outcome}`)
    if (event.reason === 'no_upstream' && UPSTREAMS.some((upstream) => eligible(job.model, lists, upstream.id))) problems.push(`${job.id} (${job.model}) dropped with no_upstream, but it is served`)
    job.outcome = 'rejected'
    job.ends++
  })
  const inState = (outcome: Tracked['outcome']) => [...jobs.values()].filter((job) => job.outcome === outcome)

  const check = () => {
    expect(problems).toEqual([])
    const snapshot = scheduler.snapshot()
    const running = inState('running')
    const waiting = inState('waiting')
    expect(snapshot.running).toBe(running.length)
    expect(snapshot.queued).toBe(waiting.length)
    // Each job ends once, when it is done or refused; a waiting job holds exactly one timer (with maxWaitMs)
    // and one abort listener, and no other job holds any.
    const wrongEnds = [...jobs.values()].filter((job) => job.ends !== (job.outcome === 'done' || job.outcome === 'rejected' ? 1 : 0))
    expect(wrongEnds.map((job) => `${job.id}: ${job.outcome}, ended ${job.ends} times`)).toEqual([])
    expect(time.pending).toBe(maxWaitMs > 0 ? waiting.length : 0)
    const wrongListeners = [...jobs.values()].filter((job) => {
      if (job.controller === undefined || job.listenerGone) return false
      // Once a job has left the queue nothing adds a listener again: one check then is enough (and cheap).
      job.listenerGone = job.outcome !== 'waiting'
      return getEventListeners(job.controller.signal, 'abort').length !== (job.outcome === 'waiting' ? 1 : 0)
    })
    expect(wrongListeners.map((job) => job.id)).toEqual([])
    for (const upstream of UPSTREAMS) {
      const reported = snapshot.upstreams.find((row) => row.id === upstream.id)?.models
      expect(reported === undefined ? undefined : [...reported].sort()).toEqual(lists.get(upstream.id)?.slice().sort())
      const here = running.filter((job) => job.startedOn === upstream.id)
      const row = snapshot.upstreams.find((candidate) => candidate.id === upstream.id)
      expect(row?.running).toBe(here.length)
      expect(here.length).toBeLessThanOrEqual(upstream.slots)
      if (upstream.slotAffinity) expect(new Set(here.map((job) => job.slot)).size).toBe(here.length)
      // Work conservation within stickiness: a healthy upstream with a free slot leaves waiting only jobs it may
      // take that are keyed and wait for their warm (healthy) upstream within stickyMaxImbalance of this one.
      if (healthy.get(upstream.id) && here.length < upstream.slots) {
        const slotsOf = (id: string) => UPSTREAMS.find((candidate) => candidate.id === id)?.slots ?? 1
        const load = (id: string) => {
          const row = snapshot.upstreams.find((candidate) => candidate.id === id)
          const slots = UPSTREAMS.find((candidate) => candidate.id === id)?.slots ?? 1
          return ((row?.running ?? 0) + (row?.queued ?? 0)) / slots
        }
        const unexplained = waiting.filter(
          (job) =>
            eligible(job.model, lists, upstream.id) &&
            !(job.key !== undefined && job.boundTo !== undefined && job.boundTo !== upstream.id && healthy.get(job.boundTo) && load(job.boundTo) - 1 / slotsOf(job.boundTo) - load(upstream.id) <= STICKY_MAX_IMBALANCE),
        )
        expect(unexplained).toEqual([])
      }
    }
    for (const job of running) expect(scheduler.status(job.id)).toBe('running')
    for (const job of waiting) {
      expect(scheduler.status(job.id)).toBe('queued')
      const position = scheduler.position(job.id)
      expect(position?.upstream).toBe(job.boundTo)
      expect(eligible(job.model, lists, job.boundTo as string)).toBe(true)
      expect(position?.queued).toBe(waiting.length)
      expect(position?.position).toBeGreaterThanOrEqual(1)
      expect(position?.position).toBeLessThanOrEqual(waiting.filter((other) => other.boundTo === job.boundTo).length)
    }
    for (const job of [...inState('done'), ...inState('rejected')]) expect(scheduler.status(job.id)).toBeUndefined()
  }

  let seq = 0
  for (const op of ops) {
    if (op.op === 'enqueue') {
      const id = `j${seq}`
      const controller = op.abortable ? new AbortController() : undefined
      const job: Tracked = { id, key: op.key === undefined ? undefined : `k${op.key}`, jobClass: op.jobClass, model: op.model, seq: seq++, promise: undefined as unknown as Promise<Lease>, controller, boundTo: undefined, startedOn: undefined, slot: undefined, startIndex: -1, outcome: 'waiting', ends: 0, listenerGone: false }
      jobs.set(id, job)
      job.promise = scheduler.acquire({ id, class: op.jobClass, threadKey: op.key === undefined ? undefined : `k${op.key}`, model: op.model }, { signal: controller?.signal })
      job.promise.catch(() => {})
      if (scheduler.status(id) === undefined) {
        if (UPSTREAMS.some((upstream) => eligible(op.model, lists, upstream.id))) {
          // Refused at once otherwise only when maxQueued jobs wait.
          await expect(job.promise).rejects.toMatchObject({ code: 'queue_full' })
          expect(inState('waiting')).toHaveLength(MAX_QUEUED + 1)
        } else {
          await expect(job.promise).rejects.toMatchObject({ code: 'no_upstream' })
        }
        job.outcome = 'rejected'
        job.ends++
      } else if (scheduler.status(id) === 'running' && job.outcome === 'waiting') {
        const lease = await job.promise
        Object.assign(job, { outcome: 'running', startedOn: lease.upstream, boundTo: lease.upstream, slot: lease.slot, startIndex: starts++ })
      }
    } else if (op.op === 'abort') {
      const candidates = inState('waiting').filter((job) => job.controller !== undefined)
      const job = candidates[op.pick % Math.max(1, candidates.length)]
      if (job !== undefined) {
        job.controller?.abort()
        await expect(job.promise).rejects.toMatchObject({ code: 'aborted' })
        job.outcome = 'rejected'
      }
    } else if (op.op === 'release') {
      const running = inState('running')
      const job = running[op.pick % Math.max(1, running.length)]
      if (job !== undefined) {
        const lease = await job.promise
        lease.release()
        lease.release()
      }
    } else if (op.op === 'advance') {
      time.advance(op.ms)
    } else if (op.op === 'models') {
      const upstream = UPSTREAMS[op.upstream] as SchedulerUpstream
      const before = new Map(inState('waiting').map((job) => [job.id, { key: modelKey(job.model, lists), boundTo: job.boundTo as string }]))
      lists.set(upstream.id, op.models === undefined ? undefined : [...new Set(op.models)])
      scheduler.setUpstreamModels(upstream.id, op.models)
      for (const [id, was] of before) {
        const job = jobs.get(id) as Tracked
        if (job.outcome === 'rejected') {
          await expect(job.promise).rejects.toMatchObject({ code: 'no_upstream' })
        } else if (job.outcome === 'waiting') {
          const now = scheduler.position(id)?.upstream as string
          // Only a job whose lane key changed, or whose upstream stopped serving it, moves.
          if (modelKey(job.model, lists) === was.key && eligible(job.model, lists, was.boundTo)) expect(now).toBe(was.boundTo)
          job.boundTo = now
        }
      }
    } else {
      const upstream = UPSTREAMS[op.upstream] as SchedulerUpstream
      healthy.set(upstream.id, op.healthy)
      scheduler.setHealthy(upstream.id, op.healthy)
    }
    check()
  }

  // Everything not aborted or refused is eventually served: make all upstreams healthy and drain.
  for (const upstream of UPSTREAMS) {
    healthy.set(upstream.id, true)
    scheduler.setHealthy(upstream.id, true)
  }
  for (let round = 0; round < 1000 && inState('running').length > 0; round++) {
    for (const job of inState('running')) (await job.promise).release()
    check()
  }
  await scheduler.onIdle()
  check()
  for (const job of jobs.values()) expect(['done', 'rejected']).toContain(job.outcome)

  if (options.checkFifo) {
    // FIFO within a class per upstream, among jobs that ran where they were bound (not stolen).
    for (const upstream of UPSTREAMS) {
      for (const jobClass of ['interactive', 'batch'] as const) {
        const served = [...jobs.values()].filter((job) => job.startedOn === upstream.id && job.boundTo === upstream.id && job.jobClass === jobClass)
        const bySeq = [...served].sort((a, b) => a.seq - b.seq).map((job) => job.id)
        const byStart = [...served].sort((a, b) => a.startIndex - b.startIndex).map((job) => job.id)
        expect(byStart).toEqual(bySeq)
      }
    }
  }
  scheduler.close()
}

describe('QueueScheduler properties', () => {
  it('keeps its invariants and FIFO within a class (no aging, no health changes)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary(false), { maxLength: 150, size: 'max' }), (ops) => runScenario(ops, { batchMaxWaitMs: Number.POSITIVE_INFINITY, checkFifo: true })),
      { numRuns: 150 },
    )
  })

  it('keeps its invariants with aging and health changes, and serves every job not aborted or refused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary(true), { maxLength: 150, size: 'max' }), (ops) => runScenario(ops, { batchMaxWaitMs: 30_000, checkFifo: false })),
      { numRuns: 150 },
    )
  })

  it('keeps its invariants while upstream model lists change: jobs re-routed in order or rejected no_upstream, each ending once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary(false, true), { maxLength: 150, size: 'max' }), (ops) => runScenario(ops, { batchMaxWaitMs: Number.POSITIVE_INFINITY, checkFifo: false })),
      { numRuns: 150 },
    )
  })

  it('keeps its invariants with model-list changes, aging, health changes and maxWaitMs timers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary(true, true), { maxLength: 150, size: 'max' }), (ops) => runScenario(ops, { batchMaxWaitMs: 30_000, checkFifo: false, maxWaitMs: 40_000 })),
      { numRuns: 150 },
    )
  })

  it('reports positions that match the order the dispatcher then serves (one upstream, aging on)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom<JobClass>('interactive', 'batch'), fc.nat(20_000), fc.boolean()), { minLength: 1, maxLength: 40, size: 'max' }),
        async (steps) => {
          const time = createFakeTime()
          const scheduler = new QueueScheduler({ upstreams: [{ id: 'u', slots: 1 }], batchMaxWaitMs: 30_000, now: time.now })
          const order: string[] = []
          scheduler.on('job-start', (event) => order.push(event.jobId))
          const promises = new Map<string, Promise<Lease>>()
          const controllers = new Map<string, AbortController>()
          steps.forEach(([jobClass, advance, abortLater], index) => {
            const controller = new AbortController()
            const promise = scheduler.acquire({ id: `j${index}`, class: jobClass }, { signal: controller.signal })
            promise.catch(() => {})
            promises.set(`j${index}`, promise)
            if (abortLater) controllers.set(`j${index}`, controller)
            time.advance(advance)
          })
          for (const [id, controller] of controllers) if (id !== 'j0') controller.abort()
          const waiting = [...promises.keys()].filter((id) => scheduler.status(id) === 'queued')
          const positions = new Map(waiting.map((id) => [id, scheduler.position(id)?.position]))
          expect([...positions.values()].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(waiting.map((_, index) => index + 1))
          order.length = 0
          for (let round = 0; round <= steps.length && scheduler.snapshot().running > 0; round++) {
            const running = [...promises.keys()].find((id) => scheduler.status(id) === 'running') as string
            ;(await promises.get(running))?.release()
          }
          expect(order).toEqual([...waiting].sort((a, b) => (positions.get(a) ?? 0) - (positions.get(b) ?? 0)))
          await scheduler.onIdle()
        },
      ),
      { numRuns: 200 },
    )
  })
})
