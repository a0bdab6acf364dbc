import { describe, expect, it } from 'vitest'
import type { ToolCallFormat } from '../../src/toolcalls/formats/types.js'
import { parseToolCalls } from '../../src/toolcalls/parse-tool-calls.js'
import { NO, PARTIAL, literalAt } from '../../src/toolcalls/scan.js'
import { createDeclaredTools } from '../../src/toolcalls/declared-tools.js'
import { toolCallFormats } from '../../src/toolcalls/formats/index.js'
import { createMarkerIndex, createToolCallScanner } from '../../src/toolcalls/tool-call-scanner.js'
import { seededRandom } from '../helpers/seeded-random.js'
import { randomSplit, runFormatCases, TEST_TOOLS } from './format-cases.js'

const names = (text: string, options: Parameters<typeof parseToolCalls>[1] = {}) => {
  const result = parseToolCalls(text, { tools: TEST_TOOLS, ...options })
  return { content: result.content, calls: result.toolCalls.map((call) => call.function.name) }
}

/** A toy strong format `@@name@@`, to test engine rules without a real format's quirks. */
const toy: ToolCallFormat = {
  id: 'toy',
  strength: 'strong',
  starts: ['@@', 'call_me'],
  match(text, context) {
    const open = literalAt(text, 0, '@@')
    if (open === PARTIAL) return { status: 'partial' }
    if (open === NO) {
      const word = literalAt(text, 0, 'call_me')
      if (word === PARTIAL) return { status: 'partial' }
      return word === NO ? { status: 'reject' } : { status: 'match', length: word, calls: [{ name: 'get_time', arguments: {} }] }
    }
    const close = text.indexOf('@@', open)
    if (close < 0) return context.final ? { status: 'reject' } : { status: 'partial', waitFor: ['@'] }
    return { status: 'match', length: close + 2, calls: [{ name: text.slice(open, close), arguments: {} }] }
  },
}

describe('engine rules', () => {
  it('custom format objects plug in through `formats`', () => {
    expect(names('a @@get_time@@ b', { formats: [toy] })).toEqual({ content: 'a b', calls: ['get_time'] })
    expect(names('a @@nope@@ b', { formats: [toy] })).toEqual({ content: 'a @@nope@@ b', calls: [] })
  })

  it('a strong opener starting with a word char counts only at a word boundary', () => {
    expect(names('x call_me y', { formats: [toy] })).toEqual({ content: 'x y', calls: ['get_time'] })
    expect(names('xcall_me y', { formats: [toy] })).toEqual({ content: 'xcall_me y', calls: [] })
  })

  it('weak calls at the start of the message count even with text after them', () => {
    expect(names('get_time{}\nDone.')).toEqual({ content: 'Done.', calls: ['get_time'] })
  })

  it('weak calls after text count only if nothing but calls and whitespace follows', () => {
    expect(names('Text.\nget_time{}\n\nsearch{"query": "a"}\n')).toEqual({ content: 'Text.', calls: ['get_time', 'search'] })
    expect(names('Text.\nget_time{}\nmore text')).toEqual({ content: 'Text.\nget_time{}\nmore text', calls: [] })
  })

  it('a strong call between weak ones does not break the group', () => {
    expect(names('Text.\nget_time{}\n<tool_call>{"name": "search", "arguments": {}}</tool_call>\nsearch{"query": "b"}')).toEqual({ content: 'Text.', calls: ['search', 'get_time', 'search'] })
  })

  it('whitespace touching a removed call goes with it; between text one separator stays; other whitespace stays', () => {
    const call = '<tool_call>{"name": "get_time", "arguments": {}}</tool_call>'
    expect(parseToolCalls(`  A  \n\n${call}\n\n  B  `, { tools: TEST_TOOLS }).content).toBe('  A\nB  ')
    expect(parseToolCalls(`A ${call} B`, { tools: TEST_TOOLS }).content).toBe('A B')
    expect(parseToolCalls(`A${call}B`, { tools: TEST_TOOLS }).content).toBe('AB')
    expect(parseToolCalls(`A ${call}\n${call} B`, { tools: TEST_TOOLS }).content).toBe('A\nB')
    expect(parseToolCalls(`\n${call}\n\nB`, { tools: TEST_TOOLS }).content).toBe('B')
    expect(parseToolCalls(`A\n\n${call}\n`, { tools: TEST_TOOLS }).content).toBe('A')
    expect(parseToolCalls('  plain  \n', { tools: TEST_TOOLS }).content).toBe('  plain  \n')
  })

  it('text is never re-ordered around calls and no call is lost in long mixed text', () => {
    const parts: string[] = []
    for (let i = 0; i < 200; i++) parts.push(`line ${i} <b>x</b> [${i}] {y}\n<tool_call>{"name": "search", "arguments": {"query": "${i}"}}</tool_call>\n`)
    const result = parseToolCalls(parts.join(''), { tools: TEST_TOOLS })
    expect(result.toolCalls.map((call) => JSON.parse(call.function.arguments).query)).toEqual(Array.from({ length: 200 }, (_, i) => String(i)))
    expect(result.content).toBe(Array.from({ length: 200 }, (_, i) => `line ${i} <b>x</b> [${i}] {y}`).join('\n'))
  })
})

