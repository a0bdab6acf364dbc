/**
 * Issue 9, "Malformed calls": in the section formats a broken call beside good ones, a call whose
 * arguments cannot be repaired, and a section cut off after a complete call leave the good calls
 * and no marker text in content; the broken call is reported through `onMalformedCall`. Also the
 * leftovers models write around a call. Each case runs whole, streamed at every split the harness
 * tries, and through `detectInCompletion` (see format-cases.ts).
 */
import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = (city: string) => ({ name: 'get_weather', arguments: { city } })
const time = { name: 'get_time', arguments: {} }
const search = (query: string) => ({ name: 'search', arguments: { query } })

// Kimi K2.
const SB = '<|tool_calls_section_begin|>'
const SE = '<|tool_calls_section_end|>'
const kimi = (id: string, json: string): string => `<|tool_call_begin|>${id}<|tool_call_argument_begin|>${json}<|tool_call_end|>`
// MiniMax M2.
const mm = (invokes: string): string => `<minimax:tool_call>\n${invokes}</minimax:tool_call>`
const invoke = (name: string, params: Record<string, string>): string => `<invoke name="${name}">\n${Object.entries(params).map(([k, v]) => `<parameter name="${k}">${v}</parameter>\n`).join('')}</invoke>\n`
// Qwen3-Coder XML.
const qwen = (name: string, params: Record<string, string>): string => `<tool_call>\n<function=${name}>\n${Object.entries(params).map(([k, v]) => `<parameter=${k}>\n${v}\n</parameter>\n`).join('')}</function>\n</tool_call>`
// GLM (arg_key) and Hy3 (arg_key in a wrapper).
const glm = (name: string, params: Record<string, string>): string => `<tool_call>${name}${Object.entries(params).map(([k, v]) => `<arg_key>${k}</arg_key><arg_value>${v}</arg_value>`).join('')}</tool_call>`
const hy = (calls: string): string => `<tool_calls>\n${calls}\n</tool_calls>`
const hyCall = (name: string, params: Record<string, string>): string => `<tool_call>${name}<tool_sep>${Object.entries(params).map(([k, v]) => `\n<arg_key>${k}</arg_key>\n<arg_value>${v}</arg_value>`).join('')}\n</tool_call>`
// `<tool_calls>` JSON lists.
const json = (name: string, args: string): string => `{"name": "${name}", "arguments": ${args}}`
// Seed-OSS (Qwen3-Coder functions in a `<seed:tool_call>` block).
const seed = (functions: string): string => `<seed:tool_call>\n${functions}</seed:tool_call>`
const seedFunction = (name: string, params: Record<string, string>): string => `<function=${name}>\n${Object.entries(params).map(([k, v]) => `<parameter=${k}>${v}</parameter>\n`).join('')}</function>\n`
// DeepSeek V3 (fenced JSON) and V3.1 (bare JSON).
const DB = '<｜tool▁calls▁begin｜>'
const DE = '<｜tool▁calls▁end｜>'
const dsV3 = (name: string, args: string): string => `<｜tool▁call▁begin｜>function<｜tool▁sep｜>${name}\n\`\`\`json\n${args}\n\`\`\`<｜tool▁call▁end｜>`
const dsV31 = (name: string, args: string): string => `<｜tool▁call▁begin｜>${name}<｜tool▁sep｜>${args}<｜tool▁call▁end｜>`

