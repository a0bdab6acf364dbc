import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'one object per line', text: '<tool_calls>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n{"name": "get_time", "arguments": {}}\n</tool_calls>', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'text before', text: 'Let me look that up.\n<tool_calls>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_calls>', content: 'Let me look that up.', calls: [weather] },
  { name: 'restricted to minimax_m1', formats: ['minimax_m1'], text: '<tool_calls>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_calls>', calls: [weather] },
  // Hard cases.
  { name: 'closer inside a string', text: '<tool_calls>\n{"name": "write_file", "arguments": {"path": "a", "content": "</tool_calls>"}}\n</tool_calls>', calls: [{ name: 'write_file', arguments: { path: 'a', content: '</tool_calls>' } }] },
  { name: 'closer missing at the end', text: '<tool_calls>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n', calls: [weather] },
  { name: 'in reasoning, not ending it: planning', channel: 'reasoning', text: 'I could use <tool_calls>\n{"name": "get_time", "arguments": {}}\n</tool_calls> but let me think.' },
  // Negative.
  { name: 'truncated second object: the first call counts, the cut one is reported (issue 9)', text: '<tool_calls>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n{"name": "get_time", "argu', calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }], malformed: ['get_time'] },
  { name: 'undeclared', text: '<tool_calls>\n{"name": "wipe", "arguments": {}}\n</tool_calls>' },
  { name: 'data object, not a call', text: '<tool_calls>\n{"name": "get_time", "arguments": {}, "extra": 1}\n</tool_calls>' },
]

runFormatCases('minimax_m1', cases)
