import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  { name: 'python_tag JSON', text: '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}', calls: [weather] },
  { name: 'with eom', text: '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}<|eom_id|>', calls: [weather] },
  { name: 'semicolon parallel', text: '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_time", "parameters": {}}', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'built-in style call', tools: ['brave_search'], text: '<|python_tag|>brave_search.call(query="weather in Paris")<|eom_id|>', calls: [{ name: 'brave_search', arguments: { query: 'weather in Paris' } }] },
  { name: 'text before', text: 'Sure.<|python_tag|>{"name": "get_time", "parameters": {}}', content: 'Sure.', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'raw code after the tag is content', text: '<|python_tag|>import math\nprint(math.pi)' },
]

runFormatCases('llama3_json', cases)
