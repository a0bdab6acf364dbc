import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  // Positive (Jamba, Hunyuan-A13B, Apriel 1.5).
  { name: 'array', text: '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_calls>', calls: [weather] },
  { name: 'array of two', text: '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}]</tool_calls>', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'after a thinking block (Apriel)', text: '<thinking>Need the weather.</thinking>\n<tool_calls>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_calls>', content: '<thinking>Need the weather.</thinking>', calls: [weather] },
  { name: 'multi-line array', text: '<tool_calls>\n[\n  {"name": "get_weather", "arguments": {"city": "Paris"}}\n]\n</tool_calls>', calls: [weather] },
  { name: 'restricted to tool_calls_array_tag', formats: ['tool_calls_array_tag'], text: '<tool_calls>[{"name": "get_time", "arguments": {}}]</tool_calls>', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: 'closer and brackets inside a string', text: '<tool_calls>[{"name": "search", "arguments": {"query": "]</tool_calls>["}}]</tool_calls>', calls: [{ name: 'search', arguments: { query: ']</tool_calls>[' } }] },
  { name: 'closer missing at the end', text: '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Paris"}}]', calls: [weather] },
  // Negative.
  { name: 'truncated', text: '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Par' },
  { name: 'undeclared one of two', text: '<tool_calls>[{"name": "get_time", "arguments": {}}, {"name": "halt", "arguments": {}}]</tool_calls>' },
  { name: 'empty array', text: '<tool_calls>[]</tool_calls>' },
]

runFormatCases('tool_calls_array_tag', cases)
