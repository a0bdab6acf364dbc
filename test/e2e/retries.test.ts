/**
 * Issue 12's retries, end to end with the official openai client and the fake llama.cpp: a call
 * that failed before its first byte reached the client runs again on another upstream that serves
 * its model (5xx, 429, 503, a reset before the headers), at most `maxRetries` times; never once the
 * answer started, never for another 4xx; a pool that answers 429/503 everywhere gives the client
 * 429/503 with `Retry-After`; a reset after the request was sent is not "unreachable".
 */
import { APIError } from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream, FakeUpstreamOptions } from './fake-upstream.js'
import { hello, startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import type { GatewayOptions } from 'queuegate'

const upstreams: FakeUpstream[] = []
let gateway: TestGateway | undefined

afterEach(async () => {
  await gateway?.close()
  gateway = undefined
  await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()))
})

async function fakes(...options: FakeUpstreamOptions[]): Promise<FakeUpstream[]> {
  const started = await Promise.all(options.map((option) => startFakeUpstream(option)))
  upstreams.push(...started)
  return started
}

const chatCalls = (upstream: FakeUpstream): number => upstream.requests.filter((request) => request.path === '/v1/chat/completions').length

async function streamText(gw: TestGateway, content = 'hi'): Promise<string> {
  const stream = await gw.client.chat.completions.create({ ...hello, messages: [{ role: 'user', content }], stream: true })
  let text = ''
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
  return text
}

/** 200 requests, 8 at a time; the number that failed. */
async function twoHundred(gw: TestGateway): Promise<number> {
  let failed = 0
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < 200) {
      const index = next++
      await gw.client.chat.completions.create({ ...hello, messages: [{ role: 'user', content: `request ${index}` }] }).catch(() => {
        failed += 1
      })
    }
  }
  await Promise.all(Array.from({ length: 8 }, () => worker()))
  return failed
}

