/**
 * Issue 9 under any chunking: random prose, good calls and broken calls in the section formats,
 * leftovers after calls, and a call cut off by the end after a complete one, split at random places
 * (and one character at a time): the good calls come out in order, every broken call is reported in
 * order, no marker text reaches the content, and nothing depends on the split.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectSplitIndependent } from './scanner-run.js'

type Call = { name: 'get_weather' | 'search'; value: string }
const VALUES = ['Paris', 'New York', 'a "quote"', '東京', 'x y']
const callArbitrary: fc.Arbitrary<Call> = fc.record({ name: fc.constantFrom('get_weather' as const, 'search' as const), value: fc.constantFrom(...VALUES) })
const key = (call: Call): string => (call.name === 'search' ? 'query' : 'city')

const SB = '<|tool_calls_section_begin|>'
const SE = '<|tool_calls_section_end|>'

/** Good calls, one renderer per section format. */
const GOOD: ((call: Call) => string)[] = [
  (c) => `${SB}<|tool_call_begin|>functions.${c.name}:0<|tool_call_argument_begin|>${JSON.stringify({ [key(c)]: c.value })}<|tool_call_end|>${SE}`,
  (c) => `<tool_call>\n<function=${c.name}>\n<parameter=${key(c)}>\n${c.value}\n</parameter>\n</function>\n</tool_call>`,
  (c) => `<tool_call>${c.name}<arg_key>${key(c)}</arg_key><arg_value>${c.value}</arg_value></tool_call>`,
  (c) => `<minimax:tool_call>\n<invoke name="${c.name}">\n<parameter name="${key(c)}">${c.value}</parameter>\n</invoke>\n</minimax:tool_call>`,
  (c) => `<tool_calls>[${JSON.stringify({ name: c.name, arguments: { [key(c)]: c.value } })}]</tool_calls>`,
  (c) => `<tool_call>${JSON.stringify({ name: c.name, arguments: { [key(c)]: c.value } })}</tool_call>`,
  (c) => `<seed:tool_call>\n<function=${c.name}>\n<parameter=${key(c)}>${c.value}</parameter>\n</function>\n</seed:tool_call>`,
  (c) => `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>${c.name}<｜tool▁sep｜>${JSON.stringify({ [key(c)]: c.value })}<｜tool▁call▁end｜><｜tool▁calls▁end｜>`,
]

/** Broken calls naming a declared tool (arguments that cannot be read), one per format. */
const BROKEN: ((name: string) => string)[] = [
  (n) => `${SB}<|tool_call_begin|>functions.${n}:0<|tool_call_argument_begin|>{"q": x y}<|tool_call_end|>${SE}`,
  (n) => `<tool_call>\n<function=${n}>\nquery: x\n</function>\n</tool_call>`,
  (n) => `<tool_call>${n}\nquery = x\n</tool_call>`,
  (n) => `<minimax:tool_call>\n<invoke name="${n}">{"q": oops}</invoke>\n</minimax:tool_call>`,
  (n) => `<tool_calls>[{"name": "${n}", "arguments": {"q": oops}}]</tool_calls>`,
  (n) => `<tool_call>{"name": "${n}", "arguments": {q: a b}}</tool_call>`,
  (n) => `<seed:tool_call>\n<function=${n}>\nquery: x\n</function>\n</seed:tool_call>`,
  (n) => `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>${n}<｜tool▁sep｜>{"q": x y}<｜tool▁call▁end｜><｜tool▁calls▁end｜>`,
]

/** What models leave right after a call. */
const LEFTOVERS = ['', '</tool_call>', '<|im_end|>', '<|eot_id|>', '\n<tool_response>', '</minimax:tool_call>', `${SE}`]

const WORDS = ['Sure', 'the', 'weather', 'is', 'fine.', 'ok', '(see)', 'a<b', '[1]', 'é東']
const textArbitrary = fc.array(fc.constantFrom(...WORDS), { maxLength: 4 }).map((words) => words.join(' '))

type Item = { kind: 'good'; call: Call; format: number; leftover: string; after: string } | { kind: 'broken'; name: Call['name']; format: number; after: string }
const itemArbitrary: fc.Arbitrary<Item> = fc.oneof(
  fc.record({ kind: fc.constant('good' as const), call: callArbitrary, format: fc.nat({ max: GOOD.length - 1 }), leftover: fc.constantFrom(...LEFTOVERS), after: textArbitrary }),
  fc.record({ kind: fc.constant('broken' as const), name: fc.constantFrom('get_weather' as const, 'search' as const), format: fc.nat({ max: BROKEN.length - 1 }), after: textArbitrary }),
)

/** A call cut off by the end of the message (after a complete one it goes, reported). */
const CUT = ['<tool_call>\n<function=get_weather>\n<parameter=city>\nPar', '<tool_call>{"name": "get_weather", "arguments": {"city": "Pa', '<tool_calls>[{"name": "get_weather", "arguments": {"ci']

const squash = (text: string): string => text.replace(/\s+/g, ' ').trim()

describe('malformed calls and leftovers: properties (issue 9)', () => {
  it('good calls out in order, broken ones reported in order, no markers in content, split-independent', () => {
    fc.assert(
      fc.property(textArbitrary, fc.array(itemArbitrary, { maxLength: 4 }), fc.option(fc.nat({ max: CUT.length - 1 })), fc.array(fc.nat(), { maxLength: 30 }), (first, items, cut, cuts) => {
        let text = first
        const calls: Call[] = []
        const malformed: string[] = []
        for (const item of items) {
          if (item.kind === 'good') {
            text += `\n${GOOD[item.format]!(item.call)}${item.leftover}\n${item.after}`
            calls.push(item.call)
          } else {
            text += `\n${BROKEN[item.format]!(item.name)}\n${item.after}`
            malformed.push(item.name)
          }
        }
        // A cut-off call right after a call (no text between) goes with it and is reported.
        const cutCounts = cut !== null && items.length > 0 && items[items.length - 1]!.after === ''
        if (cutCounts) {
          text += `\n${CUT[cut]!}`
          malformed.push('get_weather')
        }
        const whole = expectSplitIndependent(text, cuts, false)
        expect(whole.calls.map((call) => ({ name: call.name, value: (JSON.parse(call.arguments) as Record<string, string>)[call.name === 'search' ? 'query' : 'city'] }))).toEqual(calls)
        expect(whole.malformed.map((call) => call.name)).toEqual(malformed)
        const prose = [first, ...items.map((item) => item.after)].filter((piece) => piece.trim() !== '').join(' ')
        expect(squash(whole.content)).toBe(squash(prose))
      }),
      { numRuns: 300, seed: 9 },
    )
  })
})
