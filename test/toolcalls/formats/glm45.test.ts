import { runFormatCases, type FormatCase } from '../format-cases.js'

const pair = (key: string, value: string, sep = ''): string => `${sep}<arg_key>${key}</arg_key>${sep}<arg_value>${value}</arg_value>`
const weather = { name: 'get_weather', arguments: { city: 'Beijing', days: 2 } }

const cases: FormatCase[] = [
  // Positive (vLLM tests/tool_parsers/test_glm4_moe_tool_parser.py / test_glm47_moe_tool_parser.py shapes).
  { name: 'GLM-4.5 newline form', text: `<tool_call>get_weather${pair('city', 'Beijing', '\n')}${pair('days', '2', '\n')}\n</tool_call>`, calls: [weather] },
  { name: 'GLM-4.7 inline form', text: `<tool_call>get_weather${pair('city', 'Beijing')}${pair('days', '2')}</tool_call>`, calls: [weather] },
  { name: 'zero-argument call', text: '<tool_call>get_time</tool_call>', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'zero-argument call with newline', text: '<tool_call>get_time\n</tool_call>', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'content before', text: 'Checking.<tool_call>get_time</tool_call>', content: 'Checking.', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'whitespace-only content before', text: '  \n  <tool_call>get_time</tool_call>', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'parallel calls', text: `<tool_call>get_weather${pair('city', 'Beijing')}${pair('days', '2')}</tool_call>\n<tool_call>search${pair('query', 'rain')}</tool_call>`, calls: [weather, { name: 'search', arguments: { query: 'rain' } }] },
  { name: 'values JSON-decoded unless the schema says string', text: `<tool_call>calculate${pair('expression', '1+1')}${pair('values', '[1, "a"]')}${pair('options', '{"x": true}')}${pair('precision', '0.5')}</tool_call>`, calls: [{ name: 'calculate', arguments: { expression: '1+1', values: [1, 'a'], options: { x: true }, precision: 0.5 } }] },
  { name: 'string schema keeps digits', text: `<tool_call>search${pair('query', '123')}${pair('exact', 'true')}</tool_call>`, calls: [{ name: 'search', arguments: { query: '123', exact: true } }] },
  { name: 'multi-line string value', text: `<tool_call>write_file${pair('path', 'a.py', '\n')}\n<arg_key>content</arg_key>\n<arg_value>\nprint(1)\nprint(2)\n</arg_value>\n</tool_call>`, calls: [{ name: 'write_file', arguments: { path: 'a.py', content: 'print(1)\nprint(2)' } }] },
  { name: 'JSON arguments after the name (Laguna / Ollama tolerance)', text: '<tool_call>get_weather\n{"city": "Beijing", "days": 2}\n</tool_call>', calls: [weather] },
  { name: 'NAME{json} inside the call element', text: '<tool_call>get_weather{"city": "Beijing", "days": 2}</tool_call>', calls: [weather] },
  // Hard cases.
  { name: 'closing tags inside a value', text: `<tool_call>write_file${pair('path', 'x.md')}${pair('content', 'ends with </arg_value> and </tool_call> tags')}</tool_call>`, calls: [{ name: 'write_file', arguments: { path: 'x.md', content: 'ends with </arg_value> and </tool_call> tags' } }] },
  { name: 'close tag missing at the end', text: `Ok.\n<tool_call>get_weather${pair('city', 'Beijing')}${pair('days', '2')}`, content: 'Ok.', calls: [weather] },
  { name: 'dropped <arg_value> (vLLM PR #49249)', text: '<tool_call>get_weather<arg_key>city</arg_key>Beijing</arg_value><arg_key>days</arg_key><arg_value>2</arg_value></tool_call>', calls: [weather] },
  { name: 'in reasoning, ending it (GLM-5 emits calls inside <think>)', channel: 'reasoning', text: `Let me call it.\n<tool_call>get_time</tool_call>`, content: 'Let me call it.', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'hermes JSON body is still hermes', text: '<tool_call>{"name": "get_time", "arguments": {}}</tool_call>', calls: [{ name: 'get_time', arguments: {} }] },
  // Negative.
  { name: 'tool-name prefix only (vLLM #39757)', text: `<tool_call>get${pair('city', 'Beijing')}</tool_call>` },
  { name: 'undeclared tool', text: `<tool_call>drop_db${pair('name', 'prod')}</tool_call>` },
  { name: 'truncated value', text: `Hmm.\n<tool_call>get_weather${pair('city', 'Beijing')}<arg_key>days</arg_key><arg_value>2` },
  { name: 'truncated after the name', text: '<tool_call>get_weather' },
  { name: 'name followed by prose', text: '<tool_call>get_time is the tag</tool_call>' },
  { name: 'no tools declared', tools: [], text: '<tool_call>get_time</tool_call>' },
]

runFormatCases('glm45', cases)
