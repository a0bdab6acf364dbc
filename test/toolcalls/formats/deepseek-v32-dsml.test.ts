import { runFormatCases, type FormatCase } from '../format-cases.js'

const D = '｜DSML｜'
const block = (inner: string): string => `<${D}function_calls>\n${inner}</${D}function_calls>`
const invoke = (name: string, params: string): string => `<${D}invoke name="${name}">\n${params}</${D}invoke>\n`
const param = (key: string, value: string, string = true): string => `<${D}parameter name="${key}" string="${string}">${value}</${D}parameter>\n`
const weather = { name: 'get_weather', arguments: { city: 'Paris', days: 3 } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'string and JSON parameters', text: block(invoke('get_weather', param('city', 'Paris') + param('days', '3', false))), calls: [weather] },
  { name: 'text before', text: `Let me check.\n\n${block(invoke('get_weather', param('city', 'Paris') + param('days', '3', false)))}`, content: 'Let me check.', calls: [weather] },
  { name: 'two invokes', text: block(invoke('get_weather', param('city', 'Paris') + param('days', '3', false)) + invoke('search', param('query', 'rain'))), calls: [weather, { name: 'search', arguments: { query: 'rain' } }] },
  { name: 'string="false" object and array', text: block(invoke('calculate', param('options', '{"a": [1, {"b": null}]}', false) + param('values', '[1, 2.5]', false))), calls: [{ name: 'calculate', arguments: { options: { a: [1, { b: null }] }, values: [1, 2.5] } }] },
  { name: 'string="true" keeps digits as text', text: block(invoke('search', param('query', '42'))), calls: [{ name: 'search', arguments: { query: '42' } }] },
  { name: 'JSON body instead of parameters', text: block(`<${D}invoke name="search">{"query": "x", "limit": 2}</${D}invoke>\n`), calls: [{ name: 'search', arguments: { query: 'x', limit: 2 } }] },
  { name: 'self-closing zero-argument invoke', text: block(`<${D}invoke name="get_time"/>\n`), calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'simplified inner tags without DSML', text: `<${D}function_calls><invoke name="search"><parameter name="query" string="true">x</parameter></invoke></${D}function_calls>`, calls: [{ name: 'search', arguments: { query: 'x' } }] },
  { name: 'lone arguments parameter is unwrapped', text: block(invoke('search', param('arguments', '{"query": "x"}', false))), calls: [{ name: 'search', arguments: { query: 'x' } }] },
  // Hard cases.
  { name: 'closing tags inside a value', text: block(invoke('write_file', param('path', 'a.txt') + param('content', `x</${D}parameter> y </${D}invoke> z </${D}function_calls> w`))), calls: [{ name: 'write_file', arguments: { path: 'a.txt', content: `x</${D}parameter> y </${D}invoke> z </${D}function_calls> w` } }] },
  { name: 'multi-line value keeps inner newlines', text: block(invoke('write_file', param('path', 'a.py') + param('content', '\ndef f():\n    return 1\n'))), calls: [{ name: 'write_file', arguments: { path: 'a.py', content: 'def f():\n    return 1' } }] },
  { name: 'missing wrapper closer at the end', text: `<${D}function_calls>\n${invoke('search', param('query', 'x'))}`, calls: [{ name: 'search', arguments: { query: 'x' } }] },
  { name: 'missing invoke closer before the wrapper closer', text: `<${D}function_calls><${D}invoke name="search">${param('query', 'x')}</${D}function_calls>`, calls: [{ name: 'search', arguments: { query: 'x' } }] },
  { name: 'missing parameter closer before the next parameter', text: block(`<${D}invoke name="search"><${D}parameter name="query" string="true">x\n<${D}parameter name="limit" string="false">2</${D}parameter></${D}invoke>`), calls: [{ name: 'search', arguments: { query: 'x', limit: 2 } }] },
  // Negative.
  { name: 'truncated value', text: `Ok.\n\n<${D}function_calls>\n<${D}invoke name="search">\n<${D}parameter name="query" string="true">ra` },
  { name: 'truncated after the invoke tag', text: `<${D}function_calls>\n<${D}invoke name="search">` },
  { name: 'undeclared tool', text: block(invoke('format_disk', param('drive', 'C'))) },
  { name: 'one undeclared invoke keeps the whole block', text: block(invoke('search', param('query', 'x')) + invoke('format_disk', '')) },
  { name: 'V4 wrapper is not V3.2', formats: ['deepseek_v32_dsml'], text: `<${D}tool_calls>${invoke('search', param('query', 'x'))}</${D}tool_calls>` },
  { name: 'empty block', text: `a <${D}function_calls></${D}function_calls> b` },
]

runFormatCases('deepseek_v32_dsml', cases)
