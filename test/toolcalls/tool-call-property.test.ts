import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectSplitIndependent, runScanner, splitAt } from './scanner-run.js'

interface Run {
  content: string
  calls: Array<{ name: string; arguments: unknown }>
  snapshots: string[]
}

function run(pieces: string[], deferCalls = false): Run {
  const result = runScanner(pieces, deferCalls)
  return { ...result, calls: result.calls.map((call) => ({ name: call.name, arguments: JSON.parse(call.arguments) as unknown })) }
}

const WORDS = ['Sure', 'the', 'weather', 'is', 'fine.', 'get_weather', 'search', 'call', '<b>', 'x<y', 'a>b', '[1]', '(see)', '{x', 'y}', '<tool', 'TOOL_CALLS', '<function', '<|', '|>', '`', '``', 'tool_call', 'name:', 'ok!', '"quoted"', 'é東🌧️']
const VALUES = ['Paris', 'New York', 'a "quote"', 'braces } ] {', 'tag </tool_call> inside', 'line\nbreak', 'back\\slash', '東京', '']

type Call = { name: string; arguments: Record<string, string> }
const callArbitrary: fc.Arbitrary<Call> = fc.record({
  name: fc.constantFrom('get_weather', 'search', 'write_file'),
  value: fc.constantFrom(...VALUES),
}).map(({ name, value }): Call => ({ name, arguments: name === 'search' ? { query: value } : name === 'write_file' ? { path: 'a.txt', content: value } : { city: value } }))

/** Renders a call in one of the strong formats (each keeps the arguments intact). */
function render(call: Call, format: number): string {
  const json = JSON.stringify(call.arguments)
  switch (format) {
    case 0:
      return `<tool_call>\n${JSON.stringify({ name: call.name, arguments: call.arguments })}\n</tool_call>`
    case 1:
      return `<tool_call>\n<function=${call.name}>\n${Object.entries(call.arguments).map(([k, v]) => `<parameter=${k}>\n${v}\n</parameter>\n`).join('')}</function>\n</tool_call>`
    case 2:
      return `[TOOL_CALLS]${call.name}[ARGS]${json}`
    case 3:
      return `[TOOL_CALLS] [${JSON.stringify({ name: call.name, arguments: call.arguments })}]`
    case 4:
      return `<|tool_call>call:${call.name}{${Object.entries(call.arguments).map(([k, v]) => `${k}:<|"|>${v}<|"|>`).join(',')}}<tool_call|>`
    default:
      return `<|tool_call_start|>[${call.name}(${Object.entries(call.arguments).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})]<|tool_call_end|>`
  }
}

const textArbitrary = fc.array(fc.constantFrom(...WORDS), { maxLength: 6 }).map((words) => words.join(' '))

describe('tool-call engine properties', () => {
  it('random text + random calls in random formats + random splits: calls recovered, text kept, split-independent', () => {
    fc.assert(
      fc.property(
        textArbitrary,
        fc.array(fc.tuple(callArbitrary, fc.integer({ min: 0, max: 5 }), textArbitrary, fc.constantFrom(' ', '\n', '\n\n', '')), { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (first, items, cuts) => {
          let text = first
          for (const [call, format, after, gap] of items) text += `${gap === '' ? ' ' : gap}${render(call, format)}\n${after}`
          // Whitespace touching a removed call goes with it; with text on both sides one separator stays
          // (a newline here: one always follows each call).
          const expected = [first, ...items.map(([, , after]) => after)].map((piece) => piece.trim()).filter((piece) => piece !== '').join('\n')
          const whole = run([text])
          expect(whole.calls).toEqual(items.map(([call]) => call))
          expect(whole.content).toBe(expected)
          const split = run(splitAt(text, cuts))
          expect({ content: split.content, calls: split.calls }).toEqual({ content: whole.content, calls: whole.calls })
          for (const snapshot of split.snapshots) expect(whole.content.startsWith(snapshot)).toBe(true)
        },
      ),
      { numRuns: 300, seed: 20261122 },
    )
  })

  it('random marker soup: output never depends on how the text is split, and nothing released is taken back', () => {
    const fragments = ['<tool_call>', '</tool_call>', '{"name": "get_weather", "arguments": {"city": "P"}}', '{"name": "nope", "arguments": {}}', '"', '}', '{', '[', ']', '\n', ' ', 'x', '[TOOL_CALLS]', 'get_weather', '[ARGS]', '{}', '```json\n', '```', '<function=get_weather>', '<parameter=city>', '</parameter>', '</function>', '<|tool_call>', 'call:get_weather{city:A}', '<tool_call|>', '[get_weather(city="B")]', '<function_calls>', '</function_calls>', 'search(query="q")', '<|python_tag|>', '<', '<|', '|>', '\\',
      // Other formats' markers, fuzzed too.
      '<｜tool▁calls▁begin｜>', '<｜tool▁call▁begin｜>', 'function<｜tool▁sep｜>get_weather\n```json\n{}\n```', '<｜tool▁call▁end｜>', '<｜tool▁calls▁end｜>',
      '<|tool_calls_section_begin|>', '<|tool_call_begin|>functions.get_weather:0', '<|tool_call_argument_begin|>', '<|tool_call_end|>', '<|tool_calls_section_end|>',
      '<tool_call>get_weather', '<arg_key>city</arg_key>', '<arg_value>Paris</arg_value>', '<｜DSML｜function_calls>', '<｜DSML｜invoke name="get_weather">', '</｜DSML｜invoke>', '</｜DSML｜function_calls>',
      '<invoke name="get_weather">', '<parameter name="city">X</parameter>', '</invoke>', '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>', '<|call|>', 'commentary to=functions.get_weather json',
      '<minimax:tool_call>', '</minimax:tool_call>', '<tool_calls>', '</tool_calls>', '<TOOLCALL>', '</TOOLCALL>', '[TOOL_REQUEST]', '[END_TOOL_REQUEST]', 'functools[', '>>>get_weather\n', '[Calling tool: get_weather(', ')]', '<function name="get_weather">', '<param name="city">Y</param>']
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 30 }), fc.boolean(), (parts, cuts, reasoning) => {
        const text = parts.join('')
        const whole = expectSplitIndependent(text, cuts, reasoning)
        // Nothing is invented or lost: without calls (good or malformed), the text comes back exactly.
        if (whole.calls.length === 0 && whole.malformed.length === 0) expect(whole.content).toBe(text)
      }),
      { numRuns: 400, seed: 7 },
    )
  })
})