describe('long calls', () => {
  const code = 'if (a) { print("x", \'y\'); return [a, {b: "1"}] } // </tool_call> </parameter>\n'.repeat(2000)
  const cases = {
    hermes: `Writing.\n<tool_call>\n${JSON.stringify({ name: 'write_file', arguments: { path: 'a.js', content: code } })}\n</tool_call>\nDone.`,
    qwen3: `Writing.\n<tool_call>\n<function=write_file>\n<parameter=path>\na.js\n</parameter>\n<parameter=content>\n${code}\n</parameter>\n</function>\n</tool_call>\nDone.`,
  }
  const index = createMarkerIndex(toolCallFormats, createDeclaredTools(TEST_TOOLS))
  const run = (pieces: string[]) => {
    let content = ''
    const calls: string[] = []
    const scanner = createToolCallScanner({ index, onText: (text) => (content += text), onCalls: (found) => calls.push(...found.map((call) => call.arguments)) })
    for (const piece of pieces) scanner.feed(piece)
    scanner.finish()
    return { content, calls }
  }
  for (const [name, text] of Object.entries(cases)) {
    it(`a ${Math.round(text.length / 1024)} KB ${name} call with braces, quotes and closers in its value is one call, however split`, () => {
      const whole = run([text])
      expect(whole.content).toBe('Writing.\nDone.')
      expect(JSON.parse(whole.calls[0]!)).toEqual({ path: 'a.js', content: code })
      for (const seed of [1, 2]) expect(run(randomSplit(text, seededRandom(seed), 9))).toEqual(whole)
    })
  }
})

runFormatCases('engine table', [
  { name: 'two formats in one message', text: 'A\n<tool_call>{"name": "get_time", "arguments": {}}</tool_call>\nB [TOOL_CALLS]search[ARGS]{"query": "x"}', content: 'A\nB', calls: [{ name: 'get_time', arguments: {} }, { name: 'search', arguments: { query: 'x' } }] },
  { name: 'opener prefixes everywhere stay text', text: '< <t <tool [T [TOOL_ <| <|tool <｜ ``` {" [g get_' },
  { name: 'weak in reasoning must end it', channel: 'reasoning', text: 'Plan.\nget_time{}\n', content: 'Plan.', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'weak at the start of reasoning followed by more reasoning is planning', channel: 'reasoning', text: 'get_time{}\nthen think more' },
  { name: 'empty text', text: '' },
  { name: 'only whitespace', text: ' \n\t \n' },
  { name: 'CRLF lines', text: 'Hi.\r\nget_time{}\r\n', content: 'Hi.', calls: [{ name: 'get_time', arguments: {} }] },
])
