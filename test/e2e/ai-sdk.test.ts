/**
 * The Vercel AI SDK (`ai` + `@ai-sdk/openai-compatible`) as a second real client: the reasoning
 * split and tool calls recovered from text reach it as its own reasoning and tool-call parts,
 * streamed and not. (The `openai` client is the first; this one parses the same wire differently.)
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible'
import { generateText, jsonSchema, streamText, tool } from 'ai'
import { afterEach, describe, expect, it } from 'vitest'
import type { GatewayOptions } from 'queuegate'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

const THINK_THEN_ANSWER = ['<thi', 'nk>pl', 'an</th', 'ink>\n\nAns', 'wer'].map((content) => ({ content }))
/** A Hermes-style call leaked into content, cut across chunks. */
const LEAKED_CALL = ['Let me check. <tool', '_call>\n{"name": "get_weather", ', '"arguments": {"city": "Paris"}}\n</tool_call>'].map((content) => ({ content }))

const weather = tool({
  description: 'Current weather in a city',
  inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
})

describe('the Vercel AI SDK as a client', () => {
  let upstream: FakeUpstream | undefined
  let gateway: TestGateway | undefined
  afterEach(async () => {
    await gateway?.close()
    await upstream?.close()
    gateway = undefined
    upstream = undefined
  })

  async function setup(chunks: Array<Record<string, unknown>>, options: Partial<GatewayOptions> = {}) {
    upstream = await startFakeUpstream({ chunks })
    gateway = await startQueuegate({ upstreams: [upstream.url], ...options })
    return createOpenAICompatible({ name: 'queuegate', baseURL: `${gateway.url}/v1`, apiKey: 'test' }).chatModel('fake-model')
  }

  it('gets the split think block as reasoning, the rest as text (generateText and streamText)', async () => {
    const model = await setup(THINK_THEN_ANSWER, { reasoning: 'split' })
    const whole = await generateText({ model, prompt: 'Plan?' })
    expect(whole.text).toBe('Answer')
    expect(whole.reasoningText).toBe('plan')
    const streamed = streamText({ model, prompt: 'Plan?' })
    let text = ''
    let reasoning = ''
    for await (const part of streamed.fullStream) {
      if (part.type === 'text-delta') text += part.text
      if (part.type === 'reasoning-delta') reasoning += part.text
      if (part.type === 'error') throw part.error
    }
    expect({ text, reasoning }).toEqual({ text: 'Answer', reasoning: 'plan' })
  })

  it('gets a tool call the model wrote as text as a tool call (generateText and streamText)', async () => {
    const model = await setup(LEAKED_CALL)
    const whole = await generateText({ model, prompt: 'Weather in Paris?', tools: { get_weather: weather } })
    expect(whole.toolCalls.map((call) => ({ name: call.toolName, input: call.input }))).toEqual([{ name: 'get_weather', input: { city: 'Paris' } }])
    expect(whole.finishReason).toBe('tool-calls')
    expect(whole.text).not.toContain('tool_call')
    const streamed = streamText({ model, prompt: 'Weather in Paris?', tools: { get_weather: weather } })
    const calls: Array<{ name: string; input: unknown }> = []
    let text = ''
    for await (const part of streamed.fullStream) {
      if (part.type === 'tool-call') calls.push({ name: part.toolName, input: part.input })
      if (part.type === 'text-delta') text += part.text
      if (part.type === 'error') throw part.error
    }
    expect(calls).toEqual([{ name: 'get_weather', input: { city: 'Paris' } }])
    expect(text.trim()).toBe('Let me check.')
    expect(await streamed.finishReason).toBe('tool-calls')
  })
})
