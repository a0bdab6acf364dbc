import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }
const time = { name: 'get_time', arguments: {} }

const cases: FormatCase[] = [
  { name: 'v0.3 array', text: '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}]', calls: [weather] },
  { name: 'v0.3 parallel with ids', text: '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "abc123xyz"}, {"name": "get_time", "arguments": {}}]', calls: [weather, time] },
  { name: 'v0.3 single-quoted JSON (Mistral 7B)', text: "[TOOL_CALLS] [{'name': 'get_weather', 'arguments': {'city': 'Paris'}}]", calls: [weather] },
  { name: 'v0.3 array with ] inside arguments', text: '[TOOL_CALLS] [{"name": "calculate", "arguments": {"expression": "a[0]]", "values": [[1], [2]]}}]', calls: [{ name: 'calculate', arguments: { expression: 'a[0]]', values: [[1], [2]] } }] },
  { name: 'v11 [ARGS]', text: '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}', calls: [weather] },
  { name: 'v11 parallel', text: '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]get_time[ARGS]{}', calls: [weather, time] },
  { name: 'with [CALL_ID]', text: '[TOOL_CALLS]get_weather[CALL_ID]a1b2c3d4e[ARGS]{"city": "Paris"}', calls: [weather] },
  { name: 'v11 with [ARGS] decoded away', text: '[TOOL_CALLS]get_weather{"city": "Paris"}', calls: [weather] },
  { name: 'content before, closer after', text: 'Let me look.[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}][/TOOL_CALLS]', content: 'Let me look.', calls: [weather] },
  { name: 'text after', text: '[TOOL_CALLS]get_time[ARGS]{}\nOne moment.', content: 'One moment.', calls: [time] },
  { name: 'arguments as a string', text: '[TOOL_CALLS] [{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}]', calls: [weather] },
  // Negative.
  { name: 'undeclared', text: '[TOOL_CALLS]format_disk[ARGS]{}' },
  { name: 'truncated', text: '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Pa' },
  { name: 'marker in prose', text: 'The [TOOL_CALLS] token starts calls.' },
  { name: 'bracket text', text: 'See [1] and [TOOL] and [TOOL_C' },
]

runFormatCases('mistral', cases)
