import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import type { GatewayOptions } from 'queuegate'
import { loadChunks } from '../helpers/load-chunks.js'

const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Current weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] },
    },
  },
]
const ask = { model: 'fake-model', messages: [{ role: 'user' as const, content: 'Weather in Paris?' }], tools }

interface StreamedAnswer {
  content: string
  reasoning: string
  calls: Array<{ id: string; name: string; arguments: string }>
  finishReason: string | null | undefined
}

describe('tool calls through the gateway (leaked text → OpenAI tool_calls)', () => {
  let upstream: FakeUpstream | undefined
  let gateway: TestGateway | undefined
  afterEach(async () => {
    await gateway?.close()
    await upstream?.close()
    gateway = undefined
    upstream = undefined
  })

  async function setup(fixture: string, options: Partial<GatewayOptions> = {}): Promise<TestGateway> {
    upstream = await startFakeUpstream({ chunks: loadChunks(fixture) })
    gateway = await startQueuegate({ upstreams: [upstream.url], ...options })
    return gateway
  }

  async function stream(body: Record<string, unknown>, headers: Record<string, string> = {}, path = '/chat/completions'): Promise<StreamedAnswer> {
    const client = gateway!.client
    const answer: StreamedAnswer = { content: '', reasoning: '', calls: [], finishReason: undefined }
    const events = await client.post(path, { body: { ...body, stream: true }, headers, stream: true })
    for await (const chunk of events as AsyncIterable<{ choices: Array<{ delta: Record<string, unknown>; finish_reason?: string | null }> }>) {
      const choice = chunk.choices[0]
      if (choice === undefined) continue
      const delta = choice.delta as { content?: string | null; reasoning_content?: string; tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> }
      answer.content += delta.content ?? ''
      answer.reasoning += delta.reasoning_content ?? ''
      for (const fragment of delta.tool_calls ?? []) {
        const call = (answer.calls[fragment.index] ??= { id: '', name: '', arguments: '' })
        call.id ||= fragment.id ?? ''
        call.name += fragment.function?.name ?? ''
        call.arguments += fragment.function?.arguments ?? ''
      }
      if (choice.finish_reason) answer.finishReason = choice.finish_reason
    }
    return answer
  }

  it('streams a hermes call leaked into content as a proper tool_calls delta, with no marker text in content', async () => {
    await setup('hermes-tool-call')
    const answer = await stream(ask)
    expect(answer.calls).toHaveLength(1)
    expect(answer.calls[0]?.name).toBe('get_weather')
    expect(JSON.parse(answer.calls[0]?.arguments ?? '')).toEqual({ city: 'Paris', unit: 'celsius' })
    expect(answer.calls[0]?.id).toMatch(/^call_/)
    expect(answer.finishReason).toBe('tool_calls')
    expect(answer.content).toBe('Let me check that for you.')
    expect(answer.content).not.toContain('<')
  })

  it('recovers the same call in a non-streamed answer, through the official client', async () => {
    await setup('hermes-tool-call')
    const completion = await gateway!.client.chat.completions.create(ask)
    const message = completion.choices[0]?.message
    expect(message?.tool_calls).toHaveLength(1)
    const call = message?.tool_calls?.[0] as { type: string; function: { name: string; arguments: string } }
    expect(call.type).toBe('function')
    expect(call.function.name).toBe('get_weather')
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' })
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls')
    expect(message?.content ?? '').not.toContain('tool_call')
  })

  it('passes native tool_calls fragments on, merged in OpenAI shape', async () => {
    await setup('native-tool-calls')
    const answer = await stream(ask)
    expect(answer.calls.length).toBeGreaterThanOrEqual(1)
    expect(answer.calls.every((call) => call.name !== '' && call.id !== '')).toBe(true)
    for (const call of answer.calls) expect(() => JSON.parse(call.arguments)).not.toThrow()
    expect(answer.finishReason).toBe('tool_calls')
  })

  it('X-Tool-Mode: suppress drops the call and delivers the text around it; the passthrough endpoint overrides it', async () => {
    await setup('hermes-tool-call')
    const suppressed = await stream(ask, { 'X-Tool-Mode': 'suppress' })
    expect(suppressed.calls).toEqual([])
    expect(suppressed.content).toBe('Let me check that for you.')
    expect(suppressed.finishReason).toBe('stop')
    const forced = await stream(ask, { 'X-Tool-Mode': 'suppress' }, '/chat/completions_passthrough')
    expect(forced.calls.map((call) => call.name)).toEqual(['get_weather'])
  })

  it('leaves text alone when the request declares no tools, or detection is off', async () => {
    await setup('hermes-tool-call')
    const noTools = await stream({ model: 'fake-model', messages: ask.messages })
    expect(noTools.calls).toEqual([])
    expect(noTools.content).toContain('<tool_call>')
    await gateway!.close()
    gateway = await startQueuegate({ upstreams: [upstream!.url], textToolCalls: false })
    const off = await stream(ask)
    expect(off.calls).toEqual([])
    expect(off.content).toContain('<tool_call>\n{"name": "get_weather"')
  })

  it('frees the slot when a client leaves mid-stream on the detector path, and reports an upstream failure as an error event', async () => {
    upstream = await startFakeUpstream({ tokens: 200, tokenDelayMs: 10, slots: 4 })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }] })
    const controller = new AbortController()
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...ask, stream: true }), signal: controller.signal })
    const reader = response.body!.getReader()
    await reader.read()
    controller.abort()
    await upstream.waitFor((u) => u.requests[0]?.closedByClient === true)
    await gateway.waitForEvent((event) => event.type === 'request-end' && event.status === 499)
    expect(gateway.gateway.scheduler.snapshot().running).toBe(0)
    upstream.setOptions({ tokens: 10, tokenDelayMs: 0, failure: { kind: 'drop', afterChunks: 4 } })
    const failed = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...ask, stream: true }) })
    const text = await failed.text()
    expect(text).toContain('"error"')
    expect(text).not.toContain('[DONE]')
    expect(gateway.gateway.scheduler.snapshot().running).toBe(0)
  })

  it('rejects malformed tools with 400', async () => {
    await setup('hermes-tool-call')
    const response = await fetch(`${gateway!.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...ask, tools: [{ type: 'function' }] }) })
    expect(response.status).toBe(400)
    expect((await response.json()).error).toMatchObject({ param: 'tools[0]', code: 'invalid_tools' })
  })
})
