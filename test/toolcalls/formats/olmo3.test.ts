import { runFormatCases, type FormatCase } from '../format-cases.js'

const cases: FormatCase[] = [
  { name: 'one call per line with JSON literals', text: '<function_calls>\nget_weather(city="Paris", days=2)\nsearch(query="x", exact=true, limit=null)\n</function_calls>', calls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 2 } }, { name: 'search', arguments: { query: 'x', exact: true, limit: null } }] },
  { name: 'text before, missing closer', text: 'Checking.\n<function_calls>\nget_time()\n', content: 'Checking.', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'undeclared', text: '<function_calls>\nshutdown()\n</function_calls>' },
]

runFormatCases('olmo3', cases)
