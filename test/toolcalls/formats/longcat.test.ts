import { runFormatCases, type FormatCase } from '../format-cases.js'

const json = (body: string): string => `<longcat_tool_call>${body}</longcat_tool_call>`
const xml = (name: string, pairs: [string, string][]): string =>
  `<longcat_tool_call>${name}\n${pairs.map(([k, v]) => `<longcat_arg_key>${k}</longcat_arg_key>\n<longcat_arg_value>${v}</longcat_arg_value>\n`).join('')}</longcat_tool_call>`
const weather = { name: 'get_weather', arguments: { city: 'Tokyo' } }

const cases: FormatCase[] = [
  // Positive (vLLM tests/tool_parsers/test_longcat_tool_parser.py shapes).
  { name: 'JSON body', text: json('{"name": "get_weather", "arguments": {"city": "Tokyo"}}'), calls: [weather] },
  { name: 'parallel JSON calls', text: `${json('{"name": "get_weather", "arguments": {"city": "Tokyo"}}')}\n${json('{"name": "get_time", "arguments": {}}')}`, calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'surrounding text', text: `Let me check the weather for you.\n${json('{"name": "get_weather", "arguments": {"city": "Tokyo"}}')}\nHere is the result.`, content: 'Let me check the weather for you.\nHere is the result.', calls: [weather] },
  { name: 'XML body', text: xml('get_weather', [['city', 'Tokyo']]), calls: [weather] },
  { name: 'XML body typed from the schema', text: xml('search', [['query', 'x'], ['limit', '5'], ['exact', 'false']]), calls: [{ name: 'search', arguments: { query: 'x', limit: 5, exact: false } }] },
  { name: 'XML zero-argument call', text: '<longcat_tool_call>get_time</longcat_tool_call>', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: 'closer inside a JSON string', text: json('{"name": "write_file", "arguments": {"path": "a", "content": "</longcat_tool_call>"}}'), calls: [{ name: 'write_file', arguments: { path: 'a', content: '</longcat_tool_call>' } }] },
  { name: 'closer missing at the end', text: '<longcat_tool_call>{"name": "get_weather", "arguments": {"city": "Tokyo"}}', calls: [weather] },
  // Negative (vLLM malformed inputs).
  { name: 'truncated JSON', text: '<longcat_tool_call>{"name": "get_weather", "arguments": {' },
  { name: 'arguments not an object', text: json('{"name": "get_weather", "arguments": "not a dict"}') },
  { name: 'invalid body', text: 'Some text with <longcat_tool_call>invalid json' },
  { name: 'undeclared', text: json('{"name": "func", "arguments": {}}') },
]

runFormatCases('longcat', cases)
