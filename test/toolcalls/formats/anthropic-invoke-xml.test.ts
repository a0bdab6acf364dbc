import { runFormatCases, type FormatCase } from '../format-cases.js'

const block = (inner: string): string => `<function_calls>\n${inner}</function_calls>`
const invoke = (name: string, params: string): string => `<invoke name="${name}">\n${params}</invoke>\n`
const param = (key: string, value: string): string => `<parameter name="${key}">${value}</parameter>\n`
const weather = { name: 'get_weather', arguments: { city: 'Paris', days: 3 } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'canonical block, values typed from the schema', text: block(invoke('get_weather', param('city', 'Paris') + param('days', '3'))), calls: [weather] },
  { name: 'text before and after', text: `I'll look it up.\n\n${block(invoke('get_weather', param('city', 'Paris') + param('days', '3')))}\nBack soon.`, content: "I'll look it up.\nBack soon.", calls: [weather] },
  { name: 'parallel invokes', text: block(invoke('get_weather', param('city', 'Paris') + param('days', '3')) + invoke('search', param('query', 'rain') + param('exact', 'false'))), calls: [weather, { name: 'search', arguments: { query: 'rain', exact: false } }] },
  { name: 'object and array values', text: block(invoke('calculate', param('options', '{"mode": "fast"}') + param('values', '[1, 2]') + param('precision', '0.1'))), calls: [{ name: 'calculate', arguments: { options: { mode: 'fast' }, values: [1, 2], precision: 0.1 } }] },
  { name: 'string schema keeps digits as text', text: block(invoke('search', param('query', '2024'))), calls: [{ name: 'search', arguments: { query: '2024' } }] },
  { name: 'single-quoted attributes', text: "<function_calls><invoke name='get_time'></invoke></function_calls>", calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'framing newlines go, inner ones stay', text: block(invoke('write_file', param('path', 'a.txt') + param('content', '\nline 1\nline 2\n'))), calls: [{ name: 'write_file', arguments: { path: 'a.txt', content: 'line 1\nline 2' } }] },
  // Hard cases.
  { name: 'closing tags inside a value', text: block(invoke('write_file', param('path', 'doc.md') + param('content', 'close with </parameter>, then </invoke> and </function_calls> as usual'))), calls: [{ name: 'write_file', arguments: { path: 'doc.md', content: 'close with </parameter>, then </invoke> and </function_calls> as usual' } }] },
  { name: 'wrapper closer missing at the end', text: `<function_calls>${invoke('get_time', '')}`, calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'wrapper closer missing, text follows', text: `<function_calls>${invoke('get_time', '')}Done.`, content: 'Done.', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'invoke closer missing', text: `<function_calls><invoke name="search">${param('query', 'x')}</function_calls>`, calls: [{ name: 'search', arguments: { query: 'x' } }] },
  // Negative.
  { name: 'truncated', text: `Sure.\n<function_calls>\n<invoke name="search">\n<parameter name="query">cat` },
  { name: 'undeclared tool', text: block(invoke('rm', param('path', '/'))) },
  { name: 'invoke without a name', text: block('<invoke><parameter name="q">x</parameter></invoke>') },
  { name: 'unknown child element: a broken call, reported (issue 9)', text: block('<invoke name="search"><query>x</query></invoke>'), malformed: ['search'] },
  { name: 'prose mentioning the tag', text: 'Claude wraps calls in <function_calls> blocks; see <invoke> below.' },
  { name: 'no tools declared', tools: [], text: block(invoke('get_time', '')) },
]

runFormatCases('anthropic_invoke_xml', cases)
