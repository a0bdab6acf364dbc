import { runFormatCases, type FormatCase } from '../format-cases.js'

const fn = (name: string, params: [string, string][]): string => `<function name="${name}">${params.map(([k, v]) => `<param name="${k}">${v}</param>`).join('')}</function>`
const weather = { name: 'get_weather', arguments: { city: 'Paris', days: 3 } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'canonical', text: fn('get_weather', [['city', 'Paris'], ['days', '3']]), calls: [weather] },
  { name: 'after reasoning and text', text: `<think>Weather needed.</think>\nSure.\n${fn('get_weather', [['city', 'Paris'], ['days', '3']])}`, content: '<think>Weather needed.</think>\nSure.', calls: [weather] },
  { name: 'consecutive calls', text: fn('get_weather', [['city', 'Paris'], ['days', '3']]) + '\n' + fn('get_time', []), calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'values trimmed', text: fn('search', [['query', '\n  cats \n'], ['limit', ' 5 ']]), calls: [{ name: 'search', arguments: { query: 'cats', limit: 5 } }] },
  { name: 'older <arguments> nesting', text: '<function name="get_weather"><arguments><param name="city">Paris</param><param name="days">3</param></arguments></function>', calls: [weather] },
  { name: 'CDATA value', text: fn('write_file', [['path', 'a.xml'], ['content', '<![CDATA[<x></param></x>]]>']]), calls: [{ name: 'write_file', arguments: { path: 'a.xml', content: '<x></param></x>' } }] },
  { name: 'Python literal for an object', text: fn('calculate', [['options', "{'fast': True}"]]), calls: [{ name: 'calculate', arguments: { options: { fast: true } } }] },
  // Hard cases.
  { name: 'close tag inside a value, not followed by a tag', text: fn('write_file', [['path', 'p'], ['content', 'a </param> b']]), calls: [{ name: 'write_file', arguments: { path: 'p', content: 'a </param> b' } }] },
  { name: 'closer missing at the end', text: '<function name="get_weather"><param name="city">Paris</param><param name="days">3</param>', calls: [weather] },
  { name: 'JSON body is hermes', text: '<function name="get_weather">{"city": "Paris", "days": 3}</function>', calls: [weather] },
  // Negative.
  { name: 'truncated', text: '<function name="get_weather"><param name="city">Par' },
  { name: 'undeclared', text: fn('rm', [['path', '/']]) },
  { name: 'param without a name: a broken call, reported (issue 9)', text: '<function name="get_weather"><param>Paris</param></function>', malformed: ['get_weather'] },
]

runFormatCases('minicpm5_xml', cases)
