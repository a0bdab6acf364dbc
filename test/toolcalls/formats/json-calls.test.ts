import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  { name: 'Llama 3 parameters object', text: '{"name": "get_weather", "parameters": {"city": "Paris"}}', calls: [weather] },
  { name: 'type function leads', text: '{"type": "function", "name": "get_weather", "parameters": {"city": "Paris"}}', calls: [weather] },
  { name: 'arguments object with leading whitespace', text: '\n  {"name": "get_weather", "arguments": {"city": "Paris"}}\n', calls: [weather] },
  { name: 'list of calls (xLAM, stripped Mistral)', text: '[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}]', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'tool_calls wrapper', text: '{"tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]}', calls: [weather] },
  { name: 'tool_call wrapper', text: '{"tool_call": {"name": "get_weather", "arguments": {"city": "Paris"}}}', calls: [weather] },
  { name: 'semicolon-separated', text: '{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_time", "parameters": {}}', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'call first, explanation after (starts the message)', text: '{"name": "get_weather", "arguments": {"city": "Paris"}}\nI asked for the weather.', content: 'I asked for the weather.', calls: [weather] },
  { name: 'explanation first, call ends the message', text: 'I will check.\n{"name": "get_weather", "arguments": {"city": "Paris"}}', content: 'I will check.', calls: [weather] },
  { name: 'Python literals and trailing comma', text: "{'name': 'search', 'arguments': {'query': 'x', 'exact': False,}}", calls: [{ name: 'search', arguments: { query: 'x', exact: false } }] },
  { name: 'two calls on two lines mid-message end', text: 'Doing both.\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n{"name": "get_time", "arguments": {}}\n', content: 'Doing both.', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'orphan closer after the object', text: '{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\nok', content: 'ok', calls: [weather] },
  { name: 'Llama end token', text: '{"name": "get_weather", "parameters": {"city": "Paris"}}<|eom_id|>', calls: [weather] },
  // Negative.
  { name: 'call in the middle of prose is content', text: 'Example:\n{"name": "get_weather", "arguments": {"city": "Paris"}}\nThat is how it looks.' },
  { name: 'extra keys are data', text: '{"name": "get_weather", "arguments": {"city": "Paris"}, "description": "x"}' },
  { name: 'ordinary JSON', text: '{"city": "Paris", "temp": 21}' },
  { name: 'name only is data', text: '{"name": "get_weather"}' },
  { name: 'undeclared name', text: '{"name": "launch", "arguments": {}}' },
  { name: 'not at line start', text: 'Result: {"name": "get_weather", "arguments": {"city": "Paris"}}' },
  { name: 'call followed by text on the same line', text: '{"name": "get_weather", "arguments": {"city": "Paris"}} is the call' },
  { name: 'JSON array of numbers', text: '[1, 2, 3]\n[{"a": 1}]' },
  { name: 'truncated', text: '{"name": "get_weather", "arguments": {"city": "Par' },
  { name: 'code answer with JSON', text: 'Here is JSON:\n```json\n{"name": "Alice", "age": 3}\n```\nDone.' },
]

runFormatCases('json_calls', cases)
