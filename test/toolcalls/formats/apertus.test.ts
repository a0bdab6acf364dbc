import { runFormatCases, type FormatCase } from '../format-cases.js'

const london = { name: 'get_weather', arguments: { city: 'London' } }

const cases: FormatCase[] = [
  // Positive (vLLM tests/tool_parsers/test_apertus_tool_parser.py shapes).
  { name: 'single call', text: '<|tools_prefix|>[{"get_weather": {"city": "London"}}]<|tools_suffix|>', calls: [london] },
  { name: 'multiple arguments', text: '<|tools_prefix|>[{"get_weather": {"city": "San Francisco", "unit": "celsius"}}]<|tools_suffix|>', calls: [{ name: 'get_weather', arguments: { city: 'San Francisco', unit: 'celsius' } }] },
  { name: 'text before', text: 'Let me check the weather for you. <|tools_prefix|>[{"get_weather": {"city": "Paris"}}]<|tools_suffix|>', content: 'Let me check the weather for you.', calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
  { name: 'multiple calls', text: '<|tools_prefix|>[{"get_weather": {"city": "London"}}, {"get_time": {}}]<|tools_suffix|>', calls: [london, { name: 'get_time', arguments: {} }] },
  { name: 'nested arguments', text: '<|tools_prefix|>[{"calculate": {"options": {"inner": "value"}, "values": ["a", "b"]}}]<|tools_suffix|>', calls: [{ name: 'calculate', arguments: { options: { inner: 'value' }, values: ['a', 'b'] } }] },
  { name: 'suffix missing', text: '<|tools_prefix|>[{"get_weather": {"city": "London"}}]', calls: [london] },
  { name: 'text after', text: 'Hi <|tools_prefix|>[{"get_weather": {"city": "London"}}]<|tools_suffix|> ', content: 'Hi', calls: [london] },
  // Hard cases.
  { name: 'suffix inside a string', text: '<|tools_prefix|>[{"search": {"query": "<|tools_suffix|>]"}}]<|tools_suffix|>', calls: [{ name: 'search', arguments: { query: '<|tools_suffix|>]' } }] },
  // Negative.
  { name: 'incomplete call', text: '<|tools_prefix|>[{"get_weather": {"city": "London"}' },
  { name: 'undeclared', text: '<|tools_prefix|>[{"f": {"a": 1}}]<|tools_suffix|>' },
  { name: 'long form is not the short form', formats: ['apertus'], text: '<|tools_prefix|>[{"name": "get_time", "arguments": {}}]<|tools_suffix|>' },
]

runFormatCases('apertus', cases)
