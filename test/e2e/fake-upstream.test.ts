import OpenAI, { APIConnectionError, APIError } from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { collectChunks, collectStream, loadChunks, mergeChunks, withTimeout } from '../helpers/index.js'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream, FakeUpstreamOptions, RecordedRequest } from './fake-upstream.js'

const opened: Array<{ close(): Promise<void> }> = []

afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close()))
})

async function start(options?: FakeUpstreamOptions): Promise<{ upstream: FakeUpstream; client: OpenAI }> {
  const upstream = await startFakeUpstream(options)
  opened.push(upstream)
  const client = new OpenAI({ baseURL: `${upstream.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 10_000 })
  return { upstream, client }
}

const messages = [{ role: 'user' as const, content: 'hello' }]
const expectedText = Array.from({ length: 20 }, (_, i) => `tok${i}`).join(' ')
const callIndex = (request: RecordedRequest | undefined): number => Number((request?.body as { user?: string } | undefined)?.user)
const chatRequests = (upstream: FakeUpstream) => upstream.requests.filter((r) => r.path.endsWith('/chat/completions'))

/**
 * Starts `count` chat requests that the caller aborts; their rejections are swallowed. Each body
 * carries `user: '<index>'`, so `callOf()` finds the call behind a recorded request (arrival
 * order at the fake need not be creation order).
 */
function startAbortable(client: OpenAI, count: number, body: Record<string, unknown> = {}) {
  return Array.from({ length: count }, (_, index) => {
    const controller = new AbortController()
    const done = client.chat.completions
      .create({ model: 'fake-model', messages, user: String(index), ...body }, { signal: controller.signal })
      .then(
        () => 'answered',
        () => 'aborted',
      )
    return { controller, done }
  })
}

describe('fake upstream: answers', () => {
  it('answers a non-streamed chat completion like llama.cpp', async () => {
    const { upstream, client } = await start()
    const completion = await withTimeout(client.chat.completions.create({ model: 'm1', messages }), 5000, 'chat')
    expect(completion.object).toBe('chat.completion')
    expect(completion.model).toBe('m1')
    expect(completion.choices[0]?.message.content).toBe(expectedText)
    expect(completion.choices[0]?.finish_reason).toBe('stop')
    expect(completion.usage?.completion_tokens).toBe(20)
    const [recorded] = upstream.requests
    expect(recorded).toMatchObject({ method: 'POST', path: '/v1/chat/completions', stream: false, slot: 0, status: 200, closedByClient: false, state: 'ended' })
    expect(recorded?.body).toMatchObject({ model: 'm1', messages })
    expect(recorded?.headers.authorization).toBe('Bearer test')
  })

  it('streams a role chunk, content deltas, a finish chunk, usage on request, then [DONE]', async () => {
    const { client } = await start({ tokens: 5 })
    const stream = await client.chat.completions.create({ model: 'fake-model', messages, stream: true, stream_options: { include_usage: true } })
    const chunks = await withTimeout(collectStream(stream), 5000, 'stream')
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant')
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true)
    const merged = mergeChunks(chunks as unknown as Array<Record<string, unknown>>)
    expect(merged).toMatchObject({ content: 'tok0 tok1 tok2 tok3 tok4', finishReason: 'stop', contentChunks: 5 })
    expect(chunks.at(-1)?.choices).toEqual([])
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(5)
  })

  it('ends a raw stream with data: [DONE] and accepts the bare path without /v1', async () => {
    const { upstream } = await start({ tokens: 3 })
    const response = await fetch(`${upstream.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages, stream: true }),
    })
    expect(response.headers.get('content-type')).toBe('text/event-stream')
    const { chunks, done, other } = await withTimeout(collectChunks(response), 5000, 'raw stream')
    expect(done).toBe(true)
    expect(other).toEqual([])
    expect(chunks).toHaveLength(5) // role, 3 tokens, finish
    expect(chunks[0]?.model).toBe('fake-model')
  })

  it('serves /v1/models, /health, completions and embeddings', async () => {
    const { upstream, client } = await start({ models: ['a', 'b'], tokens: 4 })
    const models = await client.models.list()
    expect(models.data.map((m) => m.id)).toEqual(['a', 'b'])
    const health = await fetch(`${upstream.url}/health`)
    expect(await health.json()).toEqual({ status: 'ok' })
    const completion = await client.completions.create({ model: 'a', prompt: 'say' })
    expect(completion.choices[0]?.text).toBe('tok0 tok1 tok2 tok3')
    const streamed = await collectStream(await client.completions.create({ model: 'a', prompt: 'say', stream: true }))
    expect(streamed.map((c) => c.choices[0]?.text).join('')).toBe('tok0 tok1 tok2 tok3')
    // The client asks for base64 by default and decodes it; both encodings give 8 floats.
    const embeddings = await client.embeddings.create({ model: 'a', input: ['x', 'yy'] })
    expect(embeddings.data).toHaveLength(2)
    expect(embeddings.data[0]?.embedding).toHaveLength(8)
    const floats = await client.embeddings.create({ model: 'a', input: 'x', encoding_format: 'float' })
    expect(floats.data[0]?.embedding.map((v) => Math.fround(v))).toEqual(embeddings.data[0]?.embedding)
    const notFound = await fetch(`${upstream.url}/v1/nothing`, { method: 'POST', body: '{}' })
    expect(notFound.status).toBe(404)
    expect(upstream.requests.map((r) => r.path)).toContain('/health')
  })

  it('rejects a body that is not JSON with 400 and a wrong API key with 401', async () => {
    const { upstream } = await start({ apiKey: 'secret' })
    const unauthorized = await fetch(`${upstream.url}/v1/chat/completions`, { method: 'POST', body: '{}' })
    expect(unauthorized.status).toBe(401)
    const bad = await fetch(`${upstream.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer secret' }, body: '{nope' })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: { code: 400, type: 'invalid_request_error' } })
  })
})

describe('fake upstream: scripted chunks', () => {
  it('replays recorded native tool-call fragments, streamed and merged', async () => {
    const { client } = await start({ chunks: loadChunks('native-tool-calls') })
    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true })
    const chunks = await withTimeout(collectStream(stream), 5000, 'stream')
    expect(chunks).toHaveLength(12)
    const merged = mergeChunks(chunks as unknown as Array<Record<string, unknown>>)
    expect(merged.finishReason).toBe('tool_calls')
    expect(merged.toolCalls.map((c) => [c.id, c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ['call_w1Qx', 'get_weather', { city: 'Paris', unit: 'celsius' }],
      ['call_t7Kp', 'get_time', { timezone: 'Europe/Paris' }],
    ])
    const completion = await client.chat.completions.create({ model: 'm', messages })
    const message = completion.choices[0]?.message
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls')
    expect(message?.content).toBeNull()
    expect(message?.tool_calls?.map((c) => (c.type === 'function' ? c.function.name : ''))).toEqual(['get_weather', 'get_time'])
  })

  it('merges reasoning_content into the non-streamed message and keeps leaked hermes calls as content', async () => {
    const { upstream, client } = await start({ chunks: loadChunks('reasoning-answer') })
    const completion = await client.chat.completions.create({ model: 'm', messages })
    const message = completion.choices[0]?.message as unknown as Record<string, unknown>
    expect(message.reasoning_content).toBe('Okay, the user asks for 17 * 3. 17 * 3 = 51.')
    expect(message.content).toBe('17 × 3 = **51**.')
    upstream.setOptions({ chunks: loadChunks('hermes-tool-call') })
    const hermes = await client.chat.completions.create({ model: 'm', messages })
    expect(hermes.choices[0]?.message.content).toBe(
      'Let me check that for you.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>',
    )
    expect(hermes.choices[0]?.finish_reason).toBe('stop')
    expect(mergeChunks(loadChunks('plain-answer')).content).toBe('The capital of France is Paris. It lies on the Seine.')
  })

  it('fails mid-stream with a scripted { error } item, and answers it with its status when not streamed', async () => {
    const error = { code: 500, message: 'context shift is disabled', type: 'server_error' }
    const { upstream, client } = await start({ chunks: [{ content: 'partial' }, { error }, { content: 'never sent' }] })
    const response = await fetch(`${upstream.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages, stream: true }) })
    const { chunks, done } = await collectChunks(response)
    expect(done).toBe(false)
    expect(chunks.at(-1)).toEqual({ error })
    expect(mergeChunks(chunks.slice(0, -1)).content).toBe('partial')
    const streamed = await client.chat.completions.create({ model: 'm', messages, stream: true })
    await expect(collectStream(streamed)).rejects.toThrow('context shift is disabled')
    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toMatchObject({ status: 500 })
  })

  it('wraps bare deltas with role and finish chunks; tool_calls set the finish reason', async () => {
    const call = { index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }
    const { client } = await start({ chunks: [{ reasoning_content: 'hm' }, { content: 'ok' }, { tool_calls: [call] }] })
    const chunks = await collectStream(await client.chat.completions.create({ model: 'm', messages, stream: true }))
    expect(chunks.map((c) => c.choices[0]?.finish_reason ?? null)).toEqual([null, null, null, null, 'tool_calls'])
    expect(mergeChunks(chunks as unknown as Array<Record<string, unknown>>)).toMatchObject({ reasoningContent: 'hm', content: 'ok', role: 'assistant' })
  })
})

