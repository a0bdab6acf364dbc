import { runFormatCases, type FormatCase } from '../format-cases.js'

const SB = '<|tool_calls_section_begin|>'
const SE = '<|tool_calls_section_end|>'
const CB = '<|tool_call_begin|>'
const CE = '<|tool_call_end|>'
const AB = '<|tool_call_argument_begin|>'
const call = (id: string, json: string): string => `${CB}${id} ${AB}${json}${CE}`
const wrap = (...calls: string[]): string => SB + calls.join('') + SE
const weather = (city: string) => ({ name: 'get_weather', arguments: { city } })

const cases: FormatCase[] = [
  // Positive (vLLM tests/tool_parsers/test_kimi_k2_tool_parser.py shapes).
  { name: 'single call after text', text: "I'll check. " + wrap(call('functions.get_weather:0', '{"city": "Beijing"}')), content: "I'll check.", calls: [weather('Beijing')] },
  { name: 'parallel calls', text: 'Compare weather. ' + wrap(call('functions.get_weather:0', '{"city": "Beijing"}'), call('functions.get_weather:1', '{"city": "Shanghai"}')), content: 'Compare weather.', calls: [weather('Beijing'), weather('Shanghai')] },
  { name: 'three different tools', text: wrap(call('functions.get_weather:0', '{"city": "NYC"}'), call('functions.search:1', '{"query": "tech"}'), call('functions.get_time:2', '{}')), calls: [weather('NYC'), { name: 'search', arguments: { query: 'tech' } }, { name: 'get_time', arguments: {} }] },
  { name: 'angle brackets in JSON', text: wrap(call('functions.write_file:0', '{"path": "a.html", "content": "<div>content</div>"}')), calls: [{ name: 'write_file', arguments: { path: 'a.html', content: '<div>content</div>' } }] },
  { name: 'multiline JSON', text: wrap(call('functions.search:0', '{\n  "query": "test",\n  "limit": 123\n}')), calls: [{ name: 'search', arguments: { query: 'test', limit: 123 } }] },
  { name: 'id without functions. prefix', text: wrap(call('get_weather:0', '{"city": "Tokyo"}')), calls: [weather('Tokyo')] },
  { name: 'no spaces around the id', text: `${SB}${CB}functions.get_time:0${AB}{}${CE}${SE}`, calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'singular section tag (llama.cpp PR #17376)', text: `<|tool_call_section_begin|>${call('functions.get_time:0', '{}')}<|tool_call_section_end|>`, calls: [{ name: 'get_time', arguments: {} }] },
  // Partial / missing begin tokens.
  { name: 'section begin missing', text: `Ok.${call('functions.get_weather:0', '{"city": "Paris"}')}${SE}`, content: 'Ok.', calls: [weather('Paris')] },
  { name: 'call begin missing inside the section', text: `${SB}functions.get_weather:0${AB}{"city": "Paris"}${SE}`, calls: [weather('Paris')] },
  { name: 'both begin tokens missing', text: `functions.get_weather:0${AB}{"city": "Paris"}${CE}${SE}`, calls: [weather('Paris')] },
  { name: 'begin tokens missing after text', text: `Sending. functions.get_weather:0${AB}{"city": "Paris"}${SE}`, content: 'Sending.', calls: [weather('Paris')] },
  { name: 'section end missing (max_tokens)', text: SB + call('functions.get_time:0', '{}'), calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'call end and section end missing', text: `${SB}${CB}functions.get_weather:0${AB}{"city": "Paris"}`, calls: [weather('Paris')] },
  // Hard cases.
  { name: 'markers inside an argument string', text: wrap(call('functions.write_file:0', `{"path": "k.txt", "content": "${CE}${SE}${SB}"}`)), calls: [{ name: 'write_file', arguments: { path: 'k.txt', content: `${CE}${SE}${SB}` } }] },
  { name: 'call at the end of reasoning is real', channel: 'reasoning', text: 'Need weather. ' + wrap(call('functions.get_weather:0', '{"city": "Oslo"}')), content: 'Need weather.', calls: [weather('Oslo')] },
  // Negative.
  { name: 'truncated arguments', text: 'Wait. ' + SB + `${CB}functions.get_weather:0${AB}{"city": "Bei` },
  { name: 'undeclared tool', text: wrap(call('functions.launch_rockets:0', '{}')) },
  { name: 'undeclared tool without begin tokens', text: `functions.launch:0${AB}{}${CE}` },
  { name: 'prose with a tool name and a colon', text: 'The get_weather: tool and functions.search are documented. get_time:00 is not a call.' },
  // Broken calls (issue 9): the section goes, the good calls count, the broken ones are reported.
  { name: 'invalid JSON: the section goes, the call is reported', text: 'Ok. ' + wrap(call('functions.get_weather:0', '{city: Paris here}')), content: 'Ok.', malformed: ['get_weather'] },
  { name: 'broken call beside good ones', text: wrap(call('functions.get_weather:0', '{"city": "Oslo"}'), call('functions.search:1', '{"query": "x",, ]'), call('functions.get_weather:2', '{"city": "Rome"}')), calls: [weather('Oslo'), weather('Rome')], malformed: ['search'] },
  { name: 'arguments that are not an object', text: wrap(call('functions.search:0', '["a", "b"]'), call('functions.get_time:1', '{}')), calls: [{ name: 'get_time', arguments: {} }], malformed: ['search'] },
  { name: 'arguments that are not JSON at all', text: wrap(call('functions.get_weather:0', 'city=Paris'), call('functions.get_time:1', '{}')) + ' Done.', content: 'Done.', calls: [{ name: 'get_time', arguments: {} }], malformed: ['get_weather'] },
  { name: 'section cut off after a complete call', text: 'Two. ' + SB + call('functions.get_weather:0', '{"city": "Oslo"}') + `${CB}functions.search:1${AB}{"query": "ca`, content: 'Two.', calls: [weather('Oslo')], malformed: ['search'] },
  { name: 'section cut off in the next call id (no name: dropped, not reported)', text: SB + call('functions.get_time:0', '{}') + `${CB}functions.sea`, calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'section end cut off part-way', text: SB + call('functions.get_time:0', '{}') + '<|tool_calls_sec', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'a name but no arguments, cut off by the end: text', text: `Hm. ${SB}${CB}functions.get_weather:0${AB}` },
  { name: 'no tools declared', tools: [], text: wrap(call('functions.get_time:0', '{}')) },
]

runFormatCases('kimi_k2', cases)
