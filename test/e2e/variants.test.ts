/**
 * Model variants (issue 11): a virtual id that rewrites the request for a real model, is listed,
 * answers under its own id, and may handle `<think>` its own way.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { resolveGatewayOptions } from 'queuegate'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

let upstream: FakeUpstream | undefined
let gateway: TestGateway | undefined

afterEach(async () => {
  await gateway?.close()
  await upstream?.close()
  gateway = undefined
  upstream = undefined
})

const sent = () => upstream!.requests.filter((request) => request.path === '/v1/chat/completions').map((request) => request.body as Record<string, unknown>)

describe('model variants', () => {
  it('rewrites the request (model, suffix on the last user message, system text, default params), lists the id, answers under it, strips <think> when asked', async () => {
    upstream = await startFakeUpstream({ models: ['qwen3'], chunks: [{ content: '<think>hmm</think>Short answer.' }] })
    gateway = await startQueuegate({
      upstreams: [upstream.url],
      discoverModels: true,
      variants: [{ id: 'qwen3-nothink', model: 'qwen3', appendToUser: '/nothink', system: 'Be brief.', params: { temperature: 0.2, top_p: 0.9 }, reasoning: 'strip' }],
    })
    expect((await gateway.client.models.list()).data.map((model) => model.id)).toEqual(['qwen3', 'qwen3-nothink'])
    const messages = [
      { role: 'user' as const, content: 'first' },
      { role: 'assistant' as const, content: 'ok' },
      { role: 'user' as const, content: 'second' },
    ]
    const whole = await gateway.client.chat.completions.create({ model: 'qwen3-nothink', messages, top_p: 0.5 })
    expect(whole.model).toBe('qwen3-nothink')
    expect(whole.choices[0]?.message.content).toBe('Short answer.')
    const stream = await gateway.client.chat.completions.create({ model: 'qwen3-nothink', messages, stream: true })
    let text = ''
    const models = new Set<string>()
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      models.add(chunk.model)
    }
    expect(text).toBe('Short answer.')
    expect(models).toEqual(new Set(['qwen3-nothink']))
    const [first] = sent()
    expect(first).toMatchObject({
      model: 'qwen3',
      temperature: 0.2,
      top_p: 0.5,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'second\n/nothink' },
      ],
    })
    expect(whole.choices[0]?.message).not.toHaveProperty('reasoning_content')
    // The target itself is untouched: the gateway's own mode (split, the default).
    const plain = await gateway.client.chat.completions.create({ model: 'qwen3', messages })
    expect(plain.choices[0]?.message).toMatchObject({ content: 'Short answer.', reasoning_content: 'hmm' })
    expect(sent()[2]).toMatchObject({ model: 'qwen3', messages })
  })

  it('a variant whose model no upstream serves: a warning at start and a 404 naming both ids', async () => {
    upstream = await startFakeUpstream({ models: ['qwen3'] })
    gateway = await startQueuegate({ upstreams: [upstream.url], discoverModels: true, variants: [{ id: 'ghost-fast', model: 'ghost' }] })
    const warning = await gateway.waitForEvent((event) => event.type === 'warning')
    expect(warning).toMatchObject({ message: expect.stringContaining('"ghost-fast"') })
    const error = await gateway.client.chat.completions.create({ model: 'ghost-fast', messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 404, code: 'model_not_found' })
    expect((error as Error).message).toContain('"ghost"')
  })

  it('bad variants fail at construction, naming the field', () => {
    expect(() => resolveGatewayOptions({ upstreams: ['http://u'], variants: [{ id: 'a', model: 'a' }] })).toThrow(/variants\[0\]: a variant cannot run on itself/)
    expect(() => resolveGatewayOptions({ upstreams: ['http://u'], variants: [{ id: 'a', model: 'b', params: { messages: [] } }] })).toThrow(/variants\[0\]\.params\.messages/)
    expect(() => resolveGatewayOptions({ upstreams: ['http://u'], variants: [{ id: 'a', model: 'b', reasoning: 'hide' as never }] })).toThrow(/variants\[0\]\.reasoning/)
  })
})