const cases: FormatCase[] = [
  // Kimi K2.
  { name: 'kimi: broken call between good ones', text: `Now. ${SB}${kimi('functions.get_time:0', '{}')}${kimi('functions.search:1', '{"query": x y}')}${kimi('functions.get_weather:2', '{"city": "Rome"}')}${SE} Done.`, content: 'Now. Done.', calls: [time, weather('Rome')], malformed: ['search'] },
  { name: 'kimi: only a broken call', text: `${SB}${kimi('functions.search:0', '{query}}')}${SE}`, malformed: ['search'] },
  { name: 'kimi: cut off after a complete call', text: `${SB}${kimi('functions.get_time:0', '{}')}<|tool_call_begin|>functions.get_weather:1<|tool_call_argument_begin|>{"city": "Os`, calls: [time], malformed: ['get_weather'] },
  { name: 'kimi: repeated section end and an end token after the section', text: `${SB}${kimi('functions.get_time:0', '{}')}${SE}${SE}<|im_end|>`, calls: [time] },
  { name: 'kimi: section end cut off part-way', text: `${SB}${kimi('functions.get_time:0', '{}')}<|tool_calls_sect`, calls: [time] },
  { name: 'kimi: section begin written twice', text: `${SB}\n${SB}${kimi('functions.get_time:0', '{}')}${SE}`, calls: [time] },
  { name: 'kimi: a name but no arguments, cut off: text', text: `Hm. ${SB}<|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>` },
  // MiniMax M2.
  { name: 'minimax: broken invoke beside good ones', text: mm(invoke('get_weather', { city: 'Paris' }) + '<invoke name="search">{"query": oops}</invoke>\n' + invoke('get_time', {})), calls: [weather('Paris'), time], malformed: ['search'] },
  { name: 'minimax: a parameter without a name', text: 'A ' + mm('<invoke name="search">\n<parameter>cats</parameter>\n</invoke>\n') + ' B', content: 'A B', malformed: ['search'] },
  { name: 'minimax: cut off after a complete invoke', text: mm(invoke('get_weather', { city: 'Paris' })).replace('</minimax:tool_call>', '<invoke name="search">\n<parameter name="query">ca'), calls: [weather('Paris')], malformed: ['search'] },
  { name: 'minimax: block closer cut off part-way', text: mm(invoke('get_weather', { city: 'Paris' })).replace('</minimax:tool_call>', '</minimax:to'), calls: [weather('Paris')] },
  { name: 'minimax: repeated block closer', text: mm(invoke('get_time', {})) + '\n</minimax:tool_call>\nDone.', content: 'Done.', calls: [time] },
  { name: 'minimax: a name but no arguments, cut off: text', text: 'x <minimax:tool_call>\n<invoke name="get_weather">\n' },
  // Qwen3-Coder XML.
  { name: 'qwen3: broken call between good ones', text: `${qwen('get_weather', { city: 'Paris' })}\n<tool_call>\n<function=search>\nquery: cats\n</function>\n</tool_call>\n${qwen('get_time', {})}`, calls: [weather('Paris'), time], malformed: ['search'] },
  { name: 'qwen3: a parameter tag without a name', text: `Ok. <tool_call>\n<function=search>\n<parameter=>\ncats\n</parameter>\n</function>\n</tool_call>`, content: 'Ok.', malformed: ['search'] },
  { name: 'qwen3: two functions in one block, the second broken', text: `<tool_call>\n<function=get_time>\n</function>\n<function=search>\nquery\n</function>\n</tool_call>`, calls: [time], malformed: ['search'] },
  { name: 'qwen3: cut off after a complete call', text: `${qwen('get_time', {})}\n<tool_call>\n<function=search>\n<parameter=query>\nca`, calls: [time], malformed: ['search'] },
  { name: 'qwen3: cut off after a complete call, before the name', text: `${qwen('get_time', {})}\n<tool_call>\n<funct`, calls: [time] },
  { name: 'qwen3: repeated close tag and a response token', text: `${qwen('get_time', {})}\n</tool_call>\n<tool_response>\nLater.`, content: 'Later.', calls: [time] },
  { name: 'qwen3: the same opener twice, the first unclosed', text: `<tool_call>\n${qwen('get_weather', { city: 'Paris' })}`, calls: [weather('Paris')] },
  { name: 'qwen3: close tag cut off part-way', text: qwen('get_weather', { city: 'Paris' }).replace(/<\/tool_call>$/, '</tool_'), calls: [weather('Paris')] },
  { name: 'qwen3: a name but no arguments, cut off: text (no empty-argument call)', text: 'x <tool_call>\n<function=get_weather>\n' },
  { name: 'qwen3: a zero-argument call closed is still a call', text: '<tool_call>\n<function=get_time>\n</function>\n</tool_call>', calls: [time] },
  // GLM arg_key.
  { name: 'glm: broken call beside a good one', text: `${glm('get_time', {})}${'<tool_call>search<arg_key>query</arg_key>\n<arg_key>x</arg_key></tool_call>'}`, calls: [time], malformed: ['search'] },
  { name: 'glm: text where the pairs should be', text: `Go. <tool_call>search\nquery = cats\n</tool_call>`, content: 'Go.', malformed: ['search'] },
  { name: 'glm: cut off after a complete call', text: `${glm('get_time', {})}\n<tool_call>search<arg_key>query</arg_key><arg_value>ca`, calls: [time], malformed: ['search'] },
  { name: 'glm: close tag cut off part-way', text: glm('get_weather', { city: 'Paris' }).replace(/<\/tool_call>$/, '\n</tool_'), calls: [weather('Paris')] },
  { name: 'glm: the same opener twice, the first unclosed', text: `<tool_call>\n${glm('get_weather', { city: 'Paris' })}`, calls: [weather('Paris')] },
  { name: 'glm: repeated close tag', text: `${glm('get_time', {})}</tool_call> ok`, content: 'ok', calls: [time] },
  { name: 'glm: a name but no arguments, cut off: text', text: 'x <tool_call>get_weather' },
  { name: 'glm: a name and a newline, cut off: text', text: 'x <tool_call>get_weather\n' },
  // Hy3 (arg_key in a wrapper).
  { name: 'hy3: broken call between good ones', text: hy(`${hyCall('get_time', {})}\n<tool_call>search<tool_sep>\nquery: cats\n</tool_call>\n${hyCall('get_weather', { city: 'Oslo' })}`), calls: [time, weather('Oslo')], malformed: ['search'] },
  { name: 'hy3: cut off after a complete call', text: `<tool_calls>\n${hyCall('get_time', {})}\n<tool_call>search<tool_sep>\n<arg_key>query</arg_key>\n<arg_value>ca`, calls: [time], malformed: ['search'] },
  // `<tool_calls>` JSON lists (and MiniMax-M1 lines).
  { name: 'tool_calls list: broken element between good ones', text: `<tool_calls>[${json('get_time', '{}')}, ${json('search', '{"query": oops}')}, ${json('get_weather', '{"city": "Oslo"}')}]</tool_calls>`, calls: [time, weather('Oslo')], malformed: ['search'] },
  { name: 'tool_calls lines: broken line beside a good one', text: `<tool_calls>\n${json('get_time', '{}')}\n${json('search', '{"query": oops}')}\n</tool_calls> Next.`, content: 'Next.', calls: [time], malformed: ['search'] },
  { name: 'tool_calls: only a broken call', text: `<tool_calls>[${json('search', '{query: a b}')}]</tool_calls>`, malformed: ['search'] },
  { name: 'tool_calls list: cut off after a complete element', text: `<tool_calls>[${json('get_time', '{}')}, {"name": "search", "arguments": {"query": "ca`, calls: [time], malformed: ['search'] },
  { name: 'tool_calls list: cut off after a complete element, before the name', text: `<tool_calls>[${json('search', '{"query": "a"}')}, {"na`, calls: [search('a')] },
  { name: 'tool_calls: broken JSON naming no declared tool stays text', text: `<tool_calls>[${json('reboot', '{x y}')}]</tool_calls>` },
  { name: 'tool_calls: valid JSON that is not a call stays text', text: '<tool_calls>[{"title": "x"}]</tool_calls>' },
  { name: 'tool_calls: repeated closer and an end token', text: `<tool_calls>[${json('get_time', '{}')}]</tool_calls></tool_calls><|eot_id|>`, calls: [time] },
  { name: 'tool_calls: closer cut off part-way', text: `<tool_calls>[${json('get_time', '{}')}]</tool_ca`, calls: [time] },
  { name: 'tool_calls: the same opener twice, the first unclosed', text: `<tool_calls>\n<tool_calls>[${json('get_time', '{}')}]</tool_calls>`, calls: [time] },
  { name: 'tool_calls: a name but no arguments, cut off: text', text: 'x <tool_calls>[{"name": "get_weather", "arguments": ' },
  // Seed-OSS.
  { name: 'seed: broken call between good ones', text: `Now. ${seed(seedFunction('get_weather', { city: 'Paris' }) + '<function=search>\nquery: cats\n</function>\n' + seedFunction('get_time', {}))} Done.`, content: 'Now. Done.', calls: [weather('Paris'), time], malformed: ['search'] },
  { name: 'seed: only a broken call', text: seed('<function=search>\n<parameter=>cats</parameter>\n</function>\n'), malformed: ['search'] },
  { name: 'seed: cut off after a complete call', text: `<seed:tool_call>\n${seedFunction('get_time', {})}<function=search>\n<parameter=query>ca`, calls: [time], malformed: ['search'] },
  { name: 'seed: a name but no arguments, cut off: text', text: 'x <seed:tool_call>\n<function=get_weather>\n' },
  // DeepSeek V3 / V3.1.
  { name: 'deepseek v3: broken call between good ones', text: `Now. ${DB}${dsV3('get_time', '{}')}${dsV3('search', '{"query": x y}')}${dsV3('get_weather', '{"city": "Rome"}')}${DE} Done.`, content: 'Now. Done.', calls: [time, weather('Rome')], malformed: ['search'] },
  { name: 'deepseek v3.1: arguments not an object beside a good call', text: `${DB}${dsV31('search', '["cats"]')}${dsV31('get_time', '{}')}${DE}`, calls: [time], malformed: ['search'], formats: ['deepseek_v31'] },
  { name: 'deepseek v3.1: cut off after a complete call', text: `${DB}${dsV31('get_time', '{}')}<｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Os`, calls: [time], malformed: ['get_weather'], formats: ['deepseek_v31'] },
  { name: 'deepseek v3.1: a body that is not JSON at all stays text', text: `${DB}${dsV31('search', 'query: cats')}${DE}`, formats: ['deepseek_v31'] },
  // Leftovers that stay: prose after a call, a short `<` at the end, an opener of the next call.
  { name: 'prose with a tag after a call stays', text: `${qwen('get_time', {})}\nUse <b>bold</b>.`, content: 'Use <b>bold</b>.', calls: [time] },
  { name: 'a lone "<" after a call at the end stays', text: `${qwen('get_time', {})} <`, content: '<', calls: [time] },
  { name: 'a special token that opens a call is not a leftover', text: `${qwen('get_time', {})}\n${SB}${kimi('functions.get_weather:0', '{"city": "Oslo"}')}${SE}`, calls: [time, weather('Oslo')] },
]

runFormatCases('malformed calls and leftovers (issue 9)', cases)
