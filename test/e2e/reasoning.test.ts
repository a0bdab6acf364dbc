/**
 * The reasoning split through the gateway (issue 11): `<think>` in content arrives as
 * `reasoning_content`, through the official client, streamed and not.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { GatewayOptions } from 'queuegate'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

const tools = [
  {
    type: 'function' as const,
    function: { name: 'get_weather', description: 'Current weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  },
]
const ask = { model: 'fake-model', messages: [{ role: 'user' as const, content: 'Weather in Paris?' }] }

/** `<think>plan</think>\n\nAnswer` cut across its tags. */
const THINK_THEN_ANSWER = ['<thi', 'nk>pl', 'an</th', 'ink>\n\nAns', 'wer'].map((content) => ({ content }))

interface Streamed {
  content: string
  reasoning: string
  calls: Array<{ name: string; arguments: string }>
  finishReason: string | null | undefined
}

describe('reasoning split through the gateway', () => {
  let upstream: FakeUpstream | undefined
  let gateway: TestGateway | undefined
  afterEach(async () => {
    await gateway?.close()
    await upstream?.close()
    gateway = undefined
    upstream = undefined
  })

  async function setup(chunks: Array<Record<string, unknown>>, options: Partial<GatewayOptions> = {}): Promise<TestGateway> {
    upstream = await startFakeUpstream({ chunks })
    // split is the default.
    gateway = await startQueuegate({ upstreams: [upstream.url], ...options })
    return gateway
  }

  async function stream(body: Record<string, unknown>): Promise<Streamed> {
    const answer: Streamed = { content: '', reasoning: '', calls: [], finishReason: undefined }
    const events = await gateway!.client.chat.completions.create({ ...(body as typeof ask), stream: true })
    for await (const chunk of events) {
      const choice = chunk.choices[0]
      if (choice === undefined) continue
      const delta = choice.delta as { content?: string | null; reasoning_content?: string; tool_calls?: Array<{ index: number; function?: { name?: string; arguments?: string } }> }
      answer.content += delta.content ?? ''
      answer.reasoning += delta.reasoning_content ?? ''
      for (const fragment of delta.tool_calls ?? []) {
        const call = (answer.calls[fragment.index] ??= { name: '', arguments: '' })
        call.name += fragment.function?.name ?? ''
        call.arguments += fragment.function?.arguments ?? ''
      }
      if (choice.finish_reason) answer.finishReason = choice.finish_reason
    }
    return answer
  }

  it('split: a streamed think block arrives as reasoning_content, the answer as content', async () => {
    await setup(THINK_THEN_ANSWER)
    expect(await stream(ask)).toEqual({ content: 'Answer', reasoning: 'plan', calls: [], finishReason: 'stop' })
  })

  it('strip drops the block; keep passes it in content', async () => {
    await setup(THINK_THEN_ANSWER, { reasoning: 'strip' })
    expect(await stream(ask)).toMatchObject({ content: 'Answer', reasoning: '' })
    await gateway!.close()
    gateway = await startQueuegate({ upstreams: [upstream!.url], reasoning: 'keep' })
    expect(await stream(ask)).toMatchObject({ content: '<think>plan</think>\n\nAnswer', reasoning: '' })
  })

  it('a non-streamed answer puts the reasoning in message.reasoning_content', async () => {
    await setup(THINK_THEN_ANSWER)
    const completion = await gateway!.client.chat.completions.create(ask)
    const message = completion.choices[0]?.message as unknown as { content: string; reasoning_content?: string }
    expect(message.content).toBe('Answer')
    expect(message.reasoning_content).toBe('plan')
  })

  it('a reply that starts inside the block (the template opened it): split in a whole answer, and in a stream with a start window', async () => {
    const chunks = ['Okay, the user', ' wants the weather.\n</th', 'ink>\n\nIt is sunny.'].map((content) => ({ content }))
    await setup(chunks, { reasoningStartsInThink: false })
    const completion = await gateway!.client.chat.completions.create(ask)
    expect(completion.choices[0]?.message).toMatchObject({ content: 'It is sunny.', reasoning_content: 'Okay, the user wants the weather.\n' })
    // Streams hold no start by default (the first token of every plain answer would wait); nothing learnt (off).
    expect(await stream(ask)).toMatchObject({ content: 'Okay, the user wants the weather.\n</think>\n\nIt is sunny.', reasoning: '' })
    await gateway!.close()
    gateway = await startQueuegate({ upstreams: [upstream!.url], reasoningStartsInThink: false, reasoningStartWindow: 512 })
    expect(await stream(ask)).toMatchObject({ content: 'It is sunny.', reasoning: 'Okay, the user wants the weather.\n' })
  })

  describe('replies that start inside a block the prompt opened (Qwen3-Thinking, DeepSeek-R1)', () => {
    const QWQ = ['Okay, the user', ' wants the weather.\n</th', 'ink>\n\nIt is sunny.'].map((content) => ({ content }))
    const PLAIN = ['No thinking here', ', just the answer.'].map((content) => ({ content }))

    it('auto: learnt from an orphan </think> in a stream; later streams of that model start inside', async () => {
      await setup(QWQ)
      // The first stream went out before the close tag showed what it was.
      expect(await stream(ask)).toMatchObject({ content: 'Okay, the user wants the weather.\n</think>\n\nIt is sunny.', reasoning: '' })
      expect(await stream(ask)).toEqual({ content: 'It is sunny.', reasoning: 'Okay, the user wants the weather.\n', calls: [], finishReason: 'stop' })
      expect(await stream(ask)).toMatchObject({ content: 'It is sunny.', reasoning: 'Okay, the user wants the weather.\n' })
      // Other thinking switches are another key: nothing learnt for them yet.
      const off = { ...ask, chat_template_kwargs: { enable_thinking: false } } as typeof ask
      expect(await stream(off)).toMatchObject({ content: 'Okay, the user wants the weather.\n</think>\n\nIt is sunny.', reasoning: '' })
      const soft = { ...ask, messages: [{ role: 'user' as const, content: 'Weather in Paris? /no_think' }] }
      expect(await stream(soft)).toMatchObject({ reasoning: '' })
    })

    it('auto: learnt from a whole answer too, and forgotten after a reply with no close tag', async () => {
      let plain = false
      upstream = await startFakeUpstream({ respond: () => ({ chunks: plain ? PLAIN : QWQ }) })
      gateway = await startQueuegate({ upstreams: [upstream.url] })
      const completion = await gateway.client.chat.completions.create(ask)
      expect(completion.choices[0]?.message).toMatchObject({ content: 'It is sunny.', reasoning_content: 'Okay, the user wants the weather.\n' })
      expect(await stream(ask)).toMatchObject({ content: 'It is sunny.', reasoning: 'Okay, the user wants the weather.\n' })
      // The model stops opening the block (another template): one reply goes to reasoning whole, then the key is forgotten.
      plain = true
      expect(await stream(ask)).toMatchObject({ content: '', reasoning: 'No thinking here, just the answer.' })
      expect(await stream(ask)).toMatchObject({ content: 'No thinking here, just the answer.', reasoning: '' })
    })

    it('on (gateway or variant): the first stream starts inside; a model writing its own <think> first is read the same', async () => {
      await setup(QWQ, { reasoningStartsInThink: true })
      expect(await stream(ask)).toMatchObject({ content: 'It is sunny.', reasoning: 'Okay, the user wants the weather.\n' })
      await gateway!.close()
      await upstream!.close()
      upstream = await startFakeUpstream({ chunks: THINK_THEN_ANSWER })
      gateway = await startQueuegate({ upstreams: [upstream.url], reasoningStartsInThink: false, variants: [{ id: 'thinker', model: 'fake-model', reasoningStartsInThink: true }] })
      expect(await stream({ ...ask, model: 'thinker' })).toMatchObject({ content: 'Answer', reasoning: 'plan' })
      const completion = await gateway.client.chat.completions.create({ ...ask, model: 'thinker' })
      expect(completion.choices[0]?.message).toMatchObject({ content: 'Answer', reasoning_content: 'plan' })
    })

    it('an upstream that splits itself (reasoning_content before any content) is never read as starting inside', async () => {
      await setup([{ reasoning_content: 'native thoughts' }, { content: 'Done.' }], { reasoningStartsInThink: true })
      expect(await stream(ask)).toMatchObject({ content: 'Done.', reasoning: 'native thoughts' })
      const completion = await gateway!.client.chat.completions.create(ask)
      expect(completion.choices[0]?.message).toMatchObject({ content: 'Done.', reasoning_content: 'native thoughts' })
    })
  })

  it('upstream reasoning fields become reasoning_content, and are dropped with forwardReasoning off', async () => {
    await setup([{ reasoning: 'native ' }, { thinking: 'thoughts' }, { content: 'Done.' }])
    expect(await stream(ask)).toMatchObject({ content: 'Done.', reasoning: 'native thoughts' })
    await gateway!.close()
    gateway = await startQueuegate({ upstreams: [upstream!.url], forwardReasoning: false })
    expect(await stream(ask)).toMatchObject({ content: 'Done.', reasoning: '' })
  })

  it('a tool call written after </think> is recovered; one drafted inside the thinking stays reasoning', async () => {
    const text =
      '<think>I could write <tool_call>\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call> but the user said Paris.</think>\n\n' +
      'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    const pieces: Array<Record<string, unknown>> = []
    for (let at = 0; at < text.length; at += 7) pieces.push({ content: text.slice(at, at + 7) })
    await setup(pieces)
    const answer = await stream({ ...ask, tools })
    expect(answer.calls).toHaveLength(1)
    expect(answer.calls[0]?.name).toBe('get_weather')
    expect(JSON.parse(answer.calls[0]?.arguments ?? '')).toEqual({ city: 'Paris' })
    expect(answer.finishReason).toBe('tool_calls')
    expect(answer.content).toBe('Let me check.')
    expect(answer.reasoning).toContain('"city": "Rome"')
    expect(answer.reasoning).toContain('but the user said Paris.')

    const completion = await gateway!.client.chat.completions.create({ ...ask, tools })
    const message = completion.choices[0]?.message as unknown as { content: string | null; reasoning_content?: string; tool_calls?: Array<{ function: { name: string; arguments: string } }> }
    expect(message.tool_calls).toHaveLength(1)
    expect(JSON.parse(message.tool_calls?.[0]?.function.arguments ?? '')).toEqual({ city: 'Paris' })
    expect(message.reasoning_content).toContain('"city": "Rome"')
    expect(message.content ?? '').not.toContain('<think>')
  })
})
