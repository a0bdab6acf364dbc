/**
 * Property test over the formats of rows 14–46 (DeepSeek, Kimi, GLM/Hy, harmony, MiniMax, the
 * JSON-in-a-tag family, Glimmer, …): random soups of their markers and bodies, fed whole, one character at a
 * time and at random splits, must give the same content and calls, never take released text back,
 * and give the text back exactly when nothing is a call.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectSplitIndependent, runScanner, splitAt } from '../scanner-run.js'

const run = runScanner

const D = '｜DSML｜'
const FRAGMENTS = [
  // DeepSeek V3 / V3.1.
  '<｜tool▁calls▁begin｜>', '<｜tool▁call▁begin｜>', 'function<｜tool▁sep｜>get_weather\n```json\n', '{"city": "P"}', '\n```', '<｜tool▁call▁end｜>', '<｜tool▁calls▁end｜>', 'get_time<｜tool▁sep｜>{}',
  // DSML and invoke XML.
  `<${D}tool_calls>`, `</${D}tool_calls>`, `<${D}function_calls>`, `<${D}invoke name="search">`, `</${D}invoke>`, `<${D}parameter name="query" string="true">`, `</${D}parameter>`, '<function_calls>', '</function_calls>', '<invoke name="get_time">', '</invoke>', '<parameter name="city">', '</parameter>', '<minimax:tool_call>', '</minimax:tool_call>', '<invoke name="nope"/>',
  // Kimi.
  '<|tool_calls_section_begin|>', '<|tool_call_begin|>', 'functions.get_time:0', '<|tool_call_argument_begin|>', '<|tool_call_end|>', '<|tool_calls_section_end|>',
  // GLM / Hy / LongCat.
  '<tool_call>', '</tool_call>', 'get_weather', '<arg_key>city</arg_key>', '<arg_value>', '</arg_value>', '<tool_calls>', '</tool_calls>', '<tool_sep>', ':opensource>', '<longcat_tool_call>',
  // Harmony.
  '<|channel|>commentary to=functions.get_time <|constrain|>json<|message|>', '<|call|>', '<|channel|>analysis<|message|>', 'commentary to=functions.get_weather json',
  // JSON in tags.
  '<|tool_call|>', '<|/tool_call|>', 'functools[', '<|action_start|><|plugin|>', '<|action_end|>', '<TOOLCALL>', '</TOOLCALL>', '<|START_ACTION|>', '<|tools_prefix|>', '[{"get_time": {}}]', '<|function_call|>', '[TOOL_REQUEST]', '[END_TOOL_REQUEST]', '[Calling tool: get_time(', ')]', '>>>get_time\n', '>>>all\n', '<function name="get_time">', '<param name="x">', '</param>', '</function>', '<seed:tool_call>', '<function=get_time>',
  // Glimmer (row 46).
  '<|start|>assistant to=get_time<|message|>', ' to=search<|message|>', 'to=self<|message|>', '<atem:function_calls>', '<atem:invoke name="get_weather">', '<atem:invoke name="<|message|>search">', '<atem:parameter name="city">', '</atem:parameter>', '</atem:invoke>', '</atem:function_calls>', '<|eom|>', '<|eot|>',
  // Glue.
  '[{"name": "get_time", "arguments": {}}]', '{"name": "get_weather", "arguments": {"city": "P"}}', '{"name": "nope", "arguments": {}}', '"', '{', '}', '[', ']', '<', '<|', '｜', ' ', '\n', 'x', '\\',
]

type Call = { name: string; arguments: Record<string, string> }
const VALUES = ['Paris', 'New York', 'a "quote"', 'braces } ] {', 'tag </parameter> inside', 'line\nbreak', 'back\\slash', '東京', 'x</arg_value>y']
const callArbitrary: fc.Arbitrary<Call> = fc
  .record({ name: fc.constantFrom('get_weather', 'search', 'write_file'), value: fc.constantFrom(...VALUES) })
  .map(({ name, value }): Call => ({ name, arguments: name === 'search' ? { query: value } : name === 'write_file' ? { path: 'a.txt', content: value } : { city: value } }))

const pairs = (call: Call, render: (key: string, value: string) => string): string => Object.entries(call.arguments).map(([k, v]) => render(k, v)).join('')
const json = (call: Call): string => JSON.stringify({ name: call.name, arguments: call.arguments })

/** Renders a call in one of the formats (values chosen so every format keeps them intact). */
const RENDER: ((call: Call) => string)[] = [
  (c) => `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>${c.name}\n\`\`\`json\n${JSON.stringify(c.arguments)}\n\`\`\`<｜tool▁call▁end｜><｜tool▁calls▁end｜>`,
  (c) => `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>${c.name}<｜tool▁sep｜>${JSON.stringify(c.arguments)}<｜tool▁call▁end｜><｜tool▁calls▁end｜>`,
  (c) => `<${D}tool_calls>\n<${D}invoke name="${c.name}">\n${pairs(c, (k, v) => `<${D}parameter name="${k}" string="true">${v}</${D}parameter>\n`)}</${D}invoke>\n</${D}tool_calls>`,
  (c) => `<function_calls><invoke name="${c.name}">${pairs(c, (k, v) => `<parameter name="${k}">${v}</parameter>`)}</invoke></function_calls>`,
  (c) => `<|tool_calls_section_begin|><|tool_call_begin|>functions.${c.name}:0<|tool_call_argument_begin|>${JSON.stringify(c.arguments)}<|tool_call_end|><|tool_calls_section_end|>`,
  (c) => `<tool_call>${c.name}${pairs(c, (k, v) => `<arg_key>${k}</arg_key><arg_value>${v}</arg_value>`)}</tool_call>`,
  (c) => `<|channel|>commentary to=functions.${c.name} <|constrain|>json<|message|>${JSON.stringify(c.arguments)}<|call|>`,
  (c) => `<minimax:tool_call>\n<invoke name="${c.name}">\n${pairs(c, (k, v) => `<parameter name="${k}">${v}</parameter>\n`)}</invoke>\n</minimax:tool_call>`,
  (c) => `<tool_calls>[${json(c)}]</tool_calls>`,
  (c) => `<|tool_call|>[${json(c)}]`,
  (c) => `functools[${json(c)}]`,
  (c) => `<|action_start|><|plugin|>${json(c)}<|action_end|>`,
  (c) => `<TOOLCALL>[${json(c)}]</TOOLCALL>`,
  (c) => `<|tools_prefix|>[${JSON.stringify({ [c.name]: c.arguments })}]<|tools_suffix|>`,
  (c) => `[TOOL_REQUEST]${json(c)}[END_TOOL_REQUEST]`,
  (c) => `<longcat_tool_call>${json(c)}</longcat_tool_call>`,
  (c) => `<${D}function_calls><${D}invoke name="${c.name}">${pairs(c, (k, v) => `<${D}parameter name="${k}" string="true">${v}</${D}parameter>`)}</${D}invoke></${D}function_calls>`,
  (c) => `<｜DSML｜ calls>\n<｜DSML｜ invoke name="${c.name}">\n${pairs(c, (k, v) => `<｜DSML｜ parameter name="${k}" string="true">${v}</｜DSML｜ parameter>\n`)}</｜DSML｜ invoke>\n</｜DSML｜ calls>`,
  (c) => `<tool_call>${c.name}\n${pairs(c, (k, v) => `<arg_key>${k}</arg_key>\n<arg_value>${v}</arg_value>\n`)}</tool_call>`,
  (c) => `<tool_calls>\n<tool_call>${c.name}<tool_sep>\n${pairs(c, (k, v) => `<arg_key>${k}</arg_key>\n<arg_value>${v}</arg_value>\n`)}</tool_call>\n</tool_calls>`,
  (c) => `<｜tool_calls_begin｜><｜tool_call_begin｜><steptml:invoke name="${c.name}">${pairs(c, (k, v) => `<steptml:parameter name="${k}">${v}</steptml:parameter>`)}</steptml:invoke><｜tool_call_end｜><｜tool_calls_end｜>`,
  (c) => `<seed:tool_call>\n<function=${c.name}>\n${pairs(c, (k, v) => `<parameter=${k}>\n${v}\n</parameter>\n`)}</function>\n</seed:tool_call>`,
  (c) => `<function name="${c.name}">${pairs(c, (k, v) => `<param name="${k}"><![CDATA[${v}]]></param>`)}</function>`,
  (c) => `<|START_ACTION|>[${JSON.stringify({ tool_call_id: '0', tool_name: c.name, parameters: c.arguments })}]<|END_ACTION|>`,
  (c) => `<|function_call|>${json(c)}`,
  (c) => `[Calling tool: ${c.name}(${JSON.stringify(c.arguments)})]`,
  (c) => `>>>${c.name}\n${JSON.stringify(c.arguments)}`,
  (c) => `<|tool_calls_section_begin|>functions.${c.name}:1<|tool_call_argument_begin|>${JSON.stringify(c.arguments)}<|tool_calls_section_end|>`,
  (c) => `commentary to=functions.${c.name} json${JSON.stringify(c.arguments)}`,
  (c) => `<|start|>assistant to=${c.name}<|message|><atem:function_calls>\n<atem:invoke name="${c.name}">\n${pairs(c, (k, v) => `<atem:parameter name="${k}">${v}</atem:parameter>\n`)}</atem:invoke>\n</atem:function_calls><|eom|>`,
  (c) => `<tool_calls:opensource><tool_call:opensource>${c.name}${pairs(c, (k, v) => `<arg_key:opensource>${k}</arg_key:opensource><arg_value:opensource>${v}</arg_value:opensource>`)}</tool_call:opensource></tool_calls:opensource>`,
]

