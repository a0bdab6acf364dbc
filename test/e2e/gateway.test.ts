import http from 'node:http'
import { APIError } from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { hello, startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import { collectChunks } from '../helpers/sse.js'
import { withTimeout } from '../helpers/with-timeout.js'

const expectedText = (tokens: number): string => Array.from({ length: tokens }, (_, i) => (i === 0 ? 'tok0' : ` tok${i}`)).join('')

describe('gateway end to end (openai client → queuegate → fake llama.cpp)', () => {
  const upstreams: FakeUpstream[] = []
  let gateway: TestGateway | undefined

  afterEach(async () => {
    await gateway?.close()
    gateway = undefined
    await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()))
  })

  async function fake(options: Parameters<typeof startFakeUpstream>[0] = {}): Promise<FakeUpstream> {
    const upstream = await startFakeUpstream(options)
    upstreams.push(upstream)
    return upstream
  }

  it('answers a non-streamed chat completion', async () => {
    const upstream = await fake({ tokens: 5 })
    gateway = await startQueuegate({ upstreams: [`${upstream.url}/v1`] })
    const completion = await gateway.client.chat.completions.create(hello)
    expect(completion.choices[0]?.message.content).toBe(expectedText(5))
    expect(upstream.requests[0]?.path).toBe('/v1/chat/completions')
    expect(upstream.requests[0]?.body).toMatchObject({ model: 'fake-model', messages: hello.messages })
  })

  it('streams a chat completion chunk by chunk, with SSE headers, the job id and [DONE]', async () => {
    const upstream = await fake({ tokens: 7 })
    gateway = await startQueuegate({ upstreams: [upstream.url] })
    const stream = await gateway.client.chat.completions.create({ ...hello, stream: true })
    let text = ''
    let chunks = 0
    for await (const chunk of stream) {
      chunks += 1
      text += chunk.choices[0]?.delta.content ?? ''
    }
    expect(text).toBe(expectedText(7))
    expect(chunks).toBeGreaterThanOrEqual(8)

    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...hello, stream: true }) })
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(response.headers.get('cache-control')).toBe('no-cache')
    expect(response.headers.get('x-accel-buffering')).toBe('no')
    expect(response.headers.get('x-queuegate-job-id')).toMatch(/^[0-9a-f]{32}$/)
    const { done, chunks: events } = await collectChunks(response)
    expect(done).toBe(true)
    expect(events.at(0)).toMatchObject({ object: 'chat.completion.chunk' })
  })

  it('streams an answer from an upstream that ignored stream: true and sent one JSON body', async () => {
    const upstream = await fake({ tokens: 4, ignoreStream: true })
    gateway = await startQueuegate({ upstreams: [upstream.url] })
    let text = ''
    let finish: string | null | undefined
    for await (const chunk of await gateway.client.chat.completions.create({ ...hello, stream: true })) {
      text += chunk.choices[0]?.delta.content ?? ''
      finish ??= chunk.choices[0]?.finish_reason
    }
    expect(text).toBe(expectedText(4))
    expect(finish).toBe('stop')
  })

  it('accepts the old full …/v1/chat/completions upstream URL form', async () => {
    const upstream = await fake({ tokens: 2 })
    gateway = await startQueuegate({ upstreams: [`${upstream.url}/v1/chat/completions`] })
    const completion = await gateway.client.chat.completions.create(hello)
    expect(completion.choices[0]?.message.content).toBe(expectedText(2))
  })

  it('serves 5 concurrent requests one at a time through a 1-slot upstream, all successfully', async () => {
    const upstream = await fake({ slots: 8, tokens: 4, tokenDelayMs: 2 })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }] })
    const client = gateway.client
    const texts = await Promise.all(
      Array.from({ length: 5 }, async (_, index) => {
        if (index % 2 === 0) return (await client.chat.completions.create(hello)).choices[0]?.message.content
        let text = ''
        for await (const chunk of await client.chat.completions.create({ ...hello, stream: true })) text += chunk.choices[0]?.delta.content ?? ''
        return text
      }),
    )
    expect(texts).toEqual(Array.from({ length: 5 }, () => expectedText(4)))
    expect(upstream.maxConcurrency).toBe(1)
    expect(upstream.requests.filter((request) => request.path === '/v1/chat/completions')).toHaveLength(5)
  })

  it('spreads load over two upstreams', async () => {
    const a = await fake({ slots: 4, tokens: 3, tokenDelayMs: 5 })
    const b = await fake({ slots: 4, tokens: 3, tokenDelayMs: 5 })
    gateway = await startQueuegate({ upstreams: [{ url: a.url, slots: 1 }, { url: b.url, slots: 1 }] })
    const client = gateway.client
    // Distinct conversations, so stickiness does not pin them together.
    await Promise.all(Array.from({ length: 6 }, (_, index) => client.chat.completions.create({ ...hello, messages: [{ role: 'user', content: `question ${index}` }] })))
    expect(a.requests.length).toBeGreaterThan(0)
    expect(b.requests.length).toBeGreaterThan(0)
    expect(a.requests.length + b.requests.length).toBe(6)
    expect(a.maxConcurrency).toBe(1)
    expect(b.maxConcurrency).toBe(1)
  })

  it('frees the slot when a client aborts mid-stream, and the upstream sees its request closed', async () => {
    const upstream = await fake({ slots: 4, tokens: 200, tokenDelayMs: 20 })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }] })
    const controller = new AbortController()
    const stream = await gateway.client.chat.completions.create({ ...hello, stream: true }, { signal: controller.signal })
    let received = 0
    // Depending on timing the SDK either throws an abort error or ends the iteration.
    await (async () => {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) received += 1
        if (received === 2) controller.abort()
      }
    })().catch(() => {})
    expect(received).toBe(2)
    await upstream.waitFor((u) => u.requests[0]?.closedByClient === true)
    const ended = await gateway.waitForEvent((event) => event.type === 'request-end')
    expect(ended).toMatchObject({ status: 499 })
    expect(gateway.gateway.scheduler.snapshot().running).toBe(0)
    // The next request gets the slot at once and completes.
    upstream.setOptions({ tokens: 2, tokenDelayMs: 0 })
    const next = await withTimeout(gateway.client.chat.completions.create(hello), 5000, 'next request')
    expect(next.choices[0]?.message.content).toBe(expectedText(2))
    expect(upstream.maxConcurrency).toBe(1)
  })

  it('a shutdown that outlasts its grace ends a running stream with an error event, and the upstream request is closed', async () => {
    const upstream = await fake({ slots: 4, tokens: 200, tokenDelayMs: 20 })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }] })
    const stream = await gateway.client.chat.completions.create({ ...hello, stream: true })
    let received = 0
    let closing: Promise<void> | undefined
    const failure = await (async () => {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) received += 1
        if (received === 2) closing ??= gateway!.gateway.close({ graceMs: 30 })
      }
    })().then(
      () => undefined,
      (error: unknown) => error,
    )
    await withTimeout(closing ?? Promise.resolve(), 5000, 'gateway.close()')
    expect(failure).toBeInstanceOf(APIError)
    expect((failure as APIError).message).toMatch(/shutting down/)
    expect(received).toBeLessThan(200)
    await upstream.waitFor((u) => u.requests[0]?.closedByClient === true)
    const ended = await gateway.waitForEvent((event) => event.type === 'request-end')
    expect(ended).toMatchObject({ status: 200, error: expect.stringMatching(/shutting down/) })
  })

  it('frees the slot when a non-streaming client aborts', async () => {
    const upstream = await fake({ slots: 4, tokens: 100, tokenDelayMs: 20 })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }] })
    const controller = new AbortController()
    const pending = gateway.client.chat.completions.create(hello, { signal: controller.signal })
    await upstream.waitFor((u) => u.active === 1)
    controller.abort()
    await expect(pending).rejects.toThrow()
    await upstream.waitFor((u) => u.requests[0]?.closedByClient === true)
    await gateway.waitForEvent((event) => event.type === 'request-end')
    expect(gateway.gateway.scheduler.snapshot().running).toBe(0)
  })

  it('lists configured models, and the upstreams\' own models when none are configured', async () => {
    const upstream = await fake({ models: ['llama-3', 'qwen3'] })
    gateway = await startQueuegate({ upstreams: [upstream.url] })
    const listed = await gateway.client.models.list()
    expect(listed.data.map((model) => model.id)).toEqual(['llama-3', 'qwen3'])
    await gateway.close()
    gateway = await startQueuegate({ upstreams: [upstream.url], models: ['alpha', 'beta'] })
    const configured = await gateway.client.models.list()
    expect(configured.data.map((model) => model.id)).toEqual(['alpha', 'beta'])
  })

  it('gives a missing model the first configured model', async () => {
    const upstream = await fake({ tokens: 1 })
    gateway = await startQueuegate({ upstreams: [upstream.url], models: ['alpha', 'beta'] })
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: hello.messages }) })
    expect(response.status).toBe(200)
    expect(upstream.requests[0]?.body).toMatchObject({ model: 'alpha' })
  })

  it('reports upstreams and jobs on /healthz and /v1/jobs/{id}', async () => {
    const upstream = await fake({ tokens: 1 })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 3 }] })
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(hello) })
    await response.json()
    const jobId = response.headers.get('x-queuegate-job-id')
    const health = await (await fetch(`${gateway.url}/healthz`)).json()
    expect(health).toMatchObject({ ok: true, upstreams: 1, workers: [{ id: 0, upstream: `${upstream.url}/v1`, slots: 3, running: 0, queued: 0 }] })
    const job = await (await fetch(`${gateway.url}/v1/jobs/${jobId}`)).json()
    expect(job).toMatchObject({ id: jobId, status: 'done', upstream: `${upstream.url}/v1`, kind: 'interactive', model: 'fake-model' })
    const missing = await fetch(`${gateway.url}/v1/jobs/nope`)
    expect(missing.status).toBe(404)
    expect((await missing.json()).error.code).toBe('job_not_found')
  })

  it('queues and proxies other /v1 POSTs unchanged (embeddings, completions)', async () => {
    const upstream = await fake()
    gateway = await startQueuegate({ upstreams: [upstream.url] })
    const embedding = await gateway.client.embeddings.create({ model: 'fake-model', input: 'hello' })
    expect(embedding.data[0]?.embedding.length).toBeGreaterThan(0)
    const completion = await gateway.client.completions.create({ model: 'fake-model', prompt: 'Once' })
    expect(completion.choices[0]).toBeDefined()
    expect(upstream.requests.map((request) => request.path)).toEqual(['/v1/embeddings', '/v1/completions'])
  })

  it('forwards /v1/chat/completions_passthrough and /v1/agent/chat/completions to the chat endpoint', async () => {
    const upstream = await fake({ tokens: 1 })
    gateway = await startQueuegate({ upstreams: [upstream.url] })
    for (const path of ['/v1/chat/completions_passthrough', '/v1/agent/chat/completions']) {
      const response = await fetch(`${gateway.url}${path}`, { method: 'POST', body: JSON.stringify(hello) })
      expect(response.status).toBe(200)
      expect((await response.json()).choices[0].message.content).toBe('tok0')
    }
    expect(upstream.requests.map((request) => request.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions'])
  })
})

