import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { startSimulatedUpstream } from '../../src/demo/simulated-upstream.js'
import type { SimulatedUpstream, SimulatedUpstreamOptions } from '../../src/demo/simulated-upstream.js'
import { withTimeout } from '../helpers/with-timeout.js'

describe('the simulated llama-server (queuegate --demo)', () => {
  const open: SimulatedUpstream[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((server) => server.close()))
  })

  async function start(options: SimulatedUpstreamOptions = {}): Promise<{ server: SimulatedUpstream; client: OpenAI }> {
    const server = await startSimulatedUpstream({ baseLatencyMs: 5, tokensPerSecond: 500, ...options })
    open.push(server)
    return { server, client: new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0, timeout: 10_000 }) }
  }

  it('answers like llama-server: /health, /v1/models, /slots, chat streamed and whole with usage and timings', async () => {
    const { server, client } = await start({ name: 'gpu-x', models: ['m1', 'm2'], slots: 2 })
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: 'ok' })
    expect((await client.models.list()).data.map((model) => model.id)).toEqual(['m1', 'm2'])
    expect(await (await fetch(`${server.url}/slots`)).json()).toEqual([expect.objectContaining({ id: 0, is_processing: false }), expect.objectContaining({ id: 1, is_processing: false })])
    const whole = await client.chat.completions.create({ model: 'm2', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] })
    expect(whole).toMatchObject({ object: 'chat.completion', model: 'm2', choices: [{ finish_reason: 'length', message: { role: 'assistant' } }], usage: { completion_tokens: 4 } })
    expect(whole.choices[0]?.message.content?.split(' ')).toHaveLength(4)
    expect(whole).toHaveProperty('timings.predicted_n', 4)
    const stream = await client.chat.completions.create({ model: 'm1', max_tokens: 3, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant')
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('').split(' ')).toHaveLength(3)
    expect(chunks.at(-1)?.usage).toMatchObject({ completion_tokens: 3 })
  })

  it('rejects what llama-server rejects: unknown models 404, a body without messages 400', async () => {
    const { server, client } = await start({ models: ['m1'] })
    await expect(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 404 })
    const bad = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{"model":"m1"}' })
    expect(bad.status).toBe(400)
  })

  it('runs one generation per slot; more wait their turn, and a client that leaves frees its slot', async () => {
    const { server, client } = await start({ slots: 1, tokensPerSecond: 100 })
    const leaving = new AbortController()
    const first = client.chat.completions.create({ model: 'sim-model', max_tokens: 200, messages: [{ role: 'user', content: 'long' }] }, { signal: leaving.signal })
    first.catch(() => {})
    for (let i = 0; i < 50 && server.busy === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(server.busy).toBe(1)
    const second = client.chat.completions.create({ model: 'sim-model', max_tokens: 2, messages: [{ role: 'user', content: 'short' }] })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(server.busy).toBe(1)
    leaving.abort()
    const answer = await withTimeout(second, 3000, 'the waiting request')
    expect(answer.choices[0]?.message.content?.split(' ')).toHaveLength(2)
  })

  it('starts sooner on a slot that holds the conversation so far (its KV cache)', async () => {
    const { client } = await start({ slots: 1, promptTokensPerSecond: 1000, baseLatencyMs: 0 })
    const history = [{ role: 'user' as const, content: 'x'.repeat(4000) }]
    const first = await client.chat.completions.create({ model: 'sim-model', max_tokens: 1, messages: history })
    const second = await client.chat.completions.create({ model: 'sim-model', max_tokens: 1, messages: [...history, { role: 'assistant', content: first.choices[0]?.message.content ?? '' }, { role: 'user', content: 'and?' }] })
    const timings = (completion: object) => (completion as { timings: { prompt_n: number; cache_n: number; prompt_ms: number } }).timings
    expect(timings(first).cache_n).toBe(0)
    expect(timings(second).cache_n).toBeGreaterThan(900)
    expect(timings(second).prompt_ms).toBeLessThan(timings(first).prompt_ms / 10)
  })

  it('calls declared tools: natively, or written as text when configured so', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } } } }]
    const native = await (await start()).client.chat.completions.create({ model: 'sim-model', tools, messages: [{ role: 'user', content: 'weather?' }] })
    expect(native.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { content: null, tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":3}' } }] } })
    const { client } = await start({ textToolCalls: 'sometimes' })
    const texts = []
    for (let i = 0; i < 2; i++) texts.push((await client.chat.completions.create({ model: 'sim-model', tools, messages: [{ role: 'user', content: 'weather?' }] })).choices[0]?.message)
    expect(texts[0]).toMatchObject({ content: '<tool_call>\n{"name": "get_weather", "arguments": {"city":"Paris","days":3}}\n</tool_call>' })
    expect(texts[0]?.tool_calls).toBeUndefined()
    expect(texts[1]?.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } })
  })
})
