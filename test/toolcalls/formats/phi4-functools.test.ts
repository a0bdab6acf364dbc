import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'one call', text: 'functools[{"name": "get_weather", "arguments": {"city": "Paris"}}]', calls: [weather] },
  { name: 'Firefunction-v2 leading space', text: ' functools[{"name": "get_weather", "arguments": {"city": "Paris"}}]', calls: [weather] },
  { name: 'two calls', text: 'functools[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}]', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'text before and after', text: 'Checking.\nfunctools[{"name": "get_time", "arguments": {}}]\nBack soon.', content: 'Checking.\nBack soon.', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases (vLLM's `functools\[(.*?)\]` stops at the first `]`).
  { name: 'array inside arguments', text: 'functools[{"name": "calculate", "arguments": {"expression": "sum", "values": [1, [2, 3]]}}]', calls: [{ name: 'calculate', arguments: { expression: 'sum', values: [1, [2, 3]] } }] },
  { name: '] inside a string', text: 'functools[{"name": "search", "arguments": {"query": "a]b"}}]', calls: [{ name: 'search', arguments: { query: 'a]b' } }] },
  // Negative.
  { name: 'truncated', text: 'functools[{"name": "get_weather", "arguments": {"city": "Pa' },
  { name: 'undeclared', text: 'functools[{"name": "exec", "arguments": {}}]' },
  { name: 'python functools in prose', text: 'Use functools.partial or functools[0] in code.' },
]

runFormatCases('phi4_functools', cases)