const WORDS = ['Sure', 'the', 'weather', 'is', 'fine.', 'report', 'functions', 'commentary', '<b>', 'x<y', '[1]', '{', '}', '<tool', '<|', '|>', '｜', 'ok!', '東🌧️']
const textArbitrary = fc.array(fc.constantFrom(...WORDS), { maxLength: 5 }).map((words) => words.join(' '))

describe('formats of rows 14-46: marker soup', () => {
  it('random calls in random formats with random text and splits: recovered, text kept, split-independent', () => {
    fc.assert(
      fc.property(
        textArbitrary,
        fc.array(fc.tuple(callArbitrary, fc.integer({ min: 0, max: RENDER.length - 1 }), textArbitrary), { maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (first, items, cuts) => {
          let text = first
          for (const [call, format, after] of items) text += `\n${RENDER[format]!(call)}\n${after}`
          // Whitespace touching a removed call goes with it; with text on both sides one newline stays.
          const expected = [first, ...items.map(([, , after]) => after)].map((piece) => piece.trim()).filter((piece) => piece !== '').join('\n')
          const whole = run([text], false)
          expect(whole.calls.map((call) => ({ name: call.name, arguments: JSON.parse(call.arguments) as unknown }))).toEqual(items.map(([call]) => call))
          expect(whole.content.replace(/\s+/g, ' ').trim()).toBe(expected.replace(/\s+/g, ' ').trim())
          const split = run(splitAt(text, cuts), false)
          expect({ content: split.content, calls: split.calls }).toEqual({ content: whole.content, calls: whole.calls })
          for (const snapshot of split.snapshots) expect(whole.content.startsWith(snapshot)).toBe(true)
        },
      ),
      { numRuns: 400, seed: 14 },
    )
  })

  it('output never depends on how the text is split, and nothing released is taken back', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 24 }), fc.array(fc.nat(), { maxLength: 24 }), fc.boolean(), (parts, cuts, reasoning) => {
        const text = parts.join('')
        const whole = expectSplitIndependent(text, cuts, reasoning)
        // Functionary's `>>>all\n` recipient line is the one thing removed without a call.
        if (whole.calls.length === 0 && whole.malformed.length === 0 && !text.includes('>>>all\n')) expect(whole.content).toBe(text)
      }),
      { numRuns: 500, seed: 45 },
    )
  })
})
