import { runFormatCases, type FormatCase } from '../format-cases.js'

const pair = (key: string, value: string, s = ''): string => `\n<arg_key${s}>${key}</arg_key${s}>\n<arg_value${s}>${value}</arg_value${s}>`
const call = (name: string, pairs: string, s = ''): string => `<tool_call${s}>${name}<tool_sep${s}>${pairs}\n</tool_call${s}>`
const wrap = (calls: string, s = ''): string => `<tool_calls${s}>\n${calls}\n</tool_calls${s}>`
const weather = { name: 'get_weather', arguments: { city: 'Paris', days: 2 } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'Hy3-preview bare tags', text: wrap(call('get_weather', pair('city', 'Paris') + pair('days', '2'))), calls: [weather] },
  { name: 'released checkpoint suffixed tags', text: wrap(call('get_weather', pair('city', 'Paris', ':opensource') + pair('days', '2', ':opensource'), ':opensource'), ':opensource'), calls: [weather] },
  { name: 'text before', text: `Let me see.\n${wrap(call('get_weather', pair('city', 'Paris') + pair('days', '2')))}`, content: 'Let me see.', calls: [weather] },
  { name: 'parallel calls in one wrapper', text: wrap(call('get_weather', pair('city', 'Paris') + pair('days', '2')) + '\n' + call('get_time', '')), calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'untyped values stay strings, typed ones decoded', text: wrap(call('calculate', pair('expression', '2*3') + pair('values', '[1,2]') + pair('precision', '3'))), calls: [{ name: 'calculate', arguments: { expression: '2*3', values: [1, 2], precision: 3 } }] },
  // Hard cases.
  { name: 'closing tags inside a value', text: wrap(call('write_file', pair('path', 'a') + pair('content', 'x </arg_value> y </tool_call> z'))), calls: [{ name: 'write_file', arguments: { path: 'a', content: 'x </arg_value> y </tool_call> z' } }] },
  { name: 'wrapper closer missing', text: `<tool_calls>\n${call('get_time', '')}`, calls: [{ name: 'get_time', arguments: {} }] },
  // Negative.
  { name: 'truncated', text: `<tool_calls>\n<tool_call>get_weather<tool_sep>\n<arg_key>city</arg_key>\n<arg_value>Par` },
  { name: 'undeclared', text: wrap(call('nuke', '')) },
  { name: 'a lone <tool_call> with <tool_sep> is not Hy3', formats: ['hy_v3'], text: call('get_time', '') },
  { name: 'JSON array in <tool_calls> is not Hy3', formats: ['hy_v3'], text: '<tool_calls>[{"name": "get_time", "arguments": {}}]</tool_calls>' },
]

runFormatCases('hy_v3', cases)
