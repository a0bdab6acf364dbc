import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'object with closer', text: '<|tool_call|>{"name": "get_weather", "arguments": {"city": "Paris"}}<|/tool_call|>', calls: [weather] },
  { name: 'array with closer', text: '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}]<|/tool_call|>', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'repeated blocks', text: '<|tool_call|>{"name": "get_weather", "arguments": {"city": "Paris"}}<|/tool_call|>\n<|tool_call|>{"name": "get_time", "arguments": {}}<|/tool_call|>', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'restricted to phi4_tool_call_tag', formats: ['phi4_tool_call_tag'], text: 'Hi<|tool_call|>{"name": "get_time", "arguments": {}}<|/tool_call|>', content: 'Hi', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: 'closer inside a string', text: '<|tool_call|>{"name": "write_file", "arguments": {"path": "p", "content": "<|/tool_call|>"}}<|/tool_call|>', calls: [{ name: 'write_file', arguments: { path: 'p', content: '<|/tool_call|>' } }] },
  { name: 'partial closer at the end stays', text: '<|tool_call|>{"name": "get_time", "arguments": {}}<|/tool', content: '<|/tool', calls: [{ name: 'get_time', arguments: {} }] },
  // Negative.
  { name: 'truncated', text: '<|tool_call|>{"name": "get_weather", "arguments": {"ci' },
  { name: 'undeclared', text: '<|tool_call|>{"name": "sudo", "arguments": {}}<|/tool_call|>' },
]

runFormatCases('phi4_tool_call_tag', cases)
