import { describe, expect, it } from 'vitest'
import { QueuegateError } from '../../src/errors.js'
import type { ChatCompletionChunk } from '../../src/openai/types.js'
import { createToolCallParser, generateCallId, type ToolCallParserOptions } from '../../src/toolcalls/tool-call-parser.js'
import { mergeChunks } from '../helpers/merge-chunks.js'
import { TEST_TOOLS } from './format-cases.js'

const base = { id: 'chatcmpl-9', object: 'chat.completion.chunk' as const, created: 7, model: 'qwen', system_fingerprint: 'fp' }
const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}): ChatCompletionChunk => ({ ...base, ...extra, choices: [{ index: 0, delta, finish_reason: finish }] })

function runChunks(input: ChatCompletionChunk[], options: Omit<ToolCallParserOptions, 'onChunk'> = {}): ChatCompletionChunk[] {
  const out: ChatCompletionChunk[] = []
  let n = 0
  const parser = createToolCallParser({ tools: TEST_TOOLS, generateId: () => `call_${++n}`, ...options, onChunk: (c) => out.push(c) })
  for (const c of input) parser.feed(c)
  parser.flush()
  return out
}

const merged = (chunks: ChatCompletionChunk[]) => mergeChunks(chunks as unknown as Record<string, unknown>[])

