import { runFormatCases, type FormatCase } from '../format-cases.js'

// granite-20b-functioncalling (row 24) needs no format of its own: hermes reads `<function_call>`
// blocks without a closer, one per call.
const weather = { name: 'get_weather', arguments: { city: 'Boston' } }

const cases: FormatCase[] = [
  { name: 'single call', formats: ['hermes'], text: '<function_call> {"name": "get_weather", "arguments": {"city": "Boston"}}', calls: [weather] },
  { name: 'repeated marker for parallel calls', formats: ['hermes'], text: '<function_call> {"name": "get_weather", "arguments": {"city": "Boston"}}\n<function_call> {"name": "get_time", "arguments": {}}', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'text before', formats: ['hermes'], text: 'Let me check.\n<function_call> {"name": "get_weather", "arguments": {"city": "Boston"}}', content: 'Let me check.', calls: [weather] },
  { name: 'all formats', text: '<function_call> {"name": "get_weather", "arguments": {"city": "Boston"}}', calls: [weather] },
  { name: 'truncated', formats: ['hermes'], text: '<function_call> {"name": "get_weather", "arguments": {"ci' },
  { name: 'undeclared', formats: ['hermes'], text: '<function_call> {"name": "get_stock", "arguments": {}}' },
]

runFormatCases('granite_20b_fc (hermes)', cases)
