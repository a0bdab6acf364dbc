import { runFormatCases, type FormatCase } from '../format-cases.js'

const analysis = '<|channel|>analysis<|message|>User asks for the weather in Tokyo. Use get_weather.<|end|>'
const call = (name: string, json: string): string => `<|start|>assistant<|channel|>commentary to=functions.${name} <|constrain|>json<|message|>${json}<|call|>`
const tokyo = { name: 'get_weather', arguments: { city: 'Tokyo' } }

const cases: FormatCase[] = [
  // Positive (vLLM tests/tool_parsers/test_openai_tool_parser.py conversations, rendered as text).
  { name: 'generation starting at the channel', text: '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Tokyo"}<|call|>', calls: [tokyo] },
  { name: 'after an analysis message', text: analysis + call('get_weather', '{"city": "Tokyo"}'), content: analysis, calls: [tokyo] },
  { name: 'multi-line JSON', text: call('get_weather', '{\n"city": "Tokyo"\n}'), calls: [tokyo] },
  { name: 'successive calls', text: call('get_weather', '{"city": "Tokyo"}') + call('get_time', '{}'), calls: [tokyo, { name: 'get_time', arguments: {} }] },
  { name: 'recipient in the role part', text: '<|start|>assistant to=functions.get_time<|channel|>commentary json<|message|>{}<|call|>', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'no content type', text: '<|channel|>commentary to=functions.get_weather<|message|>{"city": "Tokyo"}<|call|>', calls: [tokyo] },
  { name: 'empty body is {}', text: '<|channel|>commentary to=functions.get_time <|constrain|>json<|message|><|call|>', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: 'end token inside an argument string', text: call('write_file', '{"path": "t.txt", "content": "<|call|><|end|>"}'), calls: [{ name: 'write_file', arguments: { path: 't.txt', content: '<|call|><|end|>' } }] },
  { name: '<|call|> missing at the end', text: '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Tokyo"}', calls: [tokyo] },
  { name: 'final message after the call stays', text: `${call('get_time', '{}')}<|start|>assistant<|channel|>final<|message|>Done.<|return|>`, content: '<|start|>assistant<|channel|>final<|message|>Done.<|return|>', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'call ending the reasoning is real', channel: 'reasoning', text: `Need the weather.${call('get_weather', '{"city": "Tokyo"}')}`, content: 'Need the weather.', calls: [tokyo] },
  // Negative.
  { name: 'analysis and final only', text: `${analysis}<|start|>assistant<|channel|>final<|message|>It is sunny.<|return|>` },
  { name: 'commentary to the user is not a call', text: '<|channel|>commentary<|message|>Working on it.<|end|>' },
  { name: 'undeclared function', text: call('launch', '{}') },
  { name: 'truncated arguments', text: '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "To' },
  { name: 'truncated header', text: '<|channel|>commentary to=functions.get_wea' },
  { name: 'non-JSON body', text: '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>Tokyo please<|call|>' },
]

runFormatCases('harmony', cases)
