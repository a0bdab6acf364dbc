/**
 * Issue 12's deadlines, end to end with the official openai client and the fake llama.cpp, on the
 * gateway's fake clock: the first byte (`ttfbTimeoutMs`), the gap between events of a stream
 * (`stallTimeoutMs`, a trickle that never completes an event included) and the whole call
 * (`maxDurationMs`). Each ends the job with a clear error (504 before the answer started, and
 * then retried elsewhere; the error event after), frees the slot, and says which upstream.
 * (It was: with the 1 h read timeout two hung requests held every slot for up to an hour.)
 */
import { APIError } from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream, FakeUpstreamOptions } from './fake-upstream.js'
import { hello, startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import type { GatewayOptions } from 'queuegate'
import { createFakeClock } from '../helpers/fake-clock.js'
import type { FakeClock } from '../helpers/fake-clock.js'

const upstreams: FakeUpstream[] = []
let gateway: TestGateway | undefined
let clock: FakeClock

afterEach(async () => {
  await gateway?.close()
  gateway = undefined
  await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()))
})

async function setup(fakes: FakeUpstreamOptions[], options: Partial<GatewayOptions> = {}): Promise<{ fakes: FakeUpstream[]; gw: TestGateway }> {
  const started = await Promise.all(fakes.map((option) => startFakeUpstream(option)))
  upstreams.push(...started)
  clock = createFakeClock()
  gateway = await startQueuegate({ upstreams: started.map((fake) => fake.url), ttfbTimeoutMs: 1000, stallTimeoutMs: 400, ...options, _internal: { clock } })
  return { fakes: started, gw: gateway }
}

