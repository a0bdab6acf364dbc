import { APIError } from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeResponseOptions, FakeUpstream } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import { seededRandom } from '../helpers/seeded-random.js'
import { withTimeout } from '../helpers/with-timeout.js'

/** What the fake does with one request, chosen by the test and carried in the request body. */
type Scenario = 'ok' | 'slow' | 'drop' | 'status-500' | 'stall' | 'json-for-stream' | 'error-event'

const SCENARIOS: Record<Scenario, FakeResponseOptions> = {
  ok: { tokens: 12 },
  slow: { tokens: 12, tokenDelayMs: 3 },
  drop: { tokens: 12, tokenDelayMs: 1, failure: { kind: 'drop', afterChunks: 4 } },
  'status-500': { failure: { kind: 'status', status: 500 } },
  stall: { failure: { kind: 'hang-after-headers' } },
  'json-for-stream': { tokens: 12, ignoreStream: true },
  'error-event': { chunks: [{ content: 'partial' }, { error: { code: 500, message: 'model crashed', type: 'server_error' } }] },
}

const expectedText = Array.from({ length: 12 }, (_, i) => (i === 0 ? 'tok0' : ` tok${i}`)).join('')

/**
 * Many requests at once over a small upstream, each with a fault picked by a seeded generator
 * (drops mid-stream, 500s, stalls past the read timeout, error events, JSON answers to stream
 * requests) and some abandoned by their client at a random moment. Whatever happens to each,
 * the gateway must end every job (no slot held, nothing queued, every upstream request closed)
 * and keep serving. Bounded: 48 requests, 8 at a time, every wait with a deadline.
 */
describe('faults under load: every job ends, every slot comes back', () => {
  let upstream: FakeUpstream | undefined
  let gateway: TestGateway | undefined

  afterEach(async () => {
    await gateway?.close()
    await upstream?.close()
    gateway = undefined
    upstream = undefined
  })

  it('survives a seeded mix of upstream faults and client aborts, streamed and not', async () => {
    upstream = await startFakeUpstream({
      slots: 2,
      respond: (request) => SCENARIOS[((request.body as { scenario?: Scenario } | undefined)?.scenario ?? 'ok') as Scenario],
    })
    gateway = await startQueuegate({ upstreams: [{ url: `${upstream.url}/v1`, slots: 2 }], readTimeoutMs: 300 })
    const client = gateway.client
    const random = seededRandom(20261122)
    const names = Object.keys(SCENARIOS) as Scenario[]
    const outcomes: string[] = []
    let abortedByClient = 0

    const one = async (index: number): Promise<void> => {
      const scenario = names[Math.floor(random() * names.length)] as Scenario
      const stream = random() < 0.6
      const abortAfterMs = random() < 0.3 ? Math.floor(random() * 20) : undefined
      const controller = new AbortController()
      const timer = abortAfterMs === undefined ? undefined : setTimeout(() => controller.abort(), abortAfterMs)
      const body = { model: 'fake-model', messages: [{ role: 'user' as const, content: `request ${index}` }], scenario }
      try {
        if (stream) {
          const chunks = await client.chat.completions.create({ ...body, stream: true }, { signal: controller.signal })
          let text = ''
          for await (const chunk of chunks) text += chunk.choices[0]?.delta.content ?? ''
          outcomes.push(`${scenario}:stream:${text === expectedText ? 'complete' : 'partial'}`)
        } else {
          const completion = await client.chat.completions.create(body, { signal: controller.signal })
          expect(completion.choices[0]?.message.content).toBe(expectedText)
          outcomes.push(`${scenario}:json:complete`)
        }
      } catch (error) {
        // Every failure reaches the client as an OpenAI-shaped error, or as its own abort.
        if (error instanceof APIError && error.status !== undefined) expect(typeof error.message).toBe('string')
        else expect(controller.signal.aborted || error instanceof APIError).toBe(true)
        outcomes.push(`${scenario}:${stream ? 'stream' : 'json'}:failed`)
      } finally {
        clearTimeout(timer)
        if (controller.signal.aborted) abortedByClient += 1
      }
    }

    for (let wave = 0; wave < 6; wave++) {
      await withTimeout(Promise.all(Array.from({ length: 8 }, (_, index) => one(wave * 8 + index))), 15_000, `wave ${wave}`)
    }
    expect(outcomes).toHaveLength(48)
    // The healthy scenarios that nobody aborted answered in full.
    expect(outcomes.filter((outcome) => outcome.startsWith('ok:') && outcome.endsWith('complete')).length).toBeGreaterThan(0)

    // Every job ended: no slot held, nothing queued, every upstream request closed.
    await withTimeout(gateway.gateway.scheduler.onIdle(), 5000, 'scheduler idle')
    expect(gateway.gateway.scheduler.snapshot()).toMatchObject({ running: 0, queued: 0 })
    await upstream.waitFor((u) => u.active === 0 && u.waiting === 0, 5000)
    // One end per job: a request its client abandoned before it reached the gateway has none.
    const ends = gateway.events.filter((event) => event.type === 'request-end')
    expect(ends.length).toBeLessThanOrEqual(48)
    expect(ends.length).toBeGreaterThanOrEqual(48 - abortedByClient)
    expect(new Set(ends.map((event) => (event as { jobId: string }).jobId)).size).toBe(ends.length)

    // And the gateway still serves.
    const after = await withTimeout(client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'after' }] }), 5000, 'after')
    expect(after.choices[0]?.message.content).toBe(expectedText)
  }, 60_000)
})