describe('retries on another upstream (issue 12)', () => {
  it('reproduction: without retries or ejection, the upstream that fails at once attracts the traffic (least-loaded favours the fast failer)', async () => {
    const [bad, good] = await fakes({ slots: 4, failure: { kind: 'status', status: 500 } }, { slots: 4, tokens: 1, tokenDelayMs: 2 })
    const options: GatewayOptions = { upstreams: [{ url: bad!.url, slots: 4 }, { url: good!.url, slots: 4 }], maxRetries: 0, ejectAfterFailures: 1000 }
    gateway = await startQueuegate(options)
    const failed = await twoHundred(gateway)
    expect(failed).toBe(chatCalls(bad!))
    // Most of them: the bad one is always the least loaded.
    expect(failed).toBeGreaterThan(100)
  })

  it('with the defaults, failed calls count against the upstream and are retried on the other: no client sees a failure', async () => {
    const [bad, good] = await fakes({ slots: 4, failure: { kind: 'status', status: 500 } }, { slots: 4, tokens: 1, tokenDelayMs: 2 })
    gateway = await startQueuegate({ upstreams: [{ url: bad!.url, slots: 4 }, { url: good!.url, slots: 4 }] })
    expect(await twoHundred(gateway)).toBe(0)
    expect(chatCalls(good!)).toBe(200)
    // Ejected after ejectAfterFailures (3) failures in a row; a few more were in flight.
    expect(chatCalls(bad!)).toBeLessThanOrEqual(8)
    const retried = gateway.events.filter((event) => event.type === 'upstream-error' && event.retry === 'another-upstream')
    expect(retried).toHaveLength(chatCalls(bad!))
    await expect(gateway.waitForEvent((event) => event.type === 'upstream-state' && event.state === 'ejected')).resolves.toMatchObject({ upstream: `${bad!.url}/v1` })
  })

  it('a streamed request that got a 500 before any byte is answered in full by the other upstream', async () => {
    const [bad, good] = await fakes({ failure: { kind: 'status', status: 500 } }, { tokens: 3 })
    gateway = await startQueuegate({ upstreams: [bad!.url, good!.url], stickyMaxImbalance: 0 })
    for (let index = 0; index < 4; index++) expect(await streamText(gateway, `chat ${index}`)).toBe('tok0 tok1 tok2')
    expect(chatCalls(bad!)).toBeGreaterThan(0)
    expect(chatCalls(good!)).toBe(4)
  })

  it('a reset after the request was sent is retried as such, not counted as unreachable (no cooldown)', async () => {
    const [bad, good] = await fakes({ failure: { kind: 'drop', afterChunks: 0 } }, { tokens: 2 })
    gateway = await startQueuegate({ upstreams: [bad!.url, good!.url], ejectAfterFailures: 1000 })
    for (let index = 0; index < 4; index++) {
      const answer = await gateway.client.chat.completions.create({ ...hello, messages: [{ role: 'user', content: `chat ${index}` }] })
      expect(answer.choices[0]?.message.content).toBe('tok0 tok1')
    }
    expect(chatCalls(bad!)).toBeGreaterThan(0)
    const errors = gateway.events.filter((event) => event.type === 'upstream-error')
    expect(errors.length).toBe(chatCalls(bad!))
    for (const event of errors) {
      expect(event).toMatchObject({ upstream: `${bad!.url}/v1`, retry: 'another-upstream', message: expect.stringMatching(/closed the connection after the request was sent/) })
      expect((event as { message: string }).message).not.toMatch(/could not be reached/)
    }
    // Not unreachable: no cooldown was started for it.
    expect(gateway.events.some((event) => event.type === 'upstream-health')).toBe(false)
  })

  it('never retries an upstream 4xx other than 429', async () => {
    const [bad, good] = await fakes({ failure: { kind: 'status', status: 400, body: { error: { message: 'bad field', type: 'invalid_request_error' } } } }, { tokens: 1 })
    gateway = await startQueuegate({ upstreams: [bad!.url, good!.url], stickyMaxImbalance: 0 })
    // The first request goes to the first upstream (both idle, round-robin starts there).
    const error = await gateway.client.chat.completions.create(hello).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 400, message: expect.stringContaining('bad field') })
    expect(chatCalls(bad!)).toBe(1)
    expect(chatCalls(good!)).toBe(0)
  })

  it('never retries once bytes of the answer reached the client: a stream cut mid-way ends with an error event', async () => {
    const [bad, good] = await fakes({ tokens: 6, tokenDelayMs: 1, failure: { kind: 'drop', afterChunks: 3 } }, { tokens: 1 })
    gateway = await startQueuegate({ upstreams: [bad!.url, good!.url] })
    const failure = await streamText(gateway).catch((caught: unknown) => caught)
    expect(failure).toBeInstanceOf(APIError)
    expect(chatCalls(bad!)).toBe(1)
    expect(chatCalls(good!)).toBe(0)
    expect(gateway.gateway.scheduler.snapshot().running).toBe(0)
  })

  it('stops after maxRetries: three upstreams failing, maxRetries 1 → two calls, then the client gets the 502', async () => {
    const failing = await fakes(...Array.from({ length: 3 }, () => ({ failure: { kind: 'status', status: 500 } }) as FakeUpstreamOptions))
    gateway = await startQueuegate({ upstreams: failing.map((upstream) => upstream.url), maxRetries: 1, ejectAfterFailures: 1000 })
    await expect(gateway.client.chat.completions.create(hello)).rejects.toMatchObject({ status: 502, code: 'upstream_error' })
    expect(failing.map(chatCalls).reduce((sum, calls) => sum + calls, 0)).toBe(2)
  })

  it('the whole pool answering 503 gives the client 503 with the upstreams\' Retry-After (it was dropped)', async () => {
    const busy = await fakes(
      { failure: { kind: 'status', status: 503, headers: { 'retry-after': '120' } } },
      { failure: { kind: 'status', status: 503, headers: { 'retry-after': '90' } } },
    )
    gateway = await startQueuegate({ upstreams: busy.map((upstream) => upstream.url), ejectAfterFailures: 1000 })
    const error = await gateway.client.chat.completions.create(hello).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(APIError)
    expect(error).toMatchObject({ status: 503, code: 'upstream_unavailable' })
    // The soonest any of them named; each was tried once (a wait of 90 s is past what a call waits out itself).
    expect((error as APIError).headers?.get('retry-after')).toBe('90')
    expect(busy.map(chatCalls)).toEqual([1, 1])
  })

  it('a 429 everywhere without Retry-After still tells the client when to come back', async () => {
    const [only] = await fakes({ failure: { kind: 'status', status: 429 } })
    gateway = await startQueuegate({ upstreams: [only!.url] })
    const error = await gateway.client.chat.completions.create(hello).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 429 })
    expect(Number((error as APIError).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(chatCalls(only!)).toBe(1)
  })

  it('a 429 with a short Retry-After and no other upstream: the call waits it out and runs again on the same one', async () => {
    const [only] = await fakes({ tokens: 2, respond: (request) => (request.seq === 0 ? { failure: { kind: 'status', status: 429, headers: { 'retry-after': '1' } } } : undefined) })
    gateway = await startQueuegate({ upstreams: [only!.url] })
    const started = Date.now()
    const answer = await gateway.client.chat.completions.create(hello)
    expect(answer.choices[0]?.message.content).toBe('tok0 tok1')
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(chatCalls(only!)).toBe(2)
    expect(gateway.events.find((event) => event.type === 'upstream-error')).toMatchObject({ retry: 'after-retry-after', waitMs: 1000 })
  })

  it('a call run again after a Retry-After keeps its place in line: it goes before a request that came after it', async () => {
    const content = (request: { body: unknown }) => (request.body as { messages?: Array<{ content?: unknown }> } | undefined)?.messages?.[0]?.content
    const [only] = await fakes({
      tokens: 2,
      respond: (request) => (request.seq === 0 ? { failure: { kind: 'status', status: 429, headers: { 'retry-after': '1' } } } : content(request) === 'Y' ? { tokens: 20, tokenDelayMs: 100 } : undefined),
    })
    gateway = await startQueuegate({ upstreams: [only!.url] })
    const ask = (text: string) => gateway!.client.chat.completions.create({ ...hello, messages: [{ role: 'user', content: text }] })
    // X gets a 429 and waits 1 s for its second attempt; meanwhile Y takes the slot (2 s) and Z queues behind it.
    const x = ask('X')
    await gateway.waitForEvent((event) => event.type === 'upstream-error')
    const y = ask('Y')
    await only!.waitFor((upstream) => upstream.active === 1)
    const z = ask('Z')
    await gateway.waitForEvent((event) => event.type === 'job-queued')
    await Promise.all([x, y, z])
    const order = only!.requests.filter((request) => request.path === '/v1/chat/completions').sort((a, b) => (a.startOrder ?? -1) - (b.startOrder ?? -1)).map(content)
    expect(order).toEqual(['X', 'Y', 'X', 'Z'])
  })

  it('maxRetries 0 turns retries off', async () => {
    const [bad, good] = await fakes({ failure: { kind: 'status', status: 500 } }, { tokens: 1 })
    gateway = await startQueuegate({ upstreams: [bad!.url, good!.url], maxRetries: 0 })
    await expect(gateway.client.chat.completions.create(hello)).rejects.toMatchObject({ status: 502 })
    expect(chatCalls(good!)).toBe(0)
  })
})
