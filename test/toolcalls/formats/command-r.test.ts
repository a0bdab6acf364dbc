import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Toronto' } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'one action', text: '<|START_ACTION|>[{"tool_call_id": "0", "tool_name": "get_weather", "parameters": {"city": "Toronto"}}]<|END_ACTION|>', calls: [weather] },
  { name: 'two actions', text: '<|START_ACTION|>[\n  {"tool_call_id": "0", "tool_name": "get_weather", "parameters": {"city": "Toronto"}},\n  {"tool_call_id": "1", "tool_name": "get_time", "parameters": {}}\n]<|END_ACTION|>', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'plan text before (Command R7B)', text: '<|START_THINKING|>I will look up the weather.<|END_THINKING|><|START_ACTION|>[{"tool_call_id": "0", "tool_name": "get_weather", "parameters": {"city": "Toronto"}}]<|END_ACTION|>', content: '<|START_THINKING|>I will look up the weather.<|END_THINKING|>', calls: [weather] },
  { name: 'name/arguments shape accepted', text: '<|START_ACTION|>[{"name": "get_weather", "arguments": {"city": "Toronto"}}]<|END_ACTION|>', calls: [weather] },
  // Hard cases.
  { name: 'end token inside a string', text: '<|START_ACTION|>[{"tool_call_id": "0", "tool_name": "search", "parameters": {"query": "<|END_ACTION|>]"}}]<|END_ACTION|>', calls: [{ name: 'search', arguments: { query: '<|END_ACTION|>]' } }] },
  { name: 'end token missing', text: '<|START_ACTION|>[{"tool_call_id": "0", "tool_name": "get_time", "parameters": {}}]', calls: [{ name: 'get_time', arguments: {} }] },
  // Negative.
  { name: 'truncated', text: '<|START_ACTION|>[{"tool_call_id": "0", "tool_name": "get_weather", "parameters": {"ci' },
  { name: 'undeclared', text: '<|START_ACTION|>[{"tool_call_id": "0", "tool_name": "directly_answer", "parameters": {}}]<|END_ACTION|>' },
  { name: 'extra keys: data', text: '<|START_ACTION|>[{"tool_name": "get_time", "parameters": {}, "why": "x"}]<|END_ACTION|>' },
]

runFormatCases('command_r', cases)
