import { runFormatCases, type FormatCase } from '../format-cases.js'

const B = '<｜tool▁calls▁begin｜>'
const E = '<｜tool▁calls▁end｜>'
const CB = '<｜tool▁call▁begin｜>'
const CE = '<｜tool▁call▁end｜>'
const SEP = '<｜tool▁sep｜>'
const call = (name: string, json: string): string => `${CB}${name}${SEP}${json}${CE}`
const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'single call', text: `${B}${call('get_weather', '{"city": "Paris"}')}${E}`, calls: [weather] },
  { name: 'text before and after', text: `Let me look.\n\n${B}${call('get_weather', '{"city": "Paris"}')}${E}\nDone.`, content: 'Let me look.\nDone.', calls: [weather] },
  { name: 'parallel calls', text: `${B}${call('get_weather', '{"city": "Paris"}')}${call('get_time', '{}')}${E}`, calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'multiline JSON', text: `${B}${call('search', '{\n  "query": "x",\n  "limit": 2\n}')}${E}`, calls: [{ name: 'search', arguments: { query: 'x', limit: 2 } }] },
  { name: 'restricted to deepseek_v31', formats: ['deepseek_v31'], text: `${B}${call('get_weather', '{"city": "Paris"}')}${E}`, calls: [weather] },
  // Hard cases.
  { name: 'markers inside an argument string', text: `${B}${call('write_file', `{"path": "x", "content": "${CE}${E}${CB}get_time${SEP}{}"}`)}${E}`, calls: [{ name: 'write_file', arguments: { path: 'x', content: `${CE}${E}${CB}get_time${SEP}{}` } }] },
  { name: 'section end missing', text: `${B}${call('get_weather', '{"city": "Paris"}')}`, calls: [weather] },
  { name: 'call end missing', text: `${B}${CB}get_weather${SEP}{"city": "Paris"}`, calls: [weather] },
  { name: 'section opener missing', text: `${call('get_weather', '{"city": "Paris"}')}`, calls: [weather] },
  // Negative.
  { name: 'truncated', text: `${B}${CB}get_weather${SEP}{"city": "Pa` },
  { name: 'undeclared', text: `${B}${call('drop_table', '{}')}${E}` },
  { name: 'arguments not an object: a broken call, reported and removed with its section', text: `${B}${call('get_weather', '[1, 2]')}${E}`, malformed: ['get_weather'] },
  { name: 'V3 style is not V3.1', formats: ['deepseek_v31'], text: `${B}${CB}function${SEP}get_time\n\`\`\`json\n{}\n\`\`\`${CE}${E}` },
]

runFormatCases('deepseek_v31', cases)
