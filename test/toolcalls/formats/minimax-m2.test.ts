import { runFormatCases, type FormatCase } from '../format-cases.js'

const block = (inner: string): string => `<minimax:tool_call>\n${inner}</minimax:tool_call>`
const invoke = (name: string, params: string): string => `<invoke name="${name}">\n${params}</invoke>\n`
const param = (key: string, value: string): string => `<parameter name="${key}">${value}</parameter>\n`

const cases: FormatCase[] = [
  // Positive (vLLM tests/tool_parsers/test_minimax_m2_tool_parser.py shapes).
  { name: 'single invoke', text: block(invoke('get_weather', param('city', 'Seattle'))), calls: [{ name: 'get_weather', arguments: { city: 'Seattle' } }] },
  { name: 'content before', text: `Let me check. ${block(invoke('get_weather', param('city', 'Seattle')))}`, content: 'Let me check.', calls: [{ name: 'get_weather', arguments: { city: 'Seattle' } }] },
  { name: 'typed values', text: block(invoke('get_weather', param('city', 'Seattle') + param('days', '5'))), calls: [{ name: 'get_weather', arguments: { city: 'Seattle', days: 5 } }] },
  { name: 'undeclared-in-schema values stay strings', tools: ['get_weather'], text: block(invoke('get_weather', param('city', 'Seattle') + param('days', '5'))), calls: [{ name: 'get_weather', arguments: { city: 'Seattle', days: '5' } }] },
  { name: 'two invokes', text: block(invoke('search', param('query', 'OpenAI')) + invoke('search', param('query', 'Gemini'))), calls: [{ name: 'search', arguments: { query: 'OpenAI' } }, { name: 'search', arguments: { query: 'Gemini' } }] },
  { name: 'inline, no newlines', text: '<minimax:tool_call><invoke name="get_time"></invoke></minimax:tool_call>', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: 'closing tags inside a value', text: block(invoke('write_file', param('path', 'x.xml') + param('content', '<a></parameter> b </invoke></a>'))), calls: [{ name: 'write_file', arguments: { path: 'x.xml', content: '<a></parameter> b </invoke></a>' } }] },
  { name: 'closer missing at the end', text: `<minimax:tool_call>\n${invoke('get_time', '')}`, calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'text after', text: `${block(invoke('get_time', ''))}\nI will report back.`, content: 'I will report back.', calls: [{ name: 'get_time', arguments: {} }] },
  // Negative.
  { name: 'truncated', text: '<minimax:tool_call>\n<invoke name="get_weather">\n<parameter name="city">Sea' },
  { name: 'undeclared', text: block(invoke('fn_a', param('x', '1'))) },
  { name: 'prose mentioning the tag', text: 'MiniMax uses <minimax:tool_call> blocks.' },
]

runFormatCases('minimax_m2', cases)
