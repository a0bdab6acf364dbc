import { runFormatCases, type FormatCase } from '../format-cases.js'

const S = ':opensource'
const pair = (key: string, value: string): string => `<arg_key${S}>${key}</arg_key${S}><arg_value${S}>${value}</arg_value${S}>`
const call = (name: string, pairs: string): string => `<tool_call${S}>${name}${pairs}</tool_call${S}>`
const wrap = (calls: string): string => `<tool_calls${S}>${calls}</tool_calls${S}>`
const weather = { name: 'get_weather', arguments: { city: 'Paris', days: 2 } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'canonical', text: wrap(call('get_weather', pair('city', 'Paris') + pair('days', '2'))), calls: [weather] },
  { name: 'zero-argument call', text: wrap(call('get_time', '')), calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'parallel calls', text: wrap(call('get_weather', pair('city', 'Paris') + pair('days', '2')) + call('search', pair('query', 'x') + pair('exact', 'true'))), calls: [weather, { name: 'search', arguments: { query: 'x', exact: true } }] },
  { name: 'text before and after', text: `Sure.\n${wrap(call('get_time', ''))}\nDone.`, content: 'Sure.\nDone.', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'unsuffixed tags', text: '<tool_calls><tool_call>get_time</tool_call></tool_calls>', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: 'closing tag inside a value', text: wrap(call('write_file', pair('path', 'p') + pair('content', `a </arg_value${S}> b`))), calls: [{ name: 'write_file', arguments: { path: 'p', content: `a </arg_value${S}> b` } }] },
  { name: 'closers missing at the end', text: `<tool_calls${S}><tool_call${S}>get_weather${pair('city', 'Paris')}${pair('days', '2')}`, calls: [weather] },
  // Negative.
  { name: 'truncated', text: `<tool_calls${S}><tool_call${S}>get_weather<arg_key${S}>city</arg_key${S}><arg_value${S}>Pa` },
  { name: 'undeclared', text: wrap(call('erase', '')) },
  { name: 'bad suffix', formats: ['hy_v4'], text: '<tool_calls:bad suffix><tool_call>get_time</tool_call></tool_calls>' },
]

runFormatCases('hy_v4', cases)