describe('gateway errors (OpenAI-shaped, and the gateway keeps serving)', () => {
  const upstreams: FakeUpstream[] = []
  let gateway: TestGateway | undefined

  afterEach(async () => {
    await gateway?.close()
    gateway = undefined
    await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()))
  })

  async function setup(options: Parameters<typeof startFakeUpstream>[0] = {}, gatewayOptions: Partial<Parameters<typeof startQueuegate>[0]> = {}): Promise<{ upstream: FakeUpstream; gateway: TestGateway }> {
    const upstream = await startFakeUpstream({ tokens: 2, ...options })
    upstreams.push(upstream)
    gateway = await startQueuegate({ upstreams: [upstream.url], ...gatewayOptions })
    return { upstream, gateway }
  }

  async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { error: Record<string, unknown> } }> {
    const response = await fetch(`${gateway!.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
    return { status: response.status, body: (await response.json()) as { error: Record<string, unknown> } }
  }

  async function stillServes(): Promise<void> {
    const completion = await gateway!.client.chat.completions.create(hello)
    expect(completion.choices[0]?.message.content).toBe('tok0 tok1')
  }

  it('400 for invalid JSON, a non-object body, and missing or bad messages', async () => {
    await setup()
    const invalid = await post('{"model": ')
    expect(invalid.status).toBe(400)
    expect(invalid.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' })
    expect(String(invalid.body.error.message)).toContain('not valid JSON')
    expect((await post('[1,2]')).status).toBe(400)
    expect((await post('"text"')).status).toBe(400)
    const missing = await post(JSON.stringify({ model: 'm' }))
    expect(missing.status).toBe(400)
    expect(missing.body.error).toMatchObject({ param: 'messages', code: 'invalid_messages' })
    expect((await post(JSON.stringify({ model: 'm', messages: 'hi' }))).status).toBe(400)
    await expect(gateway!.client.chat.completions.create({ model: 'm', messages: 'nope' as never })).rejects.toMatchObject({ status: 400 })
    await stillServes()
  })

  it('413 for a body over maxBodyBytes', async () => {
    await setup({}, { maxBodyBytes: 1024 })
    const big = JSON.stringify({ ...hello, messages: [{ role: 'user', content: 'x'.repeat(4096) }] })
    const response = await post(big)
    expect(response.status).toBe(413)
    expect(response.body.error.code).toBe('payload_too_large')
    await stillServes()
  })

  it('413 also for a chunked body with no content-length, as soon as it passes the limit', async () => {
    await setup({}, { maxBodyBytes: 1024 })
    const { port } = new URL(gateway!.url)
    const answer = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (text: string) => (body += text))
        response.on('end', () => resolve({ status: response.statusCode, body }))
      })
      request.on('error', reject)
      let sent = 0
      const pump = (): void => {
        while (sent < 100_000) {
          sent += 1000
          if (!request.write('x'.repeat(1000))) {
            request.once('drain', pump)
            return
          }
        }
        request.end()
      }
      pump()
    })
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.body).error.code).toBe('payload_too_large')
    await stillServes()
  })

  it('404 model_not_found for an unknown model when models are configured', async () => {
    await setup({}, { models: ['fake-model'] })
    const error = await gateway!.client.chat.completions.create({ ...hello, model: 'gpt-9' }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(APIError)
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' })
    await stillServes()
  })

  it('502 with a clear message when the upstream refuses connections', async () => {
    const closed = await startFakeUpstream()
    const url = closed.url
    await closed.close()
    const live = await startFakeUpstream({ tokens: 2 })
    upstreams.push(live)
    gateway = await startQueuegate({ upstreams: [url] })
    const error = await gateway.client.chat.completions.create(hello).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 502, code: 'upstream_unreachable' })
    expect(String((error as Error).message)).toContain('could not be reached')
    expect(gateway.gateway.scheduler.snapshot().running).toBe(0)
    // The only upstream is never benched: the next request tries again and fails fast too.
    await expect(gateway.client.chat.completions.create(hello)).rejects.toMatchObject({ status: 502 })
    expect(gateway.gateway.scheduler.snapshot().upstreams[0]?.healthy).toBe(true)
  })

  it('runs a job on another upstream when its own cannot be reached, and benches the dead one for a cooldown', async () => {
    const dead = await startFakeUpstream()
    const deadUrl = dead.url
    await dead.close()
    const live = await startFakeUpstream({ tokens: 2, slots: 4 })
    upstreams.push(live)
    gateway = await startQueuegate({ upstreams: [deadUrl, { url: live.url, slots: 2 }], unhealthyCooldownMs: 300 })
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, index) => gateway!.client.chat.completions.create({ ...hello, messages: [{ role: 'user', content: `chat ${index}` }] })),
    )
    expect(answers.map((answer) => answer.choices[0]?.message.content)).toEqual(Array.from({ length: 6 }, () => 'tok0 tok1'))
    expect(live.requests.filter((request) => request.path === '/v1/chat/completions')).toHaveLength(6)
    const down = await gateway.waitForEvent((event) => event.type === 'upstream-health' && !event.healthy)
    expect(down).toMatchObject({ upstream: `${deadUrl}/v1` })
    expect(((await (await fetch(`${gateway.url}/healthz`)).json()) as { workers: Array<{ healthy: boolean }> }).workers.map((worker) => worker.healthy)).toEqual([false, true])
    await gateway.waitForEvent((event) => event.type === 'upstream-health' && event.healthy, 5000)
    const streamed = await gateway.client.chat.completions.create({ ...hello, stream: true, messages: [{ role: 'user', content: 'after' }] })
    let text = ''
    for await (const chunk of streamed) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe('tok0 tok1')
  })

  it('fails fast with 502 when the only upstream serving the model cannot be reached, even if another upstream is up', async () => {
    const dead = await startFakeUpstream()
    const deadUrl = dead.url
    await dead.close()
    const live = await startFakeUpstream({ tokens: 1 })
    upstreams.push(live)
    gateway = await startQueuegate({ upstreams: [{ url: deadUrl, models: ['big'] }, { url: live.url, models: ['small'] }], unhealthyCooldownMs: 60_000 })
    await expect(gateway.client.chat.completions.create({ ...hello, model: 'big' })).rejects.toMatchObject({ status: 502, code: 'upstream_unreachable' })
    expect(gateway.gateway.scheduler.snapshot().upstreams.map((upstream) => upstream.healthy)).toEqual([true, true])
    const small = await gateway.client.chat.completions.create({ ...hello, model: 'small' })
    expect(small.choices[0]?.message.content).toBe('tok0')
  })

  it('502 with the upstream\'s message when it answers 500 before any byte, stream or not', async () => {
    const { upstream } = await setup({ respond: (request) => (request.seq < 2 ? { failure: { kind: 'status', status: 500, body: { error: { message: 'CUDA out of memory' } } } } : undefined) })
    const error = await gateway!.client.chat.completions.create(hello).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 502, code: 'upstream_error' })
    expect(String((error as Error).message)).toContain('CUDA out of memory')
    const streamError = await gateway!.client.chat.completions.create({ ...hello, stream: true }).catch((caught: unknown) => caught)
    expect(streamError).toMatchObject({ status: 502 })
    await stillServes()
    expect(upstream.requests).toHaveLength(3)
  })

  it('passes an upstream 4xx through with its status and message', async () => {
    await setup({ respond: (request) => (request.seq === 0 ? { failure: { kind: 'status', status: 400, body: { error: { message: 'context length exceeded', type: 'exceed_context_size_error' } } } } : undefined) })
    const error = await gateway!.client.chat.completions.create(hello).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 400, type: 'exceed_context_size_error' })
    expect(String((error as Error).message)).toContain('context length exceeded')
    await stillServes()
  })

  it('504 when the upstream does not answer within the read timeout', async () => {
    const { upstream } = await setup({ respond: (request) => (request.seq === 0 ? { failure: { kind: 'hang' } } : undefined) }, { readTimeoutMs: 300 })
    const error = await gateway!.client.chat.completions.create(hello).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 504, code: 'upstream_timeout' })
    await upstream.waitFor((u) => u.requests[0]?.state === 'ended')
    await stillServes()
  })

  it('a failure after the stream started is one SSE error event, then the stream ends', async () => {
    await setup({ respond: (request) => (request.seq === 0 ? { tokens: 10, failure: { kind: 'drop', afterChunks: 3 } } : undefined) })
    const response = await fetch(`${gateway!.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...hello, stream: true }) })
    expect(response.status).toBe(200)
    const { chunks, done } = await collectChunks(response)
    expect(done).toBe(false)
    const last = chunks.at(-1) as { error?: { message: string; type: string; code: string } }
    expect(last.error).toMatchObject({ type: 'upstream_error' })
    expect(chunks.slice(0, -1).every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true)
    // The official client turns the event into an APIError.
    await setup({ respond: (request) => (request.seq === 0 ? { tokens: 10, failure: { kind: 'drop', afterChunks: 3 } } : undefined) })
    const stream = await gateway!.client.chat.completions.create({ ...hello, stream: true })
    await expect(
      (async () => {
        for await (const _chunk of stream) {
          // drain
        }
      })(),
    ).rejects.toBeInstanceOf(APIError)
    await stillServes()
  })

  it('504 as an SSE error event when the stream stalls past the read timeout', async () => {
    await setup({ respond: (request) => (request.seq === 0 ? { failure: { kind: 'hang-after-headers' } } : undefined) }, { readTimeoutMs: 300 })
    const response = await fetch(`${gateway!.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...hello, stream: true }) })
    const { chunks } = await collectChunks(response)
    expect(chunks.at(-1)).toMatchObject({ error: { code: 'upstream_timeout' } })
    await stillServes()
  })

  it('404 for unknown routes and 405 for a wrong method', async () => {
    await setup()
    const unknown = await fetch(`${gateway!.url}/nope`)
    expect(unknown.status).toBe(404)
    expect((await unknown.json()).error.code).toBe('route_not_found')
    const wrong = await fetch(`${gateway!.url}/v1/chat/completions`)
    expect(wrong.status).toBe(405)
  })
})
