import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream, RecordedRequest } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import type { GatewayOptions } from 'queuegate'
import type { ToolOutcome, ToolRegistry } from '../../src/tools/types.js'
import type { ToolDefinition } from '../../src/openai/types.js'

type Loose = Record<string, unknown>

const weatherTool: ToolDefinition = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}

/** A registry over in-process functions (the ToolRegistry contract), counting calls. */
function testRegistry(run: (name: string, args: Loose, signal: AbortSignal | undefined) => Promise<string>): ToolRegistry & { calls: Array<{ name: string; args: Loose }> } {
  const calls: Array<{ name: string; args: Loose }> = []
  return {
    calls,
    definitions: () => [weatherTool],
    has: (name) => name === 'get_weather',
    async call(name, args, options): Promise<ToolOutcome> {
      calls.push({ name, args })
      const started = performance.now()
      const content = await run(name, args, options?.signal)
      return { name, ok: true, content, truncated: false, bytes: content.length, durationMs: performance.now() - started }
    },
    ready: async () => {},
    refresh: async () => {},
    close: async () => {},
  }
}

/** The round a chat request is in: 1 + the assistant tool-call messages it carries. */
function roundOf(request: RecordedRequest): number {
  const messages = ((request.body as Loose).messages ?? []) as Loose[]
  return 1 + messages.filter((message) => message.role === 'assistant' && Array.isArray(message.tool_calls)).length
}

const call = (id: string, name: string, args: Loose) => ({ tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: JSON.stringify(args) } }] })

const ask = { model: 'fake-model', messages: [{ role: 'user' as const, content: 'Weather in Paris?' }] }

interface Streamed {
  content: string
  reasoning: string
  finishReason: string | null | undefined
}

describe('execute mode: the gateway runs the tools and loops', () => {
  let upstream: FakeUpstream | undefined
  let gateway: TestGateway | undefined
  afterEach(async () => {
    await gateway?.close()
    await upstream?.close()
    gateway = undefined
    upstream = undefined
  })

  async function setup(rounds: Record<number, Loose[]>, options: Partial<GatewayOptions>): Promise<TestGateway> {
    upstream = await startFakeUpstream({ respond: (request) => ({ chunks: rounds[roundOf(request)] ?? [{ content: 'no script for this round' }] }) })
    gateway = await startQueuegate({ upstreams: [upstream.url], ...options })
    return gateway
  }

  async function stream(body: Loose): Promise<Streamed> {
    const answer: Streamed = { content: '', reasoning: '', finishReason: undefined }
    const events = await gateway!.client.chat.completions.create({ ...(body as typeof ask), stream: true })
    for await (const chunk of events) {
      const choice = chunk.choices[0]
      if (choice === undefined) continue
      const delta = choice.delta as { content?: string | null; reasoning_content?: string }
      answer.content += delta.content ?? ''
      answer.reasoning += delta.reasoning_content ?? ''
      if (choice.finish_reason) answer.finishReason = choice.finish_reason
    }
    return answer
  }

  it('runs a native call and answers with the next round (non-stream and stream)', async () => {
    const registry = testRegistry(async (_name, args) => JSON.stringify({ city: args.city, sky: 'sunny' }))
    await setup({ 1: [call('call_a', 'get_weather', { city: 'Paris' })], 2: [{ content: 'Sunny in Paris.' }] }, { toolRegistry: registry })

    const completion = await gateway!.client.chat.completions.create(ask)
    const message = completion.choices[0]!.message as { content: string | null; reasoning_content?: string; tool_calls?: unknown }
    expect(message.content).toBe('Sunny in Paris.')
    expect(message.tool_calls).toBeUndefined()
    expect(completion.choices[0]!.finish_reason).toBe('stop')
    expect(message.reasoning_content).toContain('get_weather {"city":"Paris"}')
    expect(message.reasoning_content).toMatch(/get_weather: \d+ B in \d+ ms/)
    expect(registry.calls).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }])

    // The second round carries the assistant's call and the tool's result; the registry's tool was declared upstream.
    const chats = upstream!.requests.filter((request) => request.path.endsWith('/chat/completions'))
    expect(chats).toHaveLength(2)
    expect(((chats[0]!.body as Loose).tools as ToolDefinition[]).map((tool) => tool.function.name)).toEqual(['get_weather'])
    const second = (chats[1]!.body as Loose).messages as Loose[]
    expect(second.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_a', function: { name: 'get_weather' } }] })
    expect(second.at(-1)).toEqual({ role: 'tool', tool_call_id: 'call_a', content: '{"city":"Paris","sky":"sunny"}' })

    const streamed = await stream(ask)
    expect(streamed.content).toBe('Sunny in Paris.')
    expect(streamed.finishReason).toBe('stop')
    expect(streamed.reasoning).toContain('get_weather {"city":"Paris"}')
    expect(registry.calls).toHaveLength(2)
  })
})
