import { runFormatCases, type FormatCase } from '../format-cases.js'

const B = '<｜tool▁calls▁begin｜>'
const E = '<｜tool▁calls▁end｜>'
const CB = '<｜tool▁call▁begin｜>'
const CE = '<｜tool▁call▁end｜>'
const SEP = '<｜tool▁sep｜>'
const call = (name: string, json: string): string => `${CB}function${SEP}${name}\n\`\`\`json\n${json}\n\`\`\`${CE}`
const weather = { name: 'get_weather', arguments: { city: 'Tokyo', unit: 'celsius' } }

const cases: FormatCase[] = [
  // Positive (vLLM tests/tool_parsers/test_deepseekv3_tool_parser.py shapes).
  { name: 'single call', text: `${B}${call('get_weather', '{"city": "Tokyo", "unit": "celsius"}')}${E}`, calls: [weather] },
  { name: 'text before', text: `Let me check the weather for you.${B}${call('get_weather', '{"city": "Tokyo", "unit": "celsius"}')}${E}`, content: 'Let me check the weather for you.', calls: [weather] },
  { name: 'text after', text: `${B}${call('get_time', '{}')}${E}\n\nOne moment.`, content: 'One moment.', calls: [{ name: 'get_time', arguments: {} }] },
  {
    name: 'parallel calls',
    text: `${B}${call('get_weather', '{"city": "Tokyo", "unit": "celsius"}')}\n${call('search', '{"query": "hotels", "limit": 3}')}${E}`,
    calls: [weather, { name: 'search', arguments: { query: 'hotels', limit: 3 } }],
  },
  { name: 'various data types', text: `${B}${call('calculate', '{"expression": "x", "precision": 3.14, "options": {"nested": null}, "values": ["a", 1, true]}')}${E}`, calls: [{ name: 'calculate', arguments: { expression: 'x', precision: 3.14, options: { nested: null }, values: ['a', 1, true] } }] },
  { name: 'escaped strings', text: `${B}${call('write_file', '{"path": "C:\\\\Users\\\\f", "content": "He said \\"hi\\"\\nbye"}')}${E}`, calls: [{ name: 'write_file', arguments: { path: 'C:\\Users\\f', content: 'He said "hi"\nbye' } }] },
  { name: 'R1 distill spelling with underscores', text: '<｜tool_calls_begin｜><｜tool_call_begin｜>function<｜tool_sep｜>get_time\n```json\n{}\n```<｜tool_call_end｜><｜tool_calls_end｜>', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'R1 distill spelling with spaces', text: '<｜tool calls begin｜><｜tool call begin｜>function<｜tool sep｜>get_time\n```json\n{}\n```<｜tool call end｜><｜tool calls end｜>', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'short section opener', text: `<｜tool▁calls｜>${call('get_time', '{}')}${E}`, calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'unfenced JSON', text: `${B}${CB}function${SEP}get_weather\n{"city": "Tokyo", "unit": "celsius"}${CE}${E}`, calls: [weather] },
  // Hard cases.
  { name: 'closer and fence inside an argument string', text: `${B}${call('write_file', `{"path": "a.md", "content": "\`\`\`${CE}${E}"}`)}${E}`, calls: [{ name: 'write_file', arguments: { path: 'a.md', content: `\`\`\`${CE}${E}` } }] },
  { name: 'section end missing at the end of the message', text: `Ok.${B}${call('get_time', '{}')}`, content: 'Ok.', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'call end and section end missing', text: `${B}${CB}function${SEP}get_time\n\`\`\`json\n{}\n\`\`\``, calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'call begin missing', text: `${B}function${SEP}get_weather\n\`\`\`json\n{"city": "Tokyo", "unit": "celsius"}\n\`\`\`${E}`, calls: [weather] },
  { name: 'section opener missing', text: `Sure. ${call('get_time', '{}')}${E}`, content: 'Sure.', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'python literals in arguments', text: `${B}${call('search', "{'query': 'x', 'exact': True}")}${E}`, calls: [{ name: 'search', arguments: { query: 'x', exact: true } }] },
  // Negative.
  { name: 'truncated arguments', text: `Checking.${B}${CB}function${SEP}get_weather\n\`\`\`json\n{"city": "Tokyo"` },
  { name: 'truncated after the name', text: `${B}${CB}function${SEP}get_wea` },
  { name: 'undeclared tool', text: `${B}${call('delete_everything', '{}')}${E}` },
  { name: 'undeclared among declared: whole block stays', text: `${B}${call('get_time', '{}')}${call('rm_rf', '{}')}${E}` },
  { name: 'no tools declared', tools: [], text: `${B}${call('get_time', '{}')}${E}` },
  { name: 'invalid JSON: a broken call, reported and removed with its section', text: `${B}${call('get_weather', '{city: Tokyo here}')}${E}`, malformed: ['get_weather'] },
  { name: 'prose with a near-marker', text: 'The token <｜tool is special, and so is <｜tool▁calls.' },
  { name: 'V3.1 style is not V3', formats: ['deepseek_v3'], text: `${B}${CB}get_time${SEP}{}${CE}${E}` },
]

runFormatCases('deepseek_v3', cases)
