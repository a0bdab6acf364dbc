import { runFormatCases, type FormatCase } from '../format-cases.js'

const H = (recipient: string): string => `<|start|>assistant to=${recipient}<|message|>`
const param = (key: string, value: string): string => `<atem:parameter name="${key}">${value}</atem:parameter>`
const invoke = (name: string, ...params: string[]): string => `<atem:invoke name="${name}">\n${params.join('\n')}\n</atem:invoke>`
const block = (...invokes: string[]): string => `<atem:function_calls>\n${invokes.join('\n')}\n</atem:function_calls>`
const weather = { name: 'get_weather', arguments: { city: 'Paris', days: 3 } }
const time = { name: 'get_time', arguments: {} }

const cases: FormatCase[] = [
  // Positive (research table row 46: Ollama's `glimmer` parser shapes).
  { name: 'full header, one invoke, end token', text: `${H('get_weather')}${block(invoke('get_weather', param('city', 'Paris'), param('days', '3')))}<|eom|>`, calls: [weather] },
  { name: 'generation starting at the recipient (header in the prompt)', text: ` to=get_weather<|message|>${block(invoke('get_weather', param('city', 'Paris'), param('days', '3')))}<|eom|>`, calls: [weather] },
  { name: 'recipient form on its own line, ending the message', text: 'Checking.\n to=get_time<|message|>{}<|eom|>', content: 'Checking.', calls: [time] },
  { name: 'recipient form inside a sentence is text (line starts only)', text: 'I send it to=get_time<|message|>{}<|eom|> now.' },
  { name: 'text before, <|eot|> after', text: `Let me look.${H('get_weather')}${block(invoke('get_weather', param('city', 'Paris'), param('days', '3')))}<|eot|>`, content: 'Let me look.', calls: [weather] },
  { name: 'several invokes in one block', text: `${H('get_weather')}${block(invoke('get_weather', param('city', 'Paris'), param('days', '3')), invoke('get_time'))}<|eom|>`, calls: [weather, time] },
  { name: 'block without its header', text: `${block(invoke('get_time'))}<|eom|>`, calls: [time] },
  { name: 'a recipient with a content type', text: `<|start|>assistant to=get_weather json<|message|>${block(invoke('get_weather', param('city', 'Paris'), param('days', '3')))}`, calls: [weather] },
  { name: 'plain JSON body to a declared tool', text: `${H('get_weather')}{"city": "Paris", "days": 3}<|eom|>`, calls: [weather] },
  { name: 'values typed from the schema, untyped kept', text: `${H('calculate')}${block(invoke('calculate', param('expression', '2*3'), param('precision', '0.5'), param('values', '[1, 2]')))}`, calls: [{ name: 'calculate', arguments: { expression: '2*3', precision: 0.5, values: [1, 2] } }] },
  { name: 'boundary tokens written into the invoke name are stripped', text: `${H('get_time')}${block('<atem:invoke name="<|message|>get_time<|eom|>">\n</atem:invoke>')}<|eom|>`, calls: [time] },
  { name: 'next header right after the call', text: `${H('get_time')}${block(invoke('get_time'))}<|start|>assistant to=self<|message|>Thinking.`, content: '<|start|>assistant to=self<|message|>Thinking.', calls: [time] },
  // Hard cases.
  { name: 'closing tags inside a value', text: `${H('write_file')}${block(invoke('write_file', param('path', 'a.xml'), param('content', 'x </atem:parameter> y </atem:function_calls>')))}<|eom|>`, calls: [{ name: 'write_file', arguments: { path: 'a.xml', content: 'x </atem:parameter> y </atem:function_calls>' } }] },
  { name: 'block closer missing at the end', text: `${H('get_time')}<atem:function_calls>\n${invoke('get_time')}`, calls: [time] },
  { name: 'end token cut off part-way', text: `${H('get_time')}${block(invoke('get_time'))}<|eo`, calls: [time] },
  { name: 'call ending the reasoning is real', channel: 'reasoning', text: `Need the time.${H('get_time')}${block(invoke('get_time'))}<|eom|>`, content: 'Need the time.', calls: [time] },
  // Broken calls (issue 9).
  { name: 'broken invoke beside a good one', text: `${H('get_time')}${block(invoke('get_time'), '<atem:invoke name="search">\nquery: cats\n</atem:invoke>')}<|eom|>`, calls: [time], malformed: ['search'] },
  { name: 'non-JSON body to a declared tool', text: `Ok.${H('search')}cats please<|eom|> Then.`, content: 'Ok. Then.', malformed: ['search'] },
  // Negative.
  { name: 'reasoning message to self stays text', text: `${H('self')}I should check the weather.<|eot|>` },
  { name: 'undeclared recipient', text: `${H('launch')}{"now": true}<|eom|>` },
  { name: 'undeclared invoke', text: `${H('launch')}${block(invoke('launch'))}` },
  { name: 'truncated arguments', text: `${H('get_weather')}${block(`<atem:invoke name="get_weather">\n${param('city', 'Paris')}\n<atem:parameter name="days">`)}`.replace(/<\/atem:function_calls>$/, '').replace(/\n<\/atem:invoke>\n$/, '') },
  { name: 'a recipient and no body, cut off', text: `Hm. ${H('get_weather')}` },
  { name: 'recipient form starting the message, text after', text: 'to=get_time<|message|>{}<|eom|>\nAnd then more.', content: 'And then more.', calls: [time] },
  { name: 'recipient form between texts is text (weak)', text: 'Intro.\nto=get_time<|message|>{}<|eom|>\nAnd then more.' },
  { name: 'prose with to=', text: 'Set the value to=5 and go to= the end.' },
  { name: 'harmony header is not Glimmer', text: '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>Tokyo please<|call|>' },
  { name: 'no tools declared', tools: [], text: `${H('get_time')}${block(invoke('get_time'))}` },
]

runFormatCases('glimmer_atem', cases)
