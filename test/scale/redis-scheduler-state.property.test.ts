/**
 * Issue 14: the Redis scheduler state decides as the in-memory one does. The same random sequence of
 * operations (jobs of both classes, with and without thread keys and models, releases, aborts) runs on a
 * scheduler over each state; after every operation (once the Redis calls settled) the same jobs wait and
 * the same run, on the same upstream and slot. One replica: where several replicas race, the semantics
 * differ on purpose (the tests in redis-replicas.test.ts cover those). Aging is off here (its clock is
 * Redis's own), and operations are 3 ms apart so slot last-use times in milliseconds order as the
 * in-memory ones do.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { QueueScheduler } from '../../src/queue/queue-scheduler.js'
import type { JobClass, Lease, SchedulerUpstream } from '../../src/queue/queue-scheduler.js'
import { createRedisSchedulerState } from '../../src/scale/redis-scheduler-state.js'
import type { RedisSchedulerState } from '../../src/scale/redis-scheduler-state.js'
import { redisSkipReason, startRedis } from './redis-server.js'
import type { TestRedis } from './redis-server.js'

const skip = redisSkipReason()
if (skip !== undefined) console.warn(skip)

const UPSTREAMS: SchedulerUpstream[] = [
  { id: 'x', slots: 2 },
  { id: 'z', slots: 3, models: ['a', 'b'], slotAffinity: true },
]
const MODELS = [undefined, 'a', 'c'] as const

type Op = { op: 'enqueue'; jobClass: JobClass; key: number | undefined; model: (typeof MODELS)[number] } | { op: 'abort'; pick: number } | { op: 'release'; pick: number }

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('enqueue' as const), jobClass: fc.constantFrom<JobClass>('interactive', 'batch'), key: fc.option(fc.nat(4), { nil: undefined }), model: fc.constantFrom(...MODELS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('abort' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
)

/** One scheduler and what it granted. */
interface Side {
  scheduler: QueueScheduler
  leases: Map<string, Lease>
  controllers: Map<string, AbortController>
  outcomes: Map<string, string>
}

function side(scheduler: QueueScheduler): Side {
  return { scheduler, leases: new Map(), controllers: new Map(), outcomes: new Map() }
}

/** Jobs and where they stand: `queued`, `running x/1`, or how they ended. */
function picture(s: Side, ids: readonly string[]): string[] {
  return ids.map((id) => {
    const status = s.scheduler.status(id)
    if (status === 'running') {
      const lease = s.leases.get(id)
      return `${id} running ${lease?.upstream}/${lease?.slot}`
    }
    return `${id} ${status ?? s.outcomes.get(id) ?? 'gone'}`
  })
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(skip !== undefined)('Redis scheduler state against the in-memory one', () => {
  let redis: TestRedis
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis?.close()
  })

  it('another replica sees a waiting job with its place in the order (GET /v1/jobs/{id})', async () => {
    const [a, b] = await Promise.all([0, 1].map(() => createRedisSchedulerState({ url: redis.url, keyPrefix: 'lookup:' })))
    try {
      const scheduler = new QueueScheduler({ upstreams: [{ id: 'u', slots: 1 }], state: a as RedisSchedulerState })
      new QueueScheduler({ upstreams: [{ id: 'u', slots: 1 }], state: b as RedisSchedulerState })
      const first = scheduler.acquire({ id: 'first' })
      void scheduler.acquire({ id: 'second', class: 'batch' }).then((lease) => lease.release())
      void scheduler.acquire({ id: 'third' }).then((lease) => lease.release())
      await a?.settled()
      expect(await b?.lookup('first')).toMatchObject({ status: 'running', upstream: 'u', slot: 0, kind: 'interactive', replica: a?.replica })
      // Interactive before batch: the later interactive job is first in line.
      expect(await b?.lookup('third')).toMatchObject({ status: 'queued', position: 1 })
      expect(await b?.lookup('second')).toMatchObject({ status: 'queued', position: 2, kind: 'batch' })
      expect(await b?.lookup('unknown')).toBeUndefined()
      ;(await first).release()
      await a?.settled()
      expect(await b?.lookup('first')).toMatchObject({ status: 'done' })
    } finally {
      await Promise.all([a?.close(), b?.close()])
    }
  })

  it('same operations, same decisions', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 30 }), async (ops) => {
        const state: RedisSchedulerState = await createRedisSchedulerState({ url: redis.url, keyPrefix: `property-${run++}:`, batchMaxWaitMs: 1e9 })
        try {
          const memory = side(new QueueScheduler({ upstreams: UPSTREAMS, batchMaxWaitMs: 1e9 }))
          const shared = side(new QueueScheduler({ upstreams: UPSTREAMS, batchMaxWaitMs: 1e9, state }))
          await state.settled()
          const ids: string[] = []
          for (const [index, op] of ops.entries()) {
            if (op.op === 'enqueue') {
              const id = `j${index}`
              ids.push(id)
              for (const s of [memory, shared]) {
                const controller = new AbortController()
                s.controllers.set(id, controller)
                s.scheduler.acquire({ id, class: op.jobClass, threadKey: op.key === undefined ? undefined : `k${op.key}`, model: op.model }, { signal: controller.signal }).then(
                  (lease) => s.leases.set(id, lease),
                  (error: { code?: string }) => s.outcomes.set(id, `rejected ${error.code ?? 'error'}`),
                )
              }
            } else {
              // The op picks among the in-memory side's jobs; the same id on both sides.
              const candidates = ids.filter((id) => memory.scheduler.status(id) === (op.op === 'abort' ? 'queued' : 'running'))
              const id = candidates[op.pick % Math.max(1, candidates.length)]
              if (id !== undefined) {
                for (const s of [memory, shared]) {
                  if (op.op === 'abort') s.controllers.get(id)?.abort()
                  else {
                    s.leases.get(id)?.release()
                    s.outcomes.set(id, 'released')
                  }
                }
              }
            }
            await state.settled()
            await pause(3)
            expect(picture(shared, ids)).toEqual(picture(memory, ids))
          }
        } finally {
          await state.close()
        }
      }),
      { numRuns: 12, seed: 14, endOnFailure: true },
    )
  }, 120_000)
})
