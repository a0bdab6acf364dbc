import { runFormatCases, type FormatCase } from '../format-cases.js'

const json = '{"name": "get_weather", "arguments": {"city": "Moscow"}}'
const moscow = { name: 'get_weather', arguments: { city: 'Moscow' } }

const cases: FormatCase[] = [
  // Positive (vLLM tests/tool_parsers/test_gigachat3_tool_parser.py shapes).
  { name: 'GigaChat 3', text: `<|message_sep|>\n\nfunction call<|role_sep|>\n${json}`, calls: [moscow] },
  { name: 'GigaChat 3 with content before', text: `I'll check that for you.<|message_sep|>\n\nfunction call<|role_sep|>\n${json}`, content: "I'll check that for you.", calls: [moscow] },
  { name: 'GigaChat 3 with </s>', text: `I'll check that for you.<|message_sep|>\n\nfunction call<|role_sep|>\n${json}</s>`, content: "I'll check that for you.", calls: [moscow] },
  { name: 'GigaChat 3 header without message separator', text: `function call<|role_sep|>\n${json}`, calls: [moscow] },
  { name: 'GigaChat 3.1', text: `<|function_call|>${json}`, calls: [moscow] },
  { name: 'GigaChat 3.1 with content and </s>', text: `I'll check that for you.<|function_call|>${json}</s>`, content: "I'll check that for you.", calls: [moscow] },
  { name: 'parameterless', text: '<|function_call|>{"name": "get_time", "arguments": {}}', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: '</s> inside a string', text: '<|function_call|>{"name": "write_file", "arguments": {"path": "a", "content": "</s>}"}}</s>', calls: [{ name: 'write_file', arguments: { path: 'a', content: '</s>}' } }] },
  // Negative.
  { name: 'message separator before ordinary text', text: 'Hi<|message_sep|>\n\nSee you.' },
  { name: 'truncated', text: '<|function_call|>{"name": "get_weather", "arguments": {"ci' },
  { name: 'undeclared', text: '<|function_call|>{"name": "manage_user_memory", "arguments": {}}' },
]

runFormatCases('gigachat3', cases)
