import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'one call', text: '>>>get_weather\n{"city": "Paris"}', calls: [weather] },
  { name: 'two calls', text: '>>>get_weather\n{"city": "Paris"}>>>get_time\n{}', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'text turn then a call', text: '>>>all\nLet me check.\n>>>get_weather\n{"city": "Paris"}', content: 'Let me check.', calls: [weather] },
  { name: 'text turn only', text: '>>>all\nHello there!', content: 'Hello there!' },
  // Hard cases.
  { name: 'marker inside a string', text: '>>>write_file\n{"path": "a.py", "content": ">>>print(1)\\n>>>get_time\\n{}"}', calls: [{ name: 'write_file', arguments: { path: 'a.py', content: '>>>print(1)\n>>>get_time\n{}' } }] },
  // Negative.
  { name: 'python REPL prose', text: 'In the REPL:\n>>> import os\n>>>print(1)' },
  { name: 'truncated', text: '>>>get_weather\n{"city": "Pa' },
  { name: 'undeclared', text: '>>>rm\n{"path": "/"}' },
]

runFormatCases('functionary_v32', cases)
