/**
 * Routing by model (issue 8, found as a new user): the models each upstream lists on its own
 * `/v1/models` decide where a request goes; an unknown model is a 404 naming what exists; a request
 * without `model` never carries another upstream's id; aliases.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ChatCompletionChunk } from 'queuegate'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream, FakeUpstreamOptions } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import { listen } from '../helpers/listen.js'

const messages = [{ role: 'user' as const, content: 'hi' }]
let upstreams: FakeUpstream[] = []
let gateway: TestGateway | undefined

async function fake(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const upstream = await startFakeUpstream({ tokens: 2, ...options })
  upstreams.push(upstream)
  return upstream
}

const chatRequests = (upstream: FakeUpstream) => upstream.requests.filter((request) => request.path === '/v1/chat/completions')
const modelsOf = (upstream: FakeUpstream) => chatRequests(upstream).map((request) => (request.body as { model?: string }).model)

afterEach(async () => {
  await gateway?.close()
  gateway = undefined
  await Promise.all(upstreams.map((upstream) => upstream.close()))
  upstreams = []
})

describe('routing by the models each upstream serves', () => {
  it('sends each model only to the upstreams whose /v1/models list it', async () => {
    const a = await fake({ models: ['m1'], slots: 4 })
    const b = await fake({ models: ['m2'], slots: 4 })
    gateway = await startQueuegate({ upstreams: [{ url: a.url, slots: 4 }, { url: b.url, slots: 4 }], discoverModels: true })
    await Promise.all(Array.from({ length: 6 }, () => gateway!.client.chat.completions.create({ model: 'm2', messages })))
    await Promise.all(Array.from({ length: 4 }, () => gateway!.client.chat.completions.create({ model: 'm1', messages, stream: false })))
    expect(modelsOf(b)).toEqual(Array(6).fill('m2'))
    expect(modelsOf(a)).toEqual(Array(4).fill('m1'))
    const listed = await gateway.client.models.list()
    expect(listed.data.map((model) => model.id)).toEqual(['m1', 'm2'])
  })

  it('answers 404 model_not_found naming the available ids for a model no upstream serves, without --models', async () => {
    const a = await fake({ models: ['m1'] })
    const b = await fake({ models: ['m2'] })
    gateway = await startQueuegate({ upstreams: [a.url, b.url], discoverModels: true })
    const error = await gateway.client.chat.completions.create({ model: 'nope', messages }).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' })
    expect((error as Error).message).toContain('"nope"')
    expect((error as Error).message).toContain('m1, m2')
    expect(chatRequests(a).length + chatRequests(b).length).toBe(0)
  })

  it('a request without model goes anywhere, with the model of the upstream it lands on (the README two-upstream example)', async () => {
    const a = await fake({ models: ['llama-gguf'], slots: 2 })
    const b = await fake({ models: ['qwen3:8b'], slots: 2 })
    // As in the README: upstream 1 lists its model itself, upstream 2 is configured with one.
    gateway = await startQueuegate({ upstreams: [{ url: a.url, slots: 2 }, { url: b.url, slots: 2, models: ['qwen3:8b'] }], discoverModels: true })
    // Eight conversations (a sticky key each), so both upstreams get some.
    const post = (index: number): Promise<Response> =>
      fetch(`${gateway!.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-chat-id': `chat-${index}` }, body: JSON.stringify({ messages }) })
    const responses = await Promise.all(Array.from({ length: 8 }, (_, index) => post(index)))
    for (const response of responses) {
      expect(response.status).toBe(200)
      await response.arrayBuffer()
    }
    expect(chatRequests(a).length).toBeGreaterThan(0)
    expect(chatRequests(b).length).toBeGreaterThan(0)
    expect(new Set(modelsOf(a))).toEqual(new Set(['llama-gguf']))
    expect(new Set(modelsOf(b))).toEqual(new Set(['qwen3:8b']))
  })

  it('an upstream that cannot be asked serves any model until it answers, then only its own', async () => {
    const a = await fake({ models: ['m1'] })
    // b's /v1/models fails at start (a server still loading), then works.
    let listing = false
    const b = await fake({ models: ['m2'] })
    const broken = await listen(async (incoming, outgoing) => {
      if (incoming.url === '/v1/models' && !listing) {
        outgoing.writeHead(503, { 'content-type': 'application/json' })
        outgoing.end('{"error":{"message":"Loading model","code":503}}')
        return
      }
      // Everything else goes to b, as it is.
      const parts: Buffer[] = []
      for await (const part of incoming) parts.push(part as Buffer)
      const answer = await fetch(`${b.url}${incoming.url}`, { method: incoming.method, headers: { 'content-type': 'application/json' }, body: incoming.method === 'POST' ? Buffer.concat(parts) : undefined })
      outgoing.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
      outgoing.end(Buffer.from(await answer.arrayBuffer()))
    })
    try {
      gateway = await startQueuegate({ upstreams: [a.url, broken.url], discoverModels: true, modelRefreshMs: 100 })
      await gateway.waitForEvent((event) => event.type === 'upstream-models' && event.error !== undefined)
      // Not known yet: 'anything' is accepted and may only go to the upstream whose list is unknown.
      await gateway.client.chat.completions.create({ model: 'anything', messages })
      expect(modelsOf(b)).toEqual(['anything'])
      listing = true
      await gateway.waitForEvent((event) => event.type === 'upstream-models' && event.upstream.startsWith(broken.url) && event.models?.[0] === 'm2')
      const error = await gateway.client.chat.completions.create({ model: 'anything', messages }).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ status: 404, code: 'model_not_found' })
      await gateway.client.chat.completions.create({ model: 'm2', messages })
      expect(modelsOf(b)).toEqual(['anything', 'm2'])
      expect(chatRequests(a)).toHaveLength(0)
    } finally {
      await gateway?.close()
      gateway = undefined
      await broken.close()
    }
  })

  it('reads an upstream\'s list again when it answers 404 for a model (a model was swapped)', async () => {
    const a = await fake({ models: ['old'], respond: (request) => ((request.body as { model?: string }).model === 'old' ? { failure: { kind: 'status', status: 404, body: { error: { message: 'model "old" not found', code: 404 } } } } : undefined) })
    gateway = await startQueuegate({ upstreams: [a.url], discoverModels: true })
    a.setOptions({ models: ['new'] })
    const error = await gateway.client.chat.completions.create({ model: 'old', messages }).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 404 })
    await gateway.waitForEvent((event) => event.type === 'upstream-models' && event.models?.[0] === 'new')
    const answer = await gateway.client.chat.completions.create({ model: 'new', messages })
    expect(answer.model).toBe('new')
  })

  it('an upstream listing name:latest (Ollama) also serves name, as Ollama does', async () => {
    const a = await fake({ models: ['qwen3:latest'] })
    const b = await fake({ models: ['llama3.2:3b'] })
    gateway = await startQueuegate({ upstreams: [a.url, b.url], discoverModels: true })
    await gateway.client.chat.completions.create({ model: 'qwen3', messages })
    await gateway.client.chat.completions.create({ model: 'qwen3:latest', messages })
    expect(modelsOf(a)).toEqual(['qwen3', 'qwen3:latest'])
    const error = await gateway.client.chat.completions.create({ model: 'llama3.2', messages }).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 404, code: 'model_not_found' })
    // /v1/models lists what the upstreams list.
    expect((await gateway.client.models.list()).data.map((model) => model.id)).toEqual(['qwen3:latest', 'llama3.2:3b'])
  })

  it('with discovery off, upstreams without configured models serve any model (the old behaviour)', async () => {
    const a = await fake({ models: ['m1'] })
    gateway = await startQueuegate({ upstreams: [a.url], discoverModels: false })
    await gateway.client.chat.completions.create({ model: 'whatever', messages })
    expect(modelsOf(a)).toEqual(['whatever'])
    expect(a.requests.filter((request) => request.path === '/v1/models')).toHaveLength(0)
  })
})

describe('model aliases', () => {
  it('lists the public id, sends the upstream id, and answers with the public id (stream and not)', async () => {
    const a = await fake({ models: ['Qwen3-30B-A3B-Q4_K_M.gguf'] })
    gateway = await startQueuegate({ upstreams: [a.url], discoverModels: true, aliases: { qwen: 'Qwen3-30B-A3B-Q4_K_M.gguf' } })
    const listed = await gateway.client.models.list()
    expect(listed.data.map((model) => model.id)).toEqual(['Qwen3-30B-A3B-Q4_K_M.gguf', 'qwen'])
    const whole = await gateway.client.chat.completions.create({ model: 'qwen', messages })
    expect(whole.model).toBe('qwen')
    const stream = await gateway.client.chat.completions.create({ model: 'qwen', messages, stream: true })
    const chunks: ChatCompletionChunk[] = []
    for await (const chunk of stream) chunks.push(chunk as unknown as ChatCompletionChunk)
    expect(chunks.length).toBeGreaterThan(2)
    expect(new Set(chunks.map((chunk) => chunk.model))).toEqual(new Set(['qwen']))
    expect(modelsOf(a)).toEqual(['Qwen3-30B-A3B-Q4_K_M.gguf', 'Qwen3-30B-A3B-Q4_K_M.gguf'])
    // The upstream's own id still works, and answers with it.
    const direct = await gateway.client.chat.completions.create({ model: 'Qwen3-30B-A3B-Q4_K_M.gguf', messages })
    expect(direct.model).toBe('Qwen3-30B-A3B-Q4_K_M.gguf')
  })

  it('an alias is accepted alongside --models', async () => {
    const a = await fake({ models: ['real'] })
    gateway = await startQueuegate({ upstreams: [a.url], models: ['public'], aliases: { public: 'real' } })
    const answer = await gateway.client.chat.completions.create({ messages } as never)
    expect((answer as { model: string }).model).toBe('public')
    expect(modelsOf(a)).toEqual(['real'])
  })
})
