import { runFormatCases, type FormatCase } from '../format-cases.js'

const B = '<｜tool_calls_begin｜>'
const E = '<｜tool_calls_end｜>'
const CB = '<｜tool_call_begin｜>'
const CE = '<｜tool_call_end｜>'
const invoke = (name: string, params: [string, string][]): string => `<steptml:invoke name="${name}">${params.map(([k, v]) => `<steptml:parameter name="${k}">${v}</steptml:parameter>`).join('')}</steptml:invoke>`
const tokyo = { name: 'get_weather', arguments: { city: 'Tokyo' } }

const cases: FormatCase[] = [
  // Positive (vLLM tests/tool_parsers/test_step3_tool_parser.py shapes).
  { name: 'single call', text: `${B}${CB}${invoke('get_weather', [['city', 'Tokyo']])}${CE}${E}`, calls: [tokyo] },
  { name: 'parallel calls with a separator', text: `${B}${CB}${invoke('get_weather', [['city', 'Tokyo']])}${CE}<｜tool_sep｜>${CB}${invoke('get_time', [])}${CE}${E}`, calls: [tokyo, { name: 'get_time', arguments: {} }] },
  { name: 'typed values', text: `${B}${CB}${invoke('calculate', [['expression', 'x'], ['precision', '3.14'], ['values', '["a", "b"]'], ['options', '{"nested": "value"}']])}${CE}${E}`, calls: [{ name: 'calculate', arguments: { expression: 'x', precision: 3.14, values: ['a', 'b'], options: { nested: 'value' } } }] },
  { name: 'surrounding text', text: `Let me check the weather for you.\n\n${B}${CB}${invoke('get_weather', [['city', 'Tokyo']])}${CE}${E}\n\nI'll get that information.`, content: "Let me check the weather for you.\nI'll get that information.", calls: [tokyo] },
  { name: 'function<｜tool_sep｜>NAME prefix', text: `${B}${CB}function<｜tool_sep｜>get_weather\n${invoke('get_weather', [['city', 'Tokyo']])}${CE}${E}`, calls: [tokyo] },
  { name: 'string values keep their whitespace', text: `${B}${CB}${invoke('write_file', [['path', 'a.py'], ['content', '    if x:\n        return 1\n']])}${CE}${E}`, calls: [{ name: 'write_file', arguments: { path: 'a.py', content: '    if x:\n        return 1' } }] },
  // Hard cases.
  { name: 'closing tag inside a value', text: `${B}${CB}${invoke('write_file', [['path', 'p'], ['content', 'a </steptml:parameter> b']])}${CE}${E}`, calls: [{ name: 'write_file', arguments: { path: 'p', content: 'a </steptml:parameter> b' } }] },
  { name: 'closers missing at the end', text: `${B}${CB}${invoke('get_weather', [['city', 'Tokyo']])}`, calls: [tokyo] },
  // Negative (vLLM malformed inputs).
  { name: 'truncated after the invoke tag', text: `${B}${CB}<steptml:invoke name="get_weather">` },
  { name: 'no section opener', formats: ['step3'], text: `${CB}${invoke('get_weather', [['city', 'Tokyo']])}${CE}` },
  { name: 'undeclared', text: `${B}${CB}${invoke('func', [])}${CE}${E}` },
]

runFormatCases('step3', cases)
