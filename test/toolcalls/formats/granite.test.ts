import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Boston' } }

const cases: FormatCase[] = [
  // Positive (Granite 3.0 `<|tool_call|>` token, JSON array).
  { name: 'array of one', text: '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Boston"}}]', calls: [weather] },
  { name: 'array of two', text: '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Boston"}}, {"name": "get_time", "arguments": {}}]', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'text before', text: 'Sure, checking.<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Boston"}}]', content: 'Sure, checking.', calls: [weather] },
  { name: 'single object', text: '<|tool_call|>{"name": "get_weather", "arguments": {"city": "Boston"}}', calls: [weather] },
  { name: 'Granite 3.1+ string prefix (hermes)', text: '<tool_call>[{"name": "get_weather", "arguments": {"city": "Boston"}}]', calls: [weather] },
  { name: 'text after the array', text: '<|tool_call|>[{"name": "get_time", "arguments": {}}]\nOne moment.', content: 'One moment.', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: 'brackets and the token inside strings', text: '<|tool_call|>[{"name": "write_file", "arguments": {"path": "a", "content": "]}<|tool_call|>[ "}}]', calls: [{ name: 'write_file', arguments: { path: 'a', content: ']}<|tool_call|>[ ' } }] },
  // Negative.
  { name: 'truncated', text: '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Bos' },
  { name: 'undeclared', text: '<|tool_call|>[{"name": "format_c", "arguments": {}}]' },
  { name: 'not calls', text: '<|tool_call|>[1, 2, 3]' },
  { name: 'no JSON after the token', text: 'Use the <|tool_call|> token to call tools.' },
]

runFormatCases('granite', cases)
