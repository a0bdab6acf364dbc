import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Austin' } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'array of one', text: '<TOOLCALL>[{"name": "get_weather", "arguments": {"city": "Austin"}}]</TOOLCALL>', calls: [weather] },
  { name: 'array of two', text: '<TOOLCALL>[{"name": "get_weather", "arguments": {"city": "Austin"}}, {"name": "get_time", "arguments": {}}]</TOOLCALL>', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'after reasoning text', text: '<think>\nNeed weather.\n</think>\n<TOOLCALL>[{"name": "get_weather", "arguments": {"city": "Austin"}}]</TOOLCALL>', content: '<think>\nNeed weather.\n</think>', calls: [weather] },
  // Hard cases.
  { name: 'closer inside a string', text: '<TOOLCALL>[{"name": "write_file", "arguments": {"path": "x", "content": "</TOOLCALL>"}}]</TOOLCALL>', calls: [{ name: 'write_file', arguments: { path: 'x', content: '</TOOLCALL>' } }] },
  { name: 'closer missing', text: '<TOOLCALL>[{"name": "get_time", "arguments": {}}]', calls: [{ name: 'get_time', arguments: {} }] },
  // Negative.
  { name: 'truncated', text: '<TOOLCALL>[{"name": "get_weather", "argu' },
  { name: 'undeclared', text: '<TOOLCALL>[{"name": "x", "arguments": {}}]</TOOLCALL>' },
  { name: 'lowercase tag is not this format', text: '<toolcall>[{"name": "get_time", "arguments": {}}]</toolcall>' },
]

runFormatCases('nemotron_toolcall', cases)
