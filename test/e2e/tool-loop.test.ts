import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream, RecordedRequest } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import type { GatewayOptions } from 'queuegate'
import { reply, startFakeToolServer } from '../tools/fake-tool-server.js'
import type { FakeTool, FakeToolServer } from '../tools/fake-tool-server.js'
import type { ToolDefinition } from '../../src/openai/types.js'
import { withTimeout } from '../helpers/with-timeout.js'
import { addAnswerHook } from '../../src/gateway/call-plan.js'
import type { CallStage } from '../../src/gateway/call-plan.js'
import type { AssistantMessage } from '../../src/openai/message-accumulator.js'

type Loose = Record<string, unknown>

const citySchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }

/** The fake OpenAPI tool server's tools: get_weather and get_time, each answering through `run`. */
function toolsOf(run: (name: string, args: Loose) => unknown): Record<string, FakeTool> {
  return {
    get_weather: { schema: citySchema, summary: 'Current weather in a city', handler: (args) => run('get_weather', args) },
    get_time: { schema: citySchema, summary: 'Local time in a city', handler: (args) => run('get_time', args) },
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
  let tools: FakeToolServer | undefined
  afterEach(async () => {
    await gateway?.close()
    await upstream?.close()
    await tools?.close()
    gateway = undefined
    upstream = undefined
    tools = undefined
  })

  /** The fake upstream scripted per round, the fake tool server, and the gateway over both (the real registry, built from `toolServers`). */
  async function setup(rounds: Record<number, Loose[]>, run: (name: string, args: Loose) => unknown, options: Partial<GatewayOptions> = {}): Promise<TestGateway> {
    upstream = await startFakeUpstream({ respond: (request) => ({ chunks: rounds[roundOf(request)] ?? [{ content: 'no script for this round' }] }) })
    tools ??= await startFakeToolServer({ tools: toolsOf(run) })
    gateway = await startQueuegate({ upstreams: [upstream.url], toolServers: [tools.url], ...options })
    return gateway
  }

  async function restart(rounds: Record<number, Loose[]>, options: Partial<GatewayOptions>): Promise<TestGateway> {
    await gateway?.close()
    await upstream?.close()
    return setup(rounds, () => 'unused', options)
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

  /** The calls the tool server received: name and arguments. */
  function toolCalls(): Array<{ name: string; args: unknown }> {
    return tools!.calls.map((received) => ({ name: received.name, args: received.body }))
  }

  it('runs a native call and answers with the next round (non-stream and stream)', async () => {
    await setup({ 1: [call('call_a', 'get_weather', { city: 'Paris' })], 2: [{ content: 'Sunny in Paris.' }] }, (_name, args) => ({ city: args.city, sky: 'sunny' }))

    const completion = await gateway!.client.chat.completions.create(ask)
    const message = completion.choices[0]!.message as { content: string | null; reasoning_content?: string; tool_calls?: unknown }
    expect(message.content).toBe('Sunny in Paris.')
    expect(message.tool_calls).toBeUndefined()
    expect(completion.choices[0]!.finish_reason).toBe('stop')
    expect(message.reasoning_content).toContain('get_weather {"city":"Paris"}')
    expect(message.reasoning_content).toMatch(/get_weather: \d+ B in \d+ ms/)
    expect(toolCalls()).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }])

    // The second round carries the assistant's call and the tool's result; the registry's tools were declared upstream.
    const chats = chatRequests()
    expect(chats).toHaveLength(2)
    expect(((chats[0]!.body as Loose).tools as ToolDefinition[]).map((tool) => tool.function.name)).toEqual(['get_weather', 'get_time'])
    const second = (chats[1]!.body as Loose).messages as Loose[]
    expect(second.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_a', function: { name: 'get_weather' } }] })
    expect(second.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_a' })
    expect(JSON.parse(second.at(-1)!.content as string)).toEqual({ city: 'Paris', sky: 'sunny' })

    const streamed = await stream(ask)
    expect(streamed.content).toBe('Sunny in Paris.')
    expect(streamed.finishReason).toBe('stop')
    expect(streamed.reasoning).toContain('get_weather {"city":"Paris"}')
    expect(tools!.calls).toHaveLength(2)
  })

  it('runs the calls of one round concurrently and appends the results in call order', async () => {
    let running = 0
    let most = 0
    await setup({ 1: [call('call_w', 'get_weather', { city: 'Paris' }, 0), call('call_t', 'get_time', { city: 'Paris' }, 1)], 2: [{ content: 'Both done.' }] }, async (name) => {
      running++
      most = Math.max(most, running)
      // The first call ends last: results still come back in call order.
      await sleep(name === 'get_weather' ? 80 : 10)
      running--
      return `${name} done`
    })
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
    const leaked = [{ content: 'Let me check.' }, { content: '<tool_call>{"name": "get_weather", ' }, { content: '"arguments": {"city": "Paris"}}</tool_call>' }]
    await setup({ 1: leaked, 2: [{ content: ' Sunny.' }] }, () => ({ sky: 'sunny' }))
    const completion = await gateway!.client.chat.completions.create(ask)
    expect(completion.choices[0]!.message.content).toBe('Let me check. Sunny.')
    expect(toolCalls()).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }])
    const streamed = await stream(ask)
    expect(streamed.content).toBe('Let me check. Sunny.')
    expect(streamed.content).not.toContain('<')
    const second = (chatRequests()[1]!.body as Loose).messages as Loose[]
    expect(second.at(-2)).toMatchObject({ role: 'assistant', content: 'Let me check.', tool_calls: [{ function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] })
  })

  it('answers a broken call of a section with tool_args_parse_error in its place, and runs the good ones', async () => {
    const kimi = (id: string, json: string): string => `<|tool_call_begin|>${id}<|tool_call_argument_begin|>${json}<|tool_call_end|>`
    const section = `<|tool_calls_section_begin|>${kimi('functions.get_time:0', '{"city": "Oslo"}')}${kimi('functions.get_weather:1', '{"city": oops}')}${kimi('functions.get_weather:2', '{"city": "Oslo"}')}<|tool_calls_section_end|>`
    await setup({ 1: [{ content: section.slice(0, 50) }, { content: section.slice(50) }], 2: [{ content: 'Cold in Oslo.' }] }, (name, args) => `${name} ${String(args.city)}`)
    const streamed = await stream(ask)
    expect(streamed.content).toBe('Cold in Oslo.')
    expect(toolCalls()).toEqual([
      { name: 'get_time', args: { city: 'Oslo' } },
      { name: 'get_weather', args: { city: 'Oslo' } },
    ])
    const second = ((chatRequests()[1]!.body as Loose).messages as Loose[]).slice(-4)
    expect(second[0]).toMatchObject({ role: 'assistant', tool_calls: [{ function: { name: 'get_time' } }, { function: { name: 'get_weather', arguments: '{}' } }, { function: { name: 'get_weather' } }] })
    expect(second.slice(1).map((message) => message.content)).toEqual(['get_time Oslo', expect.stringContaining('tool_args_parse_error'), 'get_weather Oslo'])
    const error = JSON.parse(second[2]!.content as string) as Loose
    expect(error).toMatchObject({ code: 'tool_args_parse_error', example: { name: 'get_weather', arguments: { city: '<string>' } }, format: 'kimi_k2' })
    expect(error.text).toContain('oops')
    const ids = (second[0]!.tool_calls as Array<{ id: string }>).map((toolCall) => toolCall.id)
    expect(second.slice(1).map((message) => message.tool_call_id)).toEqual(ids)
  })

  it('gives the model the registry\'s missing_required_args, and runs the call it corrects on the next round', async () => {
    await setup({ 1: [call('call_1', 'get_weather', {})], 2: [call('call_2', 'get_weather', { city: 'Lyon' })], 3: [{ content: 'Rain in Lyon.' }] }, (_name, args) => ({ city: args.city, sky: 'rain' }))
    const completion = await gateway!.client.chat.completions.create(ask)
    expect(completion.choices[0]!.message.content).toBe('Rain in Lyon.')
    // The first call never reached the server: the registry checked it first.
    expect(toolCalls()).toEqual([{ name: 'get_weather', args: { city: 'Lyon' } }])
    const second = ((chatRequests()[1]!.body as Loose).messages as Loose[]).at(-1) as Loose
    expect(JSON.parse(second.content as string)).toMatchObject({ code: 'missing_required_args', required: ['city'] })
    expect((completion.choices[0]!.message as { reasoning_content?: string }).reasoning_content).toMatch(/get_weather failed \(missing_required_args\)/)
  })

  it('passes a tool server\'s 500 and a timeout to the model as tool errors; the request still succeeds', async () => {
    await setup(
      { 1: [call('call_w', 'get_weather', { city: 'Paris' }, 0), call('call_t', 'get_time', { city: 'Paris' }, 1)], 2: [{ content: 'Tools are down.' }] },
      (name) => (name === 'get_weather' ? reply({ status: 500, body: { detail: 'weather backend down' } }) : reply({ hang: true })),
      { toolTimeoutMs: 300 },
    )
    const streamed = await stream(ask)
    expect(streamed).toMatchObject({ content: 'Tools are down.', finishReason: 'stop' })
    const results = ((chatRequests()[1]!.body as Loose).messages as Loose[]).slice(-2).map((message) => JSON.parse(message.content as string) as Loose)
    expect(results[0]).toMatchObject({ code: 'tool_http_error', status: 500 })
    expect(JSON.stringify(results[0]!.body)).toContain('weather backend down')
    expect(results[1]).toMatchObject({ code: 'tool_timeout' })
    expect(streamed.reasoning).toMatch(/get_weather failed \(tool_http_error\)/)
    expect(streamed.reasoning).toMatch(/get_time failed \(tool_timeout\)/)
    await withTimeout(tools!.waitFor((server) => server.active === 0), 5000, 'timed-out call closed')
  })

  it('hands a call to a tool the client declared to the client (finish tool_calls), and runs none of that round', async () => {
    const clientTool = { type: 'function' as const, function: { name: 'ask_user', parameters: { type: 'object', properties: { question: { type: 'string' } } } } }
    await setup({ 1: [call('call_w', 'get_weather', { city: 'Paris' }, 0), call('call_u', 'ask_user', { question: 'Which Paris?' }, 1)] }, () => 'ran')
    const completion = await gateway!.client.chat.completions.create({ ...ask, tools: [clientTool] })
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls')
    expect(completion.choices[0]!.message.tool_calls).toMatchObject([{ id: 'call_u', function: { name: 'ask_user', arguments: '{"question":"Which Paris?"}' } }])
    expect(tools!.calls).toEqual([])
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
    const rounds = { 1: [call('call_x', 'launch_rocket', { target: 'moon' })], 2: [{ content: 'I cannot do that.' }] }
    await setup(rounds, () => 'ran', { unknownToolPolicy: 'error' })
    const told = await gateway!.client.chat.completions.create(ask)
    expect(told.choices[0]!.message.content).toBe('I cannot do that.')
    const toolMessage = ((chatRequests()[1]!.body as Loose).messages as Loose[]).at(-1) as Loose
    expect(toolMessage).toMatchObject({ role: 'tool', tool_call_id: 'call_x' })
    expect(JSON.parse(toolMessage.content as string)).toMatchObject({ code: 'unknown_tool', available: ['get_weather', 'get_time'] })

    await restart(rounds, { unknownToolPolicy: 'passthrough' })
    const handed = await gateway!.client.chat.completions.create(ask)
    expect(handed.choices[0]!.finish_reason).toBe('tool_calls')
    expect(handed.choices[0]!.message.tool_calls).toMatchObject([{ id: 'call_x', function: { name: 'launch_rocket' } }])
    expect(chatRequests()).toHaveLength(1)

    await restart({ 1: [{ content: 'Done thinking.' }, ...rounds[1]] }, { unknownToolPolicy: 'ignore' })
    const dropped = await stream(ask)
    expect(dropped).toMatchObject({ content: 'Done thinking.', finishReason: 'stop' })
    expect(chatRequests()).toHaveLength(1)
    expect(tools!.calls).toEqual([])
  })

  it('asks once more without tools after MAX_TOOL_ITERS rounds, and says so when the model still calls one', async () => {
    const always = [call('call_again', 'get_weather', { city: 'Paris' })]
    await setup({ 1: always, 2: always, 3: always }, () => 'again', { maxToolIters: 2 })
    const completion = await gateway!.client.chat.completions.create(ask)
    expect(tools!.calls).toHaveLength(2)
    const chats = chatRequests()
    expect(chats).toHaveLength(3)
    expect((chats[2]!.body as Loose).tools).toBeUndefined()
    expect((chats[1]!.body as Loose).tools).toBeDefined()
    expect(completion.choices[0]!.finish_reason).toBe('stop')
    expect(completion.choices[0]!.message.content).toMatch(/tool-call limit was reached \(2 rounds\)/)
    expect(completion.choices[0]!.message.tool_calls).toBeUndefined()
  })

  it('stops at once when the client leaves mid-tool: the tool request is aborted and the slot freed', async () => {
    await setup({ 1: [call('call_a', 'get_weather', { city: 'Paris' })], 2: [{ content: 'never' }] }, () => reply({ hang: true }))
    const controller = new AbortController()
    const pending = gateway!.client.chat.completions.create({ ...ask, stream: true }, { signal: controller.signal }).then(async (events) => {
      for await (const _ of events) void _
    })
    await withTimeout(tools!.waitFor((server) => server.active === 1), 5000, 'tool running')
    controller.abort()
    // The official client may end the iteration quietly or throw: either way the client is gone.
    await withTimeout(pending.catch(() => {}), 5000, 'client stopped')
    await withTimeout(gateway!.waitForEvent((event) => event.type === 'request-end' && event.status === 499), 5000, 'request end')
    await withTimeout(tools!.waitFor((server) => server.active === 0), 5000, 'tool request aborted')
    expect(gateway!.gateway.scheduler.snapshot().running).toBe(0)
    expect(chatRequests()).toHaveLength(1)
  })

  it('gives the slot back while tools run when asked, and queues the next round on the same slot', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    upstream = await startFakeUpstream({ slots: 2, respond: (request) => (roundOf(request) === 1 && isToolAsk(request) ? { chunks: [call('call_a', 'get_weather', { city: 'Paris' })] } : { chunks: [{ content: 'plain' }] }) })
    tools = await startFakeToolServer({ tools: toolsOf(async () => {
      await gate
      return 'ok'
    }) })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1, slotAffinity: true }], toolServers: [tools.url], releaseSlotDuringTools: true })
    const first = gateway.client.chat.completions.create(ask, { headers: { 'x-chat-id': 'conv-1' } })
    await withTimeout(tools.waitFor((server) => server.active === 1), 5000, 'tool running')
    // The one slot is free while the tool runs: another request gets it.
    const other = await withTimeout(gateway.client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'other' }] }), 5000, 'other request')
    expect(other.choices[0]!.message.content).toBe('plain')
    release()
    const answer = await withTimeout(first, 5000, 'tool answer')
    expect(answer.choices[0]!.message.content).toBe('plain')
    const slots = chatRequests().filter(isToolAsk).map((request) => request.idSlot)
    expect(slots).toEqual([0, 0])
  })

  it('runs the registry\'s tools without declaring them upstream under injectTools: false', async () => {
    await setup({ 1: [call('call_a', 'get_weather', { city: 'Paris' })], 2: [{ content: 'Sunny.' }] }, () => 'sunny', { injectTools: false })
    const completion = await gateway!.client.chat.completions.create(ask)
    expect(completion.choices[0]!.message.content).toBe('Sunny.')
    expect((chatRequests()[0]!.body as Loose).tools).toBeUndefined()
    expect(tools!.calls).toHaveLength(1)
  })

  it('leaves the calls to the client under X-Tool-Mode: passthrough, and executes on the agent endpoint whatever the default', async () => {
    await setup({ 1: [call('call_a', 'get_weather', { city: 'Paris' })], 2: [{ content: 'Sunny.' }] }, () => 'sunny', { toolMode: 'passthrough' })
    const plain = await gateway!.client.chat.completions.create(ask)
    expect(plain.choices[0]!.finish_reason).toBe('tool_calls')
    expect(plain.choices[0]!.message.tool_calls).toMatchObject([{ id: 'call_a', function: { name: 'get_weather' } }])
    expect((chatRequests()[0]!.body as Loose).tools).toBeUndefined()
    const agent = await gateway!.client.post('/agent/chat/completions', { body: ask }) as { choices: Array<{ message: { content: string } }> }
    expect(agent.choices[0]!.message.content).toBe('Sunny.')
    const executed = await gateway!.client.chat.completions.create(ask, { headers: { 'X-Tool-Mode': 'execute' } })
    expect(executed.choices[0]!.message.content).toBe('Sunny.')
    expect(tools!.calls).toHaveLength(2)
  })

  it('stops a non-streamed loop too when its client leaves mid-tool', async () => {
    await setup({ 1: [call('call_a', 'get_weather', { city: 'Paris' })], 2: [{ content: 'never' }] }, () => reply({ hang: true }))
    const controller = new AbortController()
    const pending = gateway!.client.chat.completions.create(ask, { signal: controller.signal })
    await withTimeout(tools!.waitFor((server) => server.active === 1), 5000, 'tool running')
    controller.abort()
    await expect(pending).rejects.toThrow()
    await withTimeout(gateway!.waitForEvent((event) => event.type === 'request-end' && event.status === 499), 5000, 'request end')
    await withTimeout(tools!.waitFor((server) => server.active === 0), 5000, 'tool request aborted')
    expect(gateway!.gateway.scheduler.snapshot().running).toBe(0)
  })

  it('tells a streaming client that waits for a slot where it stands, then runs the loop', async () => {
    upstream = await startFakeUpstream({
      respond: (request) => (isToolAsk(request) ? { chunks: roundOf(request) === 1 ? [call('call_a', 'get_weather', { city: 'Paris' })] : [{ content: 'Sunny.' }] } : { ttftMs: 400, chunks: [{ content: 'slow' }] }),
    })
    tools = await startFakeToolServer({ tools: toolsOf(() => 'sunny') })
    gateway = await startQueuegate({ upstreams: [upstream.url], toolServers: [tools.url], notifyAfterMs: 50, queueNotify: 'reasoning' })
    const holder = gateway.client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hold the slot' }] }, { headers: { 'x-tool-mode': 'passthrough' } })
    await withTimeout(upstream.waitFor((fake) => fake.active === 1), 5000, 'slot taken')
    const streamed = await stream(ask)
    expect(streamed.reasoning).toMatch(/Queued: position 1/)
    expect(streamed.reasoning).toContain('→ get_weather')
    expect(streamed).toMatchObject({ content: 'Sunny.', finishReason: 'stop' })
    expect((await holder).choices[0]!.message.content).toBe('slow')
  })

  it('hands the final assistant message (content, progress, finish) to the answer hooks', async () => {
    const finished: AssistantMessage[] = []
    const hookStage: CallStage = { name: 'test-hook', prepare: (plan) => addAnswerHook(plan, (message) => void finished.push(message)) }
    await setup({ 1: [call('call_a', 'get_weather', { city: 'Paris' })], 2: [{ content: 'Sunny.' }] }, () => 'sunny', { _internal: { stages: (defaults) => [...defaults, hookStage] } })
    await stream(ask)
    await gateway!.client.chat.completions.create(ask)
    expect(finished).toHaveLength(2)
    for (const message of finished) {
      expect(message).toMatchObject({ role: 'assistant', content: 'Sunny.', finish_reason: 'stop' })
      expect(message.reasoning_content).toContain('→ get_weather')
    }
  })

  it('holds the slot for the whole loop by default, and /v1/jobs shows the round and the tool running', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    await setup(
      { 1: [call('call_a', 'get_weather', { city: 'Paris' })], 2: [{ content: 'done' }] },
      async () => {
        await gate
        return 'ok'
      },
      { _internal: { generateId: () => 'job-tools' } },
    )
    const first = gateway!.client.chat.completions.create(ask)
    await withTimeout(tools!.waitFor((server) => server.active === 1), 5000, 'tool running')
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
