import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'one call', text: '[Calling tool: get_weather({"city": "Paris"})]', calls: [weather] },
  { name: 'text before', text: 'Let me check.\n[Calling tool: get_weather({"city": "Paris"})]', content: 'Let me check.', calls: [weather] },
  { name: 'two brackets', text: '[Calling tool: get_weather({"city": "Paris"})]\n[Calling tool: get_time({})]', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'empty parentheses', text: '[Calling tool: get_time()]', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: ')] inside a string', text: '[Calling tool: search({"query": ")]"})]', calls: [{ name: 'search', arguments: { query: ')]' } }] },
  { name: 'closing bracket missing at the end', text: '[Calling tool: get_time({})', calls: [{ name: 'get_time', arguments: {} }] },
  // Negative.
  { name: 'truncated', text: '[Calling tool: get_weather({"city": "Pa' },
  { name: 'undeclared', text: '[Calling tool: transfer({"amount": 1})]' },
  { name: 'prose', text: '[Calling tool: none needed]' },
]

runFormatCases('bracket_calling_tool', cases)
