import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  { name: 'pythonic list', text: '<|tool_call_start|>[get_weather(city="Paris")]<|tool_call_end|>Checking now.', content: 'Checking now.', calls: [weather] },
  { name: 'JSON list', text: '<|tool_call_start|>[{"name": "get_weather", "arguments": {"city": "Paris"}}]<|tool_call_end|>', calls: [weather] },
  { name: 'truncated', text: '<|tool_call_start|>[get_weather(city="Pa' },
]

runFormatCases('lfm2', cases)
