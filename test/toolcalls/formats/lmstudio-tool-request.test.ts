import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'one request', text: '[TOOL_REQUEST]\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n[END_TOOL_REQUEST]', calls: [weather] },
  { name: 'text before and after', text: 'Checking.\n[TOOL_REQUEST]{"name": "get_weather", "arguments": {"city": "Paris"}}[END_TOOL_REQUEST]\nOne moment.', content: 'Checking.\nOne moment.', calls: [weather] },
  { name: 'repeated blocks', text: '[TOOL_REQUEST]{"name": "get_weather", "arguments": {"city": "Paris"}}[END_TOOL_REQUEST][TOOL_REQUEST]{"name": "get_time", "arguments": {}}[END_TOOL_REQUEST]', calls: [weather, { name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: 'end marker inside a string', text: '[TOOL_REQUEST]{"name": "search", "arguments": {"query": "[END_TOOL_REQUEST]"}}[END_TOOL_REQUEST]', calls: [{ name: 'search', arguments: { query: '[END_TOOL_REQUEST]' } }] },
  { name: 'end marker missing', text: '[TOOL_REQUEST]{"name": "get_time", "arguments": {}}', calls: [{ name: 'get_time', arguments: {} }] },
  // Negative.
  { name: 'truncated', text: '[TOOL_REQUEST]{"name": "get_weather", "arguments": {' },
  { name: 'undeclared', text: '[TOOL_REQUEST]{"name": "pay", "arguments": {}}[END_TOOL_REQUEST]' },
  { name: 'prose', text: 'LM Studio uses [TOOL_REQUEST] markers.' },
]

runFormatCases('lmstudio_tool_request', cases)
