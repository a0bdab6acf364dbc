import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  { name: 'json fence with parameters (llama3.2 via Ollama)', text: '```json\n{"name": "get_weather", "parameters": {"city": "Paris"}}\n```', calls: [weather] },
  { name: 'fence after text, ending the message', text: 'I will call the tool:\n\n```json\n[{"name": "get_weather", "arguments": {"city": "Paris"}}]\n```\n', content: 'I will call the tool:', calls: [weather] },
  { name: 'tool_code fence', text: '```tool_code\nget_weather(city="Paris")\n```', calls: [weather] },
  { name: 'tool_code with print()', text: '```tool_code\nprint(default_api.get_weather(city="Paris"))\n```', calls: [weather] },
  { name: 'python fence, two calls', text: '```python\nget_weather(city="Paris")\nget_time()\n```', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'missing closing fence at the end', text: '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n', calls: [weather] },
  // Negative.
  { name: 'fenced example followed by explanation', text: '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```\nThis is how a call looks.' },
  { name: 'example mid-message', text: 'Example:\n```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```\nNow you try.' },
  { name: 'ordinary code', text: '```python\nimport os\nprint(os.getcwd())\n```' },
  { name: 'other language', text: '```bash\nget_weather(city="x")\n```' },
  { name: 'data JSON', text: '```json\n{"city": "Paris"}\n```' },
]

runFormatCases('fenced_calls', cases)
