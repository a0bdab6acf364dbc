import { runFormatCases, type FormatCase } from '../format-cases.js'

const D = '｜DSML｜'
const block = (inner: string): string => `\n\n<${D}tool_calls>\n${inner}</${D}tool_calls>`
const invoke = (name: string, params: string): string => `<${D}invoke name="${name}">\n${params}</${D}invoke>\n`
const param = (key: string, value: string, string = true): string => `<${D}parameter name="${key}" string="${string}">${value}</${D}parameter>\n`
const weather = { name: 'get_weather', arguments: { city: 'Paris', days: 3 } }

const cases: FormatCase[] = [
  // Positive (the reference encoder puts \n\n before the block).
  { name: 'canonical block', text: block(invoke('get_weather', param('city', 'Paris') + param('days', '3', false))), calls: [weather] },
  { name: 'text before', text: `Let me check.${block(invoke('get_weather', param('city', 'Paris') + param('days', '3', false)))}`, content: 'Let me check.', calls: [weather] },
  { name: 'parallel invokes', text: block(invoke('get_weather', param('city', 'Paris') + param('days', '3', false)) + invoke('get_time', '')), calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'self-closing invoke', text: block(`<${D}invoke name="get_time"/>\n`), calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'boolean typed from JSON', text: block(invoke('search', param('query', 'x') + param('exact', 'true', false))), calls: [{ name: 'search', arguments: { query: 'x', exact: true } }] },
  { name: 'JSON body', text: block(`<${D}invoke name="get_weather">{"city": "Paris", "days": 3}</${D}invoke>\n`), calls: [weather] },
  // Hard cases.
  { name: 'DSML closers inside a string value', text: block(invoke('write_file', param('path', 'notes.md') + param('content', `see </${D}parameter> and </${D}tool_calls>`))), calls: [{ name: 'write_file', arguments: { path: 'notes.md', content: `see </${D}parameter> and </${D}tool_calls>` } }] },
  { name: 'wrapper closer missing', text: `<${D}tool_calls>\n${invoke('get_time', '')}`, calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'text after the block', text: `${block(invoke('get_time', ''))}\nWaiting for the result.`, content: 'Waiting for the result.', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'block ending the reasoning is a real call', channel: 'reasoning', text: `The user wants the time.${block(invoke('get_time', ''))}`, content: 'The user wants the time.', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'block drafted mid-reasoning is planning', channel: 'reasoning', text: `Maybe ${block(invoke('get_time', ''))} but first check the date.` },
  // Negative.
  { name: 'truncated', text: `<${D}tool_calls>\n<${D}invoke name="get_weather">\n<${D}parameter name="city" string="true">Par` },
  { name: 'undeclared', text: block(invoke('shutdown', '')) },
  { name: 'V3.2 wrapper is not V4', formats: ['deepseek_v4_dsml'], text: `<${D}function_calls>${invoke('get_time', '')}</${D}function_calls>` },
  { name: 'bad parameter value JSON stays a string', text: block(invoke('search', param('query', 'not json', false))), calls: [{ name: 'search', arguments: { query: 'not json' } }] },
]

runFormatCases('deepseek_v4_dsml', cases)
