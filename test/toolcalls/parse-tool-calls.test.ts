import { describe, expect, it } from 'vitest'
import type { ChatCompletion } from '../../src/openai/types.js'
import { detectInCompletion, parseToolCalls } from '../../src/toolcalls/parse-tool-calls.js'
import { TEST_TOOLS } from './format-cases.js'

const completion = (message: Record<string, unknown>, finish = 'stop'): ChatCompletion => ({
  id: 'c1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finish }],
  usage: { total_tokens: 3 },
})

describe('parseToolCalls', () => {
  it('returns content and calls', () => {
    const result = parseToolCalls('Sure.\n[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}', { tools: ['get_weather'] })
    expect(result.content).toBe('Sure.')
    expect(result.toolCalls).toEqual([{ id: expect.stringMatching(/^call_/) as unknown, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }])
  })

  it('restricts to the chosen formats', () => {
    const text = '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}'
    expect(parseToolCalls(text, { tools: ['get_weather'], formats: ['hermes'] }).toolCalls).toEqual([])
  })

  it('suppress: text without calls, no calls', () => {
    expect(parseToolCalls('a <tool_call>{"name": "get_time", "arguments": {}}</tool_call> b', { tools: ['get_time'], mode: 'suppress' })).toEqual({ content: 'a b', toolCalls: [] })
  })
})

describe('detectInCompletion', () => {
  it('moves calls from content into tool_calls, content null when nothing is left, finish_reason tool_calls', () => {
    const input = completion({ content: '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>' })
    const output = detectInCompletion(input, { tools: TEST_TOOLS, generateId: () => 'call_x' })
    expect(output.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      finish_reason: 'tool_calls',
    })
    expect(output.usage).toEqual({ total_tokens: 3 })
    expect(input.choices[0]!.message.content).toContain('<tool_call>')
  })

  it('keeps native calls first, fixes their empty arguments, and reads a call at the end of reasoning_content', () => {
    const output = detectInCompletion(
      completion({ content: '', reasoning_content: 'Thinking.\n<tool_call>{"name": "search", "arguments": {"query": "x"}}</tool_call>', tool_calls: [{ id: 'n1', type: 'function', function: { name: 'get_time', arguments: '' } }] }),
      { tools: TEST_TOOLS, generateId: () => 'call_y' },
    )
    const message = output.choices[0]!.message
    // A native call came: the reasoning call was a draft.
    expect(message.tool_calls).toEqual([{ id: 'n1', type: 'function', function: { name: 'get_time', arguments: '{}' } }])
    expect(message.reasoning_content).toContain('<tool_call>')
    const alone = detectInCompletion(completion({ content: '', reasoning_content: 'Thinking.\n<tool_call>{"name": "search", "arguments": {"query": "x"}}</tool_call>' }), { tools: TEST_TOOLS, generateId: () => 'call_y' })
    expect(alone.choices[0]!.message).toMatchObject({ reasoning_content: 'Thinking.', tool_calls: [{ id: 'call_y', function: { name: 'search' } }] })
    expect(alone.choices[0]!.finish_reason).toBe('tool_calls')
  })

  it('no tools: unchanged; suppress: calls removed and tool_calls → stop', () => {
    const input = completion({ content: '<tool_call>{"name": "get_time", "arguments": {}}</tool_call>' })
    expect(detectInCompletion(input, {})).toBe(input)
    const suppressed = detectInCompletion(completion({ content: 'x <tool_call>{"name": "get_time", "arguments": {}}</tool_call>', tool_calls: [{ id: 'n', type: 'function', function: { name: 'get_time', arguments: '{}' } }] }, 'tool_calls'), { tools: TEST_TOOLS, mode: 'suppress' })
    expect(suppressed.choices[0]).toMatchObject({ message: { content: 'x' }, finish_reason: 'stop' })
    expect(suppressed.choices[0]!.message.tool_calls).toBeUndefined()
  })
})