describe('fake upstream: slots', () => {
  it('runs at most `slots` requests at once and queues the rest FIFO', async () => {
    const { upstream, client } = await start({ slots: 1, tokenDelayMs: 1, tokens: 5 })
    const answers = await withTimeout(Promise.all(Array.from({ length: 5 }, () => client.chat.completions.create({ model: 'm', messages }))), 10_000, 'five requests')
    expect(answers.map((a) => a.choices[0]?.message.content)).toEqual(Array(5).fill('tok0 tok1 tok2 tok3 tok4'))
    expect(upstream.maxConcurrency).toBe(1)
    const bySeq = chatRequests(upstream).sort((a, b) => a.seq - b.seq)
    expect(bySeq.map((r) => r.startOrder)).toEqual([0, 1, 2, 3, 4])
  })

  it('holds waiting requests until a slot frees, and a waiting request the client drops never runs', async () => {
    const { upstream, client } = await start({ slots: 2, failure: { kind: 'hang' } })
    const calls = startAbortable(client, 4)
    await upstream.waitFor((u) => u.active === 2 && u.waiting === 2)
    const running = chatRequests(upstream).filter((r) => r.state === 'running')
    expect(running.map((r) => r.slot).sort()).toEqual([0, 1])
    // Drop one waiting request: it leaves the fake's queue and never gets a slot.
    const waitingSeqs = chatRequests(upstream).filter((r) => r.state === 'waiting').map((r) => r.seq).sort((a, b) => a - b)
    calls[callIndex(chatRequests(upstream).find((r) => r.seq === waitingSeqs[1]))]?.controller.abort()
    await upstream.waitFor((u) => u.waiting === 1)
    // Free a running one: the first waiting request takes its slot.
    const first = chatRequests(upstream).find((r) => r.state === 'running')
    calls[callIndex(first)]?.controller.abort()
    await upstream.waitFor((u) => u.waiting === 0 && u.active === 2)
    const next = chatRequests(upstream).find((r) => r.seq === waitingSeqs[0])
    expect(next).toMatchObject({ state: 'running', slot: first?.slot, startOrder: 2 })
    expect(chatRequests(upstream).find((r) => r.seq === waitingSeqs[1])).toMatchObject({ closedByClient: true, startOrder: undefined, slot: undefined })
    for (const call of calls) call.controller.abort()
    expect(await withTimeout(Promise.all(calls.map((c) => c.done)), 5000, 'aborts')).toEqual(Array(4).fill('aborted'))
    await upstream.waitFor((u) => u.active === 0)
    expect(upstream.maxConcurrency).toBe(2)
  })

  it('pins a request to the slot its id_slot names, and rejects an id_slot out of range', async () => {
    const { upstream, client } = await start({ slots: 2, failure: { kind: 'hang' } })
    const calls = startAbortable(client, 2, { id_slot: 1 })
    await upstream.waitFor((u) => u.active === 1 && u.waiting === 1)
    expect(chatRequests(upstream).map((r) => r.idSlot)).toEqual([1, 1])
    expect(chatRequests(upstream).find((r) => r.state === 'running')?.slot).toBe(1)
    const bad = await fetch(`${upstream.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages, id_slot: 2 }) })
    expect(bad.status).toBe(400)
    for (const call of calls) call.controller.abort()
    await Promise.all(calls.map((c) => c.done))
  })

  it('grows its slots on setOptions and starts waiting requests at once', async () => {
    const { upstream, client } = await start({ slots: 1, failure: { kind: 'hang' } })
    const calls = startAbortable(client, 3)
    await upstream.waitFor((u) => u.active === 1 && u.waiting === 2)
    upstream.setOptions({ slots: 3 })
    await upstream.waitFor((u) => u.active === 3 && u.waiting === 0)
    for (const call of calls) call.controller.abort()
    await Promise.all(calls.map((c) => c.done))
  })
})

describe('fake upstream: failures and disconnects', () => {
  it('answers a status failure with a llama.cpp error body or the given body', async () => {
    const { upstream, client } = await start({ failure: { kind: 'status', status: 500 } })
    const error = await client.chat.completions.create({ model: 'm', messages }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(APIError)
    expect((error as APIError).status).toBe(500)
    expect((error as APIError).message).toContain('fake upstream failure 500')
    upstream.setOptions({ failure: { kind: 'status', status: 503, body: { error: { message: 'Loading model', type: 'unavailable_error', code: 503 } } } })
    const loading = await client.chat.completions.create({ model: 'm', messages }).catch((e: unknown) => e)
    expect((loading as APIError).status).toBe(503)
    expect((loading as APIError).message).toContain('Loading model')
    upstream.setOptions({ failure: undefined })
    expect((await client.chat.completions.create({ model: 'm', messages })).choices[0]?.finish_reason).toBe('stop')
  })

  it('fails only the requests `respond` picks', async () => {
    const { upstream, client } = await start({ respond: (r) => (r.seq === 0 ? { failure: { kind: 'status', status: 502 } } : { tokens: 2 }) })
    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toMatchObject({ status: 502 })
    const second = await client.chat.completions.create({ model: 'm', messages })
    expect(second.choices[0]?.message.content).toBe('tok0 tok1')
    expect(upstream.requests.map((r) => r.status)).toEqual([502, 200])
  })

  it('drops the connection mid-stream after the given number of chunks', async () => {
    const { upstream } = await start({ failure: { kind: 'drop', afterChunks: 3 } })
    const response = await fetch(`${upstream.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages, stream: true }) })
    expect(response.status).toBe(200)
    const received: Array<Record<string, unknown>> = []
    const reading = collectChunks(response).then((result) => received.push(...result.chunks))
    await expect(withTimeout(reading, 5000, 'dropped stream')).rejects.toThrow()
    await upstream.waitFor((u) => u.active === 0)
    expect(upstream.requests[0]).toMatchObject({ closedByClient: false, state: 'ended' })
  })

  it('drops a non-streamed request before the headers, and part-way through the body', async () => {
    const { upstream, client } = await start({ failure: { kind: 'drop', afterChunks: 0 } })
    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toBeInstanceOf(APIConnectionError)
    upstream.setOptions({ failure: { kind: 'drop', afterChunks: 1 } })
    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toThrow()
    expect(upstream.requests.map((r) => r.closedByClient)).toEqual([false, false])
    expect(upstream.active).toBe(0)
  })

  it('hangs after the headers until the client gives up, then frees the slot', async () => {
    const { upstream, client } = await start({ failure: { kind: 'hang-after-headers' } })
    const stream = await withTimeout(client.chat.completions.create({ model: 'm', messages, stream: true }), 5000, 'headers')
    expect(upstream.active).toBe(1)
    stream.controller.abort()
    await upstream.waitFor((u) => u.active === 0 && u.requests[0]?.closedByClient === true)
  })

  it('detects a client that aborts mid-stream: records closedByClient, frees the slot, the next request starts', async () => {
    const { upstream, client } = await start({ slots: 1, tokens: 10_000, tokenDelayMs: 5 })
    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true })
    let seen = 0
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content !== undefined) seen++
      if (seen === 3) break // breaking out of the loop aborts the request
    }
    await upstream.waitFor((u) => u.active === 0 && u.requests[0]?.closedByClient === true)
    expect(upstream.requests[0]?.endedAt).toBeDefined()
    upstream.setOptions({ tokens: 2, tokenDelayMs: 0 })
    const next = await withTimeout(client.chat.completions.create({ model: 'm', messages }), 5000, 'next request')
    expect(next.choices[0]?.message.content).toBe('tok0 tok1')
    expect(upstream.requests[1]?.slot).toBe(0)
  })

  it('close() ends hanging and waiting requests', async () => {
    const { upstream, client } = await start({ slots: 1, failure: { kind: 'hang' } })
    const calls = startAbortable(client, 2)
    await upstream.waitFor((u) => u.active === 1 && u.waiting === 1)
    await upstream.close()
    expect(await withTimeout(Promise.all(calls.map((c) => c.done)), 5000, 'requests after close')).toEqual(['aborted', 'aborted'])
    expect(upstream.requests.map((r) => [r.state, r.closedByClient])).toEqual([['ended', false], ['ended', false]])
  })
})

describe('fake upstream: options and waiting', () => {
  it('throws on bad options, naming the option and quoting the value', async () => {
    await expect(startFakeUpstream({ slots: 0 })).rejects.toThrow('option slots must be an integer >= 1, got 0')
    await expect(startFakeUpstream({ tokenDelayMs: -1 })).rejects.toThrow('option tokenDelayMs')
    await expect(startFakeUpstream({ models: [] })).rejects.toThrow('option models')
    const { upstream } = await start()
    expect(() => upstream.setOptions({ failure: { kind: 'drop', afterChunks: -1 } })).toThrow('option failure')
  })

  it('waitFor resolves on a state change and rejects at its deadline', async () => {
    const { upstream, client } = await start()
    const seen = upstream.waitFor((u) => u.requests.length === 1)
    await client.chat.completions.create({ model: 'm', messages })
    await seen
    await expect(upstream.waitFor((u) => u.requests.length === 5, 20)).rejects.toThrow('timed out after 20 ms')
    upstream.reset()
    expect(upstream.requests).toEqual([])
  })
})
