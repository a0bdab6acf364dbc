import { afterEach, describe, expect, it } from 'vitest'
import { createRedisSchedulerState } from 'queuegate/server'
import type { RedisSchedulerState } from 'queuegate/server'
import { startFakeUpstream } from '../e2e/fake-upstream.js'
import type { FakeUpstream } from '../e2e/fake-upstream.js'
import { startQueuegate } from '../e2e/start-queuegate.js'
import type { TestGateway } from '../e2e/start-queuegate.js'
import { redisSkipReason, startRedis } from './redis-server.js'
import type { TestRedis } from './redis-server.js'

const skip = redisSkipReason()
if (skip !== undefined) console.warn(skip)

describe.skipIf(skip !== undefined)('smoke', () => {
  const cleanups: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('two in-process gateways share 2 slots', async () => {
    const redis: TestRedis = await startRedis()
    cleanups.push(() => redis.close())
    const upstream: FakeUpstream = await startFakeUpstream({ slots: 2, tokens: 5, tokenDelayMs: 5 })
    cleanups.push(() => upstream.close())
    const gateways: TestGateway[] = []
    const states: RedisSchedulerState[] = []
    for (let i = 0; i < 2; i++) {
      const state = await createRedisSchedulerState({ url: redis.url, leaseTtlMs: 3000 })
      states.push(state)
      const gateway = await startQueuegate({ upstreams: [{ url: `${upstream.url}/v1`, slots: 2 }], schedulerState: state })
      gateways.push(gateway)
      cleanups.push(async () => {
        await gateway.close()
        await state.close()
      })
    }
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const stream = await (gateways[i % 2] as TestGateway).client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `hi ${i}` }], stream: true })
        let text = ''
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
        return text
      }),
    )
    expect(results.every((text) => text.length > 0)).toBe(true)
    expect(upstream.maxInFlight).toBeLessThanOrEqual(2)
    console.log(states.map((s) => s.calls))
  }, 30_000)
})