describe('createToolCallParser', () => {
  it('passes plain text through at once, as the same chunk objects', () => {
    const input = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hello' }), chunk({ content: ' world' }), chunk({}, 'stop')]
    const out = runChunks(input)
    expect(out[1]).toBe(input[1])
    expect(merged(out)).toMatchObject({ content: 'Hello world', finishReason: 'stop', toolCalls: [] })
  })

  it('with no declared tools is an identity', () => {
    const input = [chunk({ content: '<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>' }), chunk({}, 'stop')]
    const out = runChunks(input, { tools: [] })
    expect(out).toEqual(input)
    expect(out[0]).toBe(input[0])
  })

  it('emits a recovered call as index, id, type, name, then arguments, with finish_reason tool_calls and the envelope kept', () => {
    const out = runChunks([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Let me check.<tool_' }), chunk({ content: 'call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>' }), chunk({}, 'stop', { usage: { total_tokens: 5 } })])
    const calls = out.flatMap((c) => c.choices.flatMap((choice) => choice.delta.tool_calls ?? []))
    expect(calls).toEqual([
      { index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 0, function: { arguments: '{"city":"Paris"}' } },
    ])
    const last = out[out.length - 1]!
    expect(last.choices[0]!.finish_reason).toBe('tool_calls')
    expect(last.usage).toEqual({ total_tokens: 5 })
    for (const c of out) expect(c).toMatchObject({ id: 'chatcmpl-9', created: 7, model: 'qwen', system_fingerprint: 'fp' })
    expect(merged(out).content).toBe('Let me check.')
  })

  it('merges native tool_calls fragments by index and id, drops nameless ones, gives empty arguments {}', () => {
    const out = runChunks([
      chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { arguments: '{"x":1}' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 2, id: 'call_c', function: { name: 'get_time' } }] }),
      chunk({}, 'tool_calls'),
    ])
    const message = merged(out)
    expect(message.toolCalls).toEqual([
      { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_c', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ])
    expect(message.finishReason).toBe('tool_calls')
    expect(message.role).toBe('assistant')
  })

  it('a native call whose name comes late is emitted when the name arrives, arguments buffered', () => {
    const out = runChunks([chunk({ tool_calls: [{ index: 0, id: 'x1', function: { arguments: '{"q"' } }] }), chunk({ tool_calls: [{ index: 0, function: { name: 'search', arguments: ':1}' } }] }), chunk({}, 'stop')])
    expect(merged(out).toolCalls).toEqual([{ id: 'x1', type: 'function', function: { name: 'search', arguments: '{"q":1}' } }])
    expect(merged(out).finishReason).toBe('tool_calls')
  })

  it('native and recovered calls share the index space', () => {
    const out = runChunks([chunk({ tool_calls: [{ index: 0, id: 'n1', function: { name: 'get_time', arguments: '{}' } }] }), chunk({ content: '[TOOL_CALLS]search[ARGS]{"query":"a"}' }), chunk({}, 'stop')])
    expect(merged(out).toolCalls.map((c) => c.function.name)).toEqual(['get_time', 'search'])
  })

  it('suppress mode drops calls, keeps the text around them, and turns tool_calls into stop', () => {
    const out = runChunks([chunk({ content: 'Before ' }), chunk({ content: '<tool_call>{"name": "get_time", "arguments": {}}</tool_call> after' }), chunk({ tool_calls: [{ index: 0, id: 'n', function: { name: 'search', arguments: '{}' } }] }), chunk({}, 'tool_calls')], { mode: 'suppress' })
    expect(merged(out)).toMatchObject({ content: 'Before after', toolCalls: [], finishReason: 'stop' })
  })

  it('flush without a finish_reason still decides held text and ends calls with tool_calls', () => {
    const out = runChunks([chunk({ content: 'Hi <tool_call>{"name": "get_time", "arguments": {}}' })])
    expect(merged(out)).toMatchObject({ content: 'Hi', finishReason: 'tool_calls' })
    expect(merged(out).toolCalls).toHaveLength(1)
    const plain = runChunks([chunk({ content: 'Hi <tool_ca' })])
    expect(merged(plain)).toMatchObject({ content: 'Hi <tool_ca', finishReason: null })
  })

  it('reads reasoning fields: a call ending the reasoning is a call, removed from the reasoning', () => {
    const out = runChunks([chunk({ reasoning_content: 'Need data.\n<tool_call>{"name": "get_time", ' }), chunk({ reasoning_content: '"arguments": {}}</tool_call>' }), chunk({ content: '' }), chunk({}, 'stop')])
    expect(merged(out)).toMatchObject({ reasoningContent: 'Need data.', content: '', finishReason: 'tool_calls' })
    expect(merged(out).toolCalls.map((c) => c.function.name)).toEqual(['get_time'])
  })

  it('a call drafted in reasoning followed by content stays reasoning; each reasoning field keeps its name', () => {
    const out = runChunks([chunk({ reasoning: 'Draft: <tool_call>{"name": "get_time", "arguments": {}}</tool_call>' }), chunk({ content: 'It is noon.' }), chunk({}, 'stop')])
    const fields = out.flatMap((c) => Object.keys(c.choices[0]?.delta ?? {}))
    expect(fields).not.toContain('reasoning_content')
    expect(merged(out)).toMatchObject({ reasoningContent: 'Draft: <tool_call>{"name": "get_time", "arguments": {}}</tool_call>', content: 'It is noon.', toolCalls: [], finishReason: 'stop' })
  })

  it('keeps choices apart', () => {
    const two = (index: number, delta: Record<string, unknown>, finish: string | null = null): ChatCompletionChunk => ({ ...base, choices: [{ index, delta, finish_reason: finish }] })
    const out = runChunks([two(0, { content: 'A <tool_call>{"name": "get_time", "arguments": {}}</tool_call>' }), two(1, { content: 'B plain' }), two(0, {}, 'stop'), two(1, {}, 'stop')])
    const byChoice = (i: number) => merged(out.filter((c) => c.choices[0]?.index === i))
    expect(byChoice(0)).toMatchObject({ content: 'A', finishReason: 'tool_calls' })
    expect(byChoice(1)).toMatchObject({ content: 'B plain', finishReason: 'stop', toolCalls: [] })
  })

  it('passes usage-only chunks and unknown delta fields through', () => {
    const usage = { ...base, choices: [], usage: { prompt_tokens: 1 } }
    const out = runChunks([chunk({ role: 'assistant', content: 'x', custom: 1 }), chunk({}, 'stop'), usage])
    expect(out[0]!.choices[0]!.delta).toMatchObject({ role: 'assistant', custom: 1 })
    expect(out[out.length - 1]).toBe(usage)
  })

  it('validates options at construction, naming the option and quoting the value', () => {
    expect(() => createToolCallParser({ tools: TEST_TOOLS, formats: ['hermes', 'nope'], onChunk: () => {} })).toThrow(/formats: unknown format "nope"/)
    expect(() => createToolCallParser({ tools: TEST_TOOLS, mode: 'execute' as 'suppress', onChunk: () => {} })).toThrow(/mode: .*"execute"/)
    expect(() => createToolCallParser({ tools: TEST_TOOLS, maxCallChars: 0, onChunk: () => {} })).toThrow(/maxCallChars/)
    try {
      createToolCallParser({ tools: TEST_TOOLS, maxHeldChars: -1, onChunk: () => {} })
    } catch (error) {
      expect(QueuegateError.isInstance(error)).toBe(true)
    }
  })

  it('gives up a call longer than maxCallChars and releases it as text', () => {
    const long = '<tool_call>{"name": "write_file", "arguments": {"content": "' + 'x'.repeat(500) + '"}}</tool_call>'
    const out = runChunks([chunk({ content: long }), chunk({}, 'stop')], { maxCallChars: 200 })
    expect(merged(out)).toMatchObject({ content: long, toolCalls: [], finishReason: 'stop' })
  })

  it('generates call_ ids', () => {
    expect(generateCallId()).toMatch(/^call_[A-Za-z0-9]{24}$/)
    expect(generateCallId()).not.toBe(generateCallId())
  })
})

describe('caps', () => {
  it('releases held whitespace beyond maxHeldChars', () => {
    const out: string[] = []
    const parser = createToolCallParser({ tools: TEST_TOOLS, maxHeldChars: 64, onChunk: (c) => { const t = c.choices[0]?.delta.content; if (typeof t === 'string') out.push(t) } })
    for (let i = 0; i < 20; i++) parser.feed(chunk({ content: '          ' }))
    expect(out.join('').length).toBeGreaterThan(64)
    parser.flush()
    expect(out.join('')).toBe(' '.repeat(200))
  })
})

describe('event order', () => {
  it('keeps text, calls and text in order within one chunk', () => {
    const out = runChunks([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Before <tool_call>{"name": "get_time", "arguments": {}}</tool_call> after' }), chunk({}, 'stop')])
    const kinds = out.flatMap((c) => (c.choices[0]?.delta.tool_calls !== undefined ? ['call'] : typeof c.choices[0]?.delta.content === 'string' && c.choices[0]?.delta.content !== '' ? [c.choices[0]?.delta.content] : []))
    expect(kinds).toEqual(['Before', 'call', 'call', ' after'])
  })
})

describe('finish reasons', () => {
  it('turns an upstream tool_calls into stop when no call reached the client', () => {
    const out = runChunks([chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }), chunk({}, 'tool_calls')])
    expect(merged(out)).toMatchObject({ toolCalls: [], finishReason: 'stop' })
  })
})

describe('onMalformedCall', () => {
  const SB = '<|tool_calls_section_begin|>'
  const SE = '<|tool_calls_section_end|>'
  const kimi = (id: string, json: string): string => `<|tool_call_begin|>${id}<|tool_call_argument_begin|>${json}<|tool_call_end|>`
  const section = `Before ${SB}${kimi('functions.get_time:0', '{}')}${kimi('functions.search:1', '{"query": oops}')}${kimi('functions.get_weather:2', '{"city": "Oslo"}')}${SE} after`

  it('is called in stream order, between the chunks of the calls around the broken one', () => {
    const log: string[] = []
    const out: ChatCompletionChunk[] = []
    const parser = createToolCallParser({
      tools: TEST_TOOLS,
      generateId: () => 'call_x',
      onMalformedCall: (call) => log.push(`malformed ${call.name} (${call.format}): ${call.reason}`),
      onChunk: (c) => {
        out.push(c)
        const delta = c.choices[0]?.delta
        if (delta?.tool_calls?.[0]?.function?.name !== undefined) log.push(`call ${delta.tool_calls[0].function.name}`)
        else if (typeof delta?.content === 'string' && delta.content !== '') log.push(`text ${delta.content}`)
      },
    })
    for (const piece of [chunk({ role: 'assistant', content: '' }), chunk({ content: section.slice(0, 40) }), chunk({ content: section.slice(40) }), chunk({}, 'stop')]) parser.feed(piece)
    parser.flush()
    expect(log).toEqual(['text Before', 'call get_time', 'malformed search (kimi_k2): arguments are not valid JSON', 'call get_weather', 'text  after'])
    expect(merged(out)).toMatchObject({ content: 'Before after', finishReason: 'tool_calls' })
  })

  it('reports the call text (capped) and the format, in parseToolCalls and detectInCompletion too', async () => {
    const { parseToolCalls, detectInCompletion } = await import('../../src/toolcalls/parse-tool-calls.js')
    const reports: unknown[] = []
    const parsed = parseToolCalls(section, { tools: TEST_TOOLS, onMalformedCall: (call) => reports.push(call) })
    expect(parsed.content).toBe('Before after')
    expect(parsed.toolCalls.map((call) => call.function.name)).toEqual(['get_time', 'get_weather'])
    const expected = { name: 'search', text: kimi('functions.search:1', '{"query": oops}'), reason: 'arguments are not valid JSON', format: 'kimi_k2' }
    expect(reports).toEqual([expected])
    const huge = `${SB}${kimi('functions.search:0', `{"query": ${'x'.repeat(10_000)}}`)}${SE}`
    const fromCompletion: { text: string }[] = []
    const completion = detectInCompletion({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: huge }, finish_reason: 'stop' }] }, { tools: TEST_TOOLS, onMalformedCall: (call) => fromCompletion.push(call) })
    expect(completion.choices[0]?.message.content).toBe('')
    expect(fromCompletion).toHaveLength(1)
    expect(fromCompletion[0]!.text).toBe(huge.slice(SB.length, SB.length + 4096))
  })

  it('without the option the broken call is dropped (no marker text), and in suppress mode it is still reported', () => {
    expect(merged(runChunks([chunk({ content: section }), chunk({}, 'stop')]))).toMatchObject({ content: 'Before after' })
    const reports: string[] = []
    const out = runChunks([chunk({ content: section }), chunk({}, 'stop')], { mode: 'suppress', onMalformedCall: (call) => reports.push(call.name ?? '') })
    expect(merged(out)).toMatchObject({ content: 'Before after', toolCalls: [], finishReason: 'stop' })
    expect(reports).toEqual(['search'])
  })

  it('rejects a value that is not a function', () => {
    expect(() => createToolCallParser({ tools: TEST_TOOLS, onMalformedCall: 'x' as never, onChunk: () => {} })).toThrow(/onMalformedCall/)
  })
})
