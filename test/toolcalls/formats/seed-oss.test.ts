import { runFormatCases, type FormatCase } from '../format-cases.js'

const fn = (name: string, params: [string, string][]): string => `<function=${name}>\n${params.map(([k, v]) => `<parameter=${k}>\n${v}\n</parameter>\n`).join('')}</function>`
const block = (inner: string): string => `<seed:tool_call>\n${inner}\n</seed:tool_call>`
const weather = { name: 'get_weather', arguments: { city: 'Paris', days: 3 } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'canonical', text: block(fn('get_weather', [['city', 'Paris'], ['days', '3']])), calls: [weather] },
  { name: 'after reasoning text', text: `<seed:think>The user wants weather.</seed:think>\n${block(fn('get_weather', [['city', 'Paris'], ['days', '3']]))}`, content: '<seed:think>The user wants weather.</seed:think>', calls: [weather] },
  { name: 'parallel blocks', text: block(fn('get_weather', [['city', 'Paris'], ['days', '3']])) + block(fn('get_time', [])), calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'two functions in one block', text: block(fn('get_time', []) + '\n' + fn('search', [['query', 'x']])), calls: [{ name: 'get_time', arguments: {} }, { name: 'search', arguments: { query: 'x' } }] },
  // Hard cases.
  { name: 'closing tags inside a value', text: block(fn('write_file', [['path', 'a.html'], ['content', '<p></parameter> and </seed:tool_call></p>']])), calls: [{ name: 'write_file', arguments: { path: 'a.html', content: '<p></parameter> and </seed:tool_call></p>' } }] },
  { name: 'closer missing at the end', text: `<seed:tool_call>\n${fn('get_time', [])}`, calls: [{ name: 'get_time', arguments: {} }] },
  // Negative.
  { name: 'truncated', text: '<seed:tool_call>\n<function=get_weather>\n<parameter=city>\nPar' },
  { name: 'undeclared', text: block(fn('halt', [])) },
  { name: 'JSON body is not Seed-OSS', formats: ['seed_oss'], text: '<seed:tool_call>{"name": "get_time", "arguments": {}}</seed:tool_call>' },
]

runFormatCases('seed_oss', cases)
