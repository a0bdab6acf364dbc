import { runFormatCases, type FormatCase } from '../format-cases.js'

// xLAM (row 28) needs no format of its own: the detector's `json_calls` (bare JSON at message/line
// start) and `fenced_calls` (```json fences) read what xLAM-2 writes.
const weather = { name: 'get_weather', arguments: { city: 'New York' } }

const cases: FormatCase[] = [
  { name: 'bare array', text: '[{"name": "get_weather", "arguments": {"city": "New York"}}]', calls: [weather] },
  { name: 'bare array of two', text: '[{"name": "get_weather", "arguments": {"city": "New York"}}, {"name": "get_time", "arguments": {}}]', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'bare object', text: '{"name": "get_weather", "arguments": {"city": "New York"}}', calls: [weather] },
  { name: 'json fence ending the message', text: 'I will check.\n```json\n[{"name": "get_weather", "arguments": {"city": "New York"}}]\n```', content: 'I will check.', calls: [weather] },
  { name: 'restricted to json_calls', formats: ['json_calls'], text: '[{"name": "get_weather", "arguments": {"city": "New York"}}]', calls: [weather] },
  // Negative.
  { name: 'JSON data in an answer is not a call', text: 'The record is {"name": "get_weather", "arguments": {"city": "New York"}} as stored.' },
  { name: 'undeclared', text: '[{"name": "book_flight", "arguments": {}}]' },
  { name: 'truncated', text: '[{"name": "get_weather", "arguments": {"city": "New' },
]

runFormatCases('xlam (json_calls / fenced_calls)', cases)
