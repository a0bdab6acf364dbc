import { afterEach, describe, expect, it } from 'vitest'
import { createGateway } from 'queuegate'
import type { Gateway } from 'queuegate'
import { startFakeUpstream } from '../e2e/fake-upstream.js'
import type { FakeUpstream } from '../e2e/fake-upstream.js'
import { collectChunks } from '../helpers/sse.js'
import { withTimeout } from '../helpers/with-timeout.js'

/**
 * `gateway.fetch` called directly with standard `Request`s, as a framework that speaks fetch
 * (or a test) does: no node bridge in between, so every response here goes through the light
 * response's real `Response`, and a streamed answer through `byteSourceStream`.
 */
describe('createGateway: fetch with web-standard Requests', () => {
  let upstream: FakeUpstream | undefined
  let gateway: Gateway | undefined

  afterEach(async () => {
    await gateway?.close({ graceMs: 0 })
    await upstream?.close()
    gateway = undefined
    upstream = undefined
  })

  async function setup(options: Parameters<typeof startFakeUpstream>[0] = {}): Promise<Gateway> {
    upstream = await startFakeUpstream(options)
    gateway = createGateway({ upstreams: [{ url: `${upstream.url}/v1`, slots: 1 }], discoverModels: false })
    return gateway
  }

  const chat = (body: Record<string, unknown>, init: RequestInit = {}): Request =>
    new Request('http://gateway.test/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], ...body }),
      ...init,
    })

  it('answers a non-streamed completion as a real Response with the job id', async () => {
    const gw = await setup({ tokens: 3 })
    const response = await gw.fetch(chat({}))
    expect(response).toBeInstanceOf(Response)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(response.headers.get('x-queuegate-job-id')).toMatch(/^[0-9a-f]{32}$/)
    const completion = (await response.json()) as { choices: Array<{ message: { content: string } }> }
    expect(completion.choices[0]?.message.content).toBe('tok0 tok1 tok2')
  })

  it('streams an answer through response.body, ending with [DONE]', async () => {
    const gw = await setup({ tokens: 5, tokenDelayMs: 1 })
    const response = await gw.fetch(chat({ stream: true }))
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(response.headers.get('cache-control')).toBe('no-cache')
    const { chunks, done } = await withTimeout(collectChunks(response), 5000, 'stream')
    const text = chunks.map((chunk) => (chunk as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '').join('')
    expect(text).toBe('tok0 tok1 tok2 tok3 tok4')
    expect(done).toBe(true)
  })

  it('cancelling the response body mid-stream frees the slot and closes the upstream request', async () => {
    const gw = await setup({ tokens: 500, tokenDelayMs: 10 })
    const response = await gw.fetch(chat({ stream: true }))
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await withTimeout(reader.read(), 5000, 'first bytes')
    await reader.cancel()
    await withTimeout(upstream!.waitFor((u) => u.requests.some((request) => request.path.endsWith('/chat/completions') && request.closedByClient)), 5000, 'upstream closed')
    expect(gw.scheduler.snapshot().running).toBe(0)
    // The next answer is short: at 500 tokens of 10 ms it took 4.99 s against this 5 s deadline.
    upstream!.setOptions({ tokens: 3 })
    const next = await withTimeout(gw.fetch(chat({})), 5000, 'next request')
    expect(next.status).toBe(200)
  })

  it('answers errors as OpenAI-shaped JSON Responses', async () => {
    const gw = await setup()
    const invalid = await gw.fetch(new Request('http://gateway.test/v1/chat/completions', { method: 'POST', body: '{nope' }))
    expect(invalid.status).toBe(400)
    expect(((await invalid.json()) as { error: { code: string } }).error.code).toBe('invalid_json')
    const missing = await gw.fetch(new Request('http://gateway.test/v2/x'))
    expect(missing.status).toBe(404)
    const health = await gw.fetch(new Request('http://gateway.test/healthz'))
    expect(await health.json()).toMatchObject({ ok: true, upstreams: 1 })
  })

  it('routes by the URL path whatever the host, query or trailing slash', async () => {
    const gw = await setup({ tokens: 1 })
    const response = await gw.fetch(
      new Request('http://other.host:9/v1/chat/completions/?trace=1', { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }) }),
    )
    expect(response.status).toBe(200)
    await response.arrayBuffer()
  })
})
