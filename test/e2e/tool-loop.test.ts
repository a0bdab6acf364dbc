import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream, RecordedRequest } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import type { GatewayOptions } from 'queuegate'
import type { ToolOutcome, ToolRegistry } from '../../src/tools/types.js'
import type { ToolDefinition } from '../../src/openai/types.js'
import { withTimeout } from '../helpers/with-timeout.js'

type Loose = Record<string, unknown>

const weatherTool: ToolDefinition = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}

const timeTool: ToolDefinition = {
  type: 'function',
  function: { name: 'get_time', description: 'Local time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}

/** A registry over in-process functions (the ToolRegistry contract), counting calls. */
function testRegistry(run: (name: string, args: Loose, signal: AbortSignal | undefined) => Promise<string>): ToolRegistry & { calls: Array<{ name: string; args: Loose }> } {
  const calls: Array<{ name: string; args: Loose }> = []
  return {
    calls,
    definitions: () => [weatherTool, timeTool],
    has: (name) => name === 'get_weather' || name === 'get_time',
    async call(name, args, options): Promise<ToolOutcome> {
      calls.push({ name, args })
      const started = performance.now()
      const signal = options?.signal
      const content = await new Promise<string>((resolve, reject) => {
        const onAbort = (): void => reject(signal?.reason)
        signal?.addEventListener('abort', onAbort, { once: true })
        run(name, args, signal).then(resolve, reject).finally(() => signal?.removeEventListener('abort', onAbort))
      })
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

const call = (id: string, name: string, args: Loose, index = 0) => ({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: JSON.stringify(args) } }] })

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

  function chatRequests(): RecordedRequest[] {
    return upstream!.requests.filter((request) => request.path.endsWith('/chat/completions'))
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
    expect(((chats[0]!.body as Loose).tools as ToolDefinition[]).map((tool) => tool.function.name)).toEqual(['get_weather', 'get_time'])
    const second = (chats[1]!.body as Loose).messages as Loose[]
    expect(second.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_a', function: { name: 'get_weather' } }] })
    expect(second.at(-1)).toEqual({ role: 'tool', tool_call_id: 'call_a', content: '{"city":"Paris","sky":"sunny"}' })

    const streamed = await stream(ask)
    expect(streamed.content).toBe('Sunny in Paris.')
    expect(streamed.finishReason).toBe('stop')
    expect(streamed.reasoning).toContain('get_weather {"city":"Paris"}')
    expect(registry.calls).toHaveLength(2)
  })

  it('runs the calls of one round concurrently and appends the results in call order', async () => {
    let running = 0
    let most = 0
    const registry = testRegistry(async (name) => {
      running++
      most = Math.max(most, running)
      // The first call ends last: results still come back in call order.
      await sleep(name === 'get_weather' ? 60 : 10)
      running--
      return `${name} done`
    })
    await setup({ 1: [call('call_w', 'get_weather', { city: 'Paris' }, 0), call('call_t', 'get_time', { city: 'Paris' }, 1)], 2: [{ content: 'Both done.' }] }, { toolRegistry: registry })
    const streamed = await stream(ask)
    expect(streamed.content).toBe('Both done.')
    expect(most).toBe(2)
    const second = (chatRequests()[1]!.body as Loose).messages as Loose[]
    expect(second.slice(-3)).toMatchObject([
      { role: 'assistant', tool_calls: [{ id: 'call_w' }, { id: 'call_t' }] },
      { role: 'tool', tool_call_id: 'call_w', content: 'get_weather done' },
      { role: 'tool', tool_call_id: 'call_t', content: 'get_time done' },
    ])
    expect(streamed.reasoning.indexOf('← get_weather')).toBeLessThan(streamed.reasoning.indexOf('← get_time'))
  })

  it('runs calls the model wrote as text (hermes) and keeps their markers out of the answer', async () => {
    const registry = testRegistry(async () => '{"sky":"sunny"}')
    const leaked = [{ content: 'Let me check.' }, { content: '<tool_call>{"name": "get_weather", ' }, { content: '"arguments": {"city": "Paris"}}</tool_call>' }]
    await setup({ 1: leaked, 2: [{ content: ' Sunny.' }] }, { toolRegistry: registry })
    const completion = await gateway!.client.chat.completions.create(ask)
    expect(completion.choices[0]!.message.content).toBe('Let me check. Sunny.')
    expect(registry.calls).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }])
    const streamed = await stream(ask)
    expect(streamed.content).toBe('Let me check. Sunny.')
    expect(streamed.content).not.toContain('<')
    const second = (chatRequests()[1]!.body as Loose).messages as Loose[]
    expect(second.at(-2)).toMatchObject({ role: 'assistant', content: 'Let me check.', tool_calls: [{ function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] })
  })

  it('answers a broken call of a section with tool_args_parse_error in its place, and runs the good ones', async () => {
    const registry = testRegistry(async (name, args) => `${name} ${String(args.city)}`)
    const kimi = (id: string, json: string): string => `<|tool_call_begin|>${id}<|tool_call_argument_begin|>${json}<|tool_call_end|>`
    const section = `<|tool_calls_section_begin|>${kimi('functions.get_time:0', '{"city": "Oslo"}')}${kimi('functions.get_weather:1', '{"city": oops}')}${kimi('functions.get_weather:2', '{"city": "Oslo"}')}<|tool_calls_section_end|>`
    await setup({ 1: [{ content: section.slice(0, 50) }, { content: section.slice(50) }], 2: [{ content: 'Cold in Oslo.' }] }, { toolRegistry: registry })
    const streamed = await stream(ask)
    expect(streamed.content).toBe('Cold in Oslo.')
    expect(registry.calls).toEqual([
      { name: 'get_time', args: { city: 'Oslo' } },
      { name: 'get_weather', args: { city: 'Oslo' } },
    ])
    const second = ((chatRequests()[1]!.body as Loose).messages as Loose[]).slice(-4)
    expect(second[0]).toMatchObject({ role: 'assistant', tool_calls: [{ function: { name: 'get_time' } }, { function: { name: 'get_weather', arguments: '{}' } }, { function: { name: 'get_weather' } }] })
    expect(second.slice(1).map((message) => message.content)).toEqual(['get_time Oslo', expect.stringContaining('tool_args_parse_error'), 'get_weather Oslo'])
    const error = JSON.parse(second[2]!.content as string) as { error: Loose }
    expect(error.error).toMatchObject({ code: 'tool_args_parse_error', example: { name: 'get_weather', arguments: { city: '<string>' } }, format: 'kimi_k2' })
    expect(error.error.text).toContain('oops')
    const calls = (second[0]!.tool_calls as Array<{ id: string }>).map((toolCall) => toolCall.id)
    expect(second.slice(1).map((message) => message.tool_call_id)).toEqual(calls)
  })

  it('hands a call to a tool the client declared to the client (finish tool_calls), and runs none of that round', async () => {
    const registry = testRegistry(async () => 'ran')
    const clientTool = { type: 'function' as const, function: { name: 'ask_user', parameters: { type: 'object', properties: { question: { type: 'string' } } } } }
    await setup({ 1: [call('call_w', 'get_weather', { city: 'Paris' }, 0), call('call_u', 'ask_user', { question: 'Which Paris?' }, 1)] }, { toolRegistry: registry })
    const completion = await gateway!.client.chat.completions.create({ ...ask, tools: [clientTool] })
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls')
    expect(completion.choices[0]!.message.tool_calls).toMatchObject([{ id: 'call_u', function: { name: 'ask_user', arguments: '{"question":"Which Paris?"}' } }])
    expect(registry.calls).toEqual([])
    // Both tool lists went upstream: the client's first.
    expect(((chatRequests()[0]!.body as Loose).tools as ToolDefinition[]).map((tool) => tool.function.name)).toEqual(['ask_user', 'get_weather', 'get_time'])

    const events = await gateway!.client.chat.completions.create({ ...ask, tools: [clientTool], stream: true })
    const calls: Array<{ id?: string; name?: string }> = []
    let finish: string | null | undefined
    for await (const chunk of events) {
      for (const fragment of chunk.choices[0]?.delta.tool_calls ?? []) calls.push({ id: fragment.id, name: fragment.function?.name })
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(calls).toEqual([{ id: 'call_u', name: 'ask_user' }])
    expect(finish).toBe('tool_calls')
  })

  it('follows the unknown-tool policy: error tells the model, passthrough hands the call on, ignore drops it', async () => {
    const registry = testRegistry(async () => 'ran')
    const rounds = { 1: [call('call_x', 'launch_rocket', { target: 'moon' })], 2: [{ content: 'I cannot do that.' }] }
    await setup(rounds, { toolRegistry: registry, unknownToolPolicy: 'error' })
    const told = await gateway!.client.chat.completions.create(ask)
    expect(told.choices[0]!.message.content).toBe('I cannot do that.')
    const toolMessage = ((chatRequests()[1]!.body as Loose).messages as Loose[]).at(-1) as Loose
    expect(toolMessage).toMatchObject({ role: 'tool', tool_call_id: 'call_x' })
    expect(JSON.parse(toolMessage.content as string)).toMatchObject({ error: { code: 'unknown_tool', available: ['get_weather', 'get_time'] } })
    await gateway!.close()
    await upstream!.close()

    await setup(rounds, { toolRegistry: registry, unknownToolPolicy: 'passthrough' })
    const handed = await gateway!.client.chat.completions.create(ask)
    expect(handed.choices[0]!.finish_reason).toBe('tool_calls')
    expect(handed.choices[0]!.message.tool_calls).toMatchObject([{ id: 'call_x', function: { name: 'launch_rocket' } }])
    expect(chatRequests()).toHaveLength(1)
    await gateway!.close()
    await upstream!.close()

    await setup({ 1: [{ content: 'Done thinking.' }, ...rounds[1]] }, { toolRegistry: registry, unknownToolPolicy: 'ignore' })
    const dropped = await stream(ask)
    expect(dropped).toMatchObject({ content: 'Done thinking.', finishReason: 'stop' })
    expect(chatRequests()).toHaveLength(1)
    expect(registry.calls).toEqual([])
  })

  it('asks once more without tools after MAX_TOOL_ITERS rounds, and says so when the model still calls one', async () => {
    const registry = testRegistry(async () => 'again')
    upstream = await startFakeUpstream({ respond: () => ({ chunks: [call(`call_${Math.random().toString(36).slice(2)}`, 'get_weather', { city: 'Paris' })] }) })
    gateway = await startQueuegate({ upstreams: [upstream.url], toolRegistry: registry, maxToolIters: 2 })
    const completion = await gateway.client.chat.completions.create(ask)
    expect(registry.calls).toHaveLength(2)
    const chats = chatRequests()
    expect(chats).toHaveLength(3)
    expect((chats[2]!.body as Loose).tools).toBeUndefined()
    expect((chats[1]!.body as Loose).tools).toBeDefined()
    expect(completion.choices[0]!.finish_reason).toBe('stop')
    expect(completion.choices[0]!.message.content).toMatch(/tool-call limit was reached \(2 rounds\)/)
    expect(completion.choices[0]!.message.tool_calls).toBeUndefined()
  })

  it('stops at once when the client leaves mid-tool: the tool call is aborted and the slot freed', async () => {
    let aborted: unknown
    let started!: () => void
    const toolStarted = new Promise<void>((resolve) => (started = resolve))
    const registry = testRegistry(
      (_name, _args, signal) =>
        new Promise<string>((_resolve, reject) => {
          started()
          signal?.addEventListener('abort', () => {
            aborted = signal.reason
            reject(signal.reason)
          })
        }),
    )
    await setup({ 1: [call('call_a', 'get_weather', { city: 'Paris' })], 2: [{ content: 'never' }] }, { toolRegistry: registry })
    const controller = new AbortController()
    const pending = gateway!.client.chat.completions.create({ ...ask, stream: true }, { signal: controller.signal }).then(async (events) => {
      for await (const _ of events) void _
    })
    await withTimeout(toolStarted, 5000, 'tool started')
    controller.abort()
    await expect(pending).rejects.toThrow()
    await withTimeout(gateway!.waitForEvent((event) => event.type === 'request-end' && event.status === 499), 5000, 'request end')
    expect(aborted).toBeDefined()
    expect(gateway!.gateway.scheduler.snapshot().running).toBe(0)
    expect(chatRequests()).toHaveLength(1)
  })

  it('gives the slot back while tools run when asked, and queues the next round on the same slot', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let started!: () => void
    const toolStarted = new Promise<void>((resolve) => (started = resolve))
    const registry = testRegistry(async () => {
      started()
      await gate
      return 'ok'
    })
    upstream = await startFakeUpstream({ slots: 2, respond: (request) => (roundOf(request) === 1 && isToolAsk(request) ? { chunks: [call('call_a', 'get_weather', { city: 'Paris' })] } : { chunks: [{ content: 'plain' }] }) })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1, slotAffinity: true }], toolRegistry: registry, releaseSlotDuringTools: true })
    const first = gateway.client.chat.completions.create(ask, { headers: { 'x-chat-id': 'conv-1' } })
    await withTimeout(toolStarted, 5000, 'tool started')
    // The one slot is free while the tool runs: another request gets it.
    const other = await withTimeout(gateway.client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'other' }] }), 5000, 'other request')
    expect(other.choices[0]!.message.content).toBe('plain')
    release()
    const answer = await withTimeout(first, 5000, 'tool answer')
    expect(answer.choices[0]!.message.content).toBe('plain')
    const slots = chatRequests().filter(isToolAsk).map((request) => request.idSlot)
    expect(slots).toHaveLength(2)
    expect(slots[1]).toBe(slots[0])
  })

  it('holds the slot for the whole loop by default', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let started!: () => void
    const toolStarted = new Promise<void>((resolve) => (started = resolve))
    const registry = testRegistry(async () => {
      started()
      await gate
      return 'ok'
    })
    await setup({ 1: [call('call_a', 'get_weather', { city: 'Paris' })], 2: [{ content: 'done' }] }, { toolRegistry: registry, _internal: { generateId: () => 'job-tools' } })
    const first = gateway!.client.chat.completions.create(ask)
    await withTimeout(toolStarted, 5000, 'tool started')
    expect(gateway!.gateway.scheduler.snapshot().running).toBe(1)
    const job = (await (await fetch(`${gateway!.url}/v1/jobs/job-tools`)).json()) as Loose
    expect(job).toMatchObject({ status: 'running', tool_round: 1, tools_running: 'get_weather' })
    release()
    expect((await withTimeout(first, 5000, 'answer')).choices[0]!.message.content).toBe('done')
  })
})

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A request of the tool conversation (not the other client's). */
function isToolAsk(request: RecordedRequest): boolean {
  return JSON.stringify((request.body as Loose).messages).includes('Weather in Paris?')
}