/** Advances the gateway's clock in steps of `stepMs` (real time passing between them for sockets) until `done()` or `maxMs` of fake time. */
async function advanceUntil(done: () => boolean, stepMs: number, maxMs: number): Promise<void> {
  for (let elapsed = 0; elapsed <= maxMs && !done(); elapsed += stepMs) {
    clock.advance(stepMs)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Reads a stream to its end in the background (the gateway sends its headers with the first byte); the text it got and the error it ended with, if any. */
function readStream(gw: TestGateway): { text: string; error: unknown; done: () => boolean } {
  let finished = false
  const result = { text: '', error: undefined as unknown, done: () => finished }
  void (async () => {
    try {
      const stream = await gw.client.chat.completions.create({ ...hello, stream: true })
      for await (const chunk of stream) result.text += chunk.choices[0]?.delta.content ?? ''
    } catch (error) {
      result.error = error
    } finally {
      finished = true
    }
  })()
  return result
}

/** Waits (real time, bounded) until `done()`. */
async function until(done: () => boolean, timeoutMs = 5000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !done(); ) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const running = (gw: TestGateway): number => gw.gateway.scheduler.snapshot().running

describe('deadlines (issue 12)', () => {
  it('no first byte within ttfbTimeoutMs from the only upstream: 504 upstream_timeout naming it, the slot freed, the upstream request closed', async () => {
    const { fakes, gw } = await setup([{ failure: { kind: 'hang' } }])
    const answer = gw.client.chat.completions.create(hello).catch((error: unknown) => error)
    await fakes[0]!.waitFor((fake) => fake.active === 1)
    let settled = false
    void answer.then(() => (settled = true))
    await advanceUntil(() => settled, 250, 3000)
    const error = await answer
    expect(error).toBeInstanceOf(APIError)
    expect(error).toMatchObject({ status: 504, code: 'upstream_timeout', message: expect.stringContaining(`Upstream ${fakes[0]!.url}/v1 sent no first byte within 1000 ms`) })
    expect(running(gw)).toBe(0)
    await fakes[0]!.waitFor((fake) => fake.active === 0)
    expect(fakes[0]!.requests[0]?.closedByClient).toBe(true)
    expect(gw.events.find((event) => event.type === 'upstream-error')).toMatchObject({ upstream: `${fakes[0]!.url}/v1` })
  })

  it('a first-byte timeout before the answer started is retried on another upstream', async () => {
    const { fakes, gw } = await setup([{ failure: { kind: 'hang' } }, { tokens: 2 }])
    const answer = gw.client.chat.completions.create(hello)
    await fakes[0]!.waitFor((fake) => fake.active === 1)
    let settled = false
    void answer.then(() => (settled = true), () => (settled = true))
    await advanceUntil(() => settled, 250, 3000)
    expect((await answer).choices[0]?.message.content).toBe('tok0 tok1')
    expect(gw.events.find((event) => event.type === 'upstream-error')).toMatchObject({ upstream: `${fakes[0]!.url}/v1`, retry: 'another-upstream', message: expect.stringContaining('no first byte') })
  })

  it('a stream whose headers came but no event: the error event after ttfbTimeoutMs, slot freed', async () => {
    const { fakes, gw } = await setup([{ failure: { kind: 'hang-after-headers' } }])
    const result = readStream(gw)
    await advanceUntil(result.done, 250, 3000)
    expect(result.done()).toBe(true)
    expect(result.error).toBeInstanceOf(APIError)
    expect(String((result.error as Error).message)).toContain('no first byte within 1000 ms')
    expect(running(gw)).toBe(0)
    await fakes[0]!.waitFor((fake) => fake.active === 0)
  })

  it('a stream that stops mid-way: the error event after stallTimeoutMs, the text before it kept, the failure counted against the upstream', async () => {
    const { fakes, gw } = await setup([{ tokens: 6, failure: { kind: 'stall', afterChunks: 3 } }])
    const result = readStream(gw)
    await until(() => result.text !== '')
    await advanceUntil(result.done, 100, 3000)
    expect(result.done()).toBe(true)
    expect(String((result.error as Error).message)).toContain(`Upstream ${fakes[0]!.url}/v1 sent no event for 400 ms`)
    // The role chunk and two tokens came before it stopped.
    expect(result.text).toBe('tok0 tok1')
    expect(running(gw)).toBe(0)
    await fakes[0]!.waitFor((fake) => fake.active === 0)
    const end = await gw.waitForEvent((event) => event.type === 'request-end')
    expect(end).toMatchObject({ status: 200, upstream: `${fakes[0]!.url}/v1`, error: expect.stringContaining('sent no event') })
    const health = (await (await fetch(`${gw.url}/healthz`)).json()) as { workers: Array<{ failures: number; last_error: string }> }
    expect(health.workers[0]).toMatchObject({ failures: 1, last_error: expect.stringContaining('sent no event') })
  })

  it('a trickle of bytes that never completes an event counts as a stall', async () => {
    const { fakes, gw } = await setup([{ tokens: 4, failure: { kind: 'trickle', afterChunks: 2, everyMs: 5 } }])
    const result = readStream(gw)
    await until(() => result.text !== '')
    await advanceUntil(result.done, 100, 3000)
    expect(result.done()).toBe(true)
    expect(String((result.error as Error).message)).toContain('sent no event for 400 ms')
    expect(running(gw)).toBe(0)
  })

  it('a stream that keeps sending is not stalled, however long it runs', async () => {
    const { gw } = await setup([{ tokens: 30, tokenDelayMs: 15 }])
    const result = readStream(gw)
    // 30 tokens at 15 ms of real time each, the fake clock running about twice as fast: longer than the stall deadline in all.
    await advanceUntil(result.done, 20, 100_000)
    expect(result.error).toBeUndefined()
    expect(result.text.split(' ')).toHaveLength(30)
  })

  it('maxDurationMs ends a call that runs too long, without counting it against the upstream', async () => {
    const { fakes, gw } = await setup([{ tokens: 200, tokenDelayMs: 10 }], { maxDurationMs: 2000, stallTimeoutMs: 60_000 })
    const result = readStream(gw)
    await until(() => result.text !== '')
    await advanceUntil(result.done, 250, 5000)
    expect(result.done()).toBe(true)
    expect(String((result.error as Error).message), String((result.error as Error).message)).toContain('ran longer than maxDurationMs (2000 ms)')
    expect(running(gw)).toBe(0)
    await fakes[0]!.waitFor((fake) => fake.active === 0)
    const health = (await (await fetch(`${gw.url}/healthz`)).json()) as { workers: Array<{ failures: number }> }
    expect(health.workers[0]?.failures).toBe(0)
  })
})
