import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Shanghai' } }

const cases: FormatCase[] = [
  // Positive (vLLM tests/tool_parsers/test_internlm2_tool_parser.py shapes).
  { name: 'canonical', text: '<|action_start|><|plugin|>\n{"name": "get_weather", "parameters": {"city": "Shanghai"}}<|action_end|>', calls: [weather] },
  { name: 'text before', text: 'I will check the weather.<|action_start|><|plugin|>{"name": "get_weather", "parameters": {"city": "Shanghai"}}<|action_end|>', content: 'I will check the weather.', calls: [weather] },
  { name: 'whitespace between the opening tokens', text: '<|action_start|> <|plugin|>\n{"name": "get_weather", "parameters": {"city": "Shanghai"}}<|action_end|>', calls: [weather] },
  { name: 'arguments key', text: '<|action_start|><|plugin|>{"name": "get_time", "arguments": {}}<|action_end|>', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: 'end token inside a string', text: '<|action_start|><|plugin|>{"name": "write_file", "parameters": {"path": "a", "content": "<|action_end|>"}}<|action_end|>', calls: [{ name: 'write_file', arguments: { path: 'a', content: '<|action_end|>' } }] },
  { name: 'end token missing at the end', text: '<|action_start|><|plugin|>{"name": "get_weather", "parameters": {"city": "Shanghai"}}', calls: [weather] },
  // Negative.
  { name: 'code interpreter action is not a plugin call', text: '<|action_start|><|interpreter|>\nprint(1)<|action_end|>' },
  { name: 'truncated', text: '<|action_start|><|plugin|>{"name": "get_weather", "parameters": {"ci' },
  { name: 'undeclared', text: '<|action_start|><|plugin|>{"name": "shell", "parameters": {}}<|action_end|>' },
]

runFormatCases('internlm', cases)
