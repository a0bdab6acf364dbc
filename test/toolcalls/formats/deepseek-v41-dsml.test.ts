import { runFormatCases, type FormatCase } from '../format-cases.js'

const D = '｜DSML｜ '
const block = (inner: string): string => `\n\n<${D}calls>\n${inner}</${D}calls>`
const invoke = (name: string, params: string): string => `<${D}invoke name="${name}">\n${params}</${D}invoke>\n`
const param = (key: string, value: string, string = true): string => `<${D}parameter name="${key}" string="${string}">${value}</${D}parameter>\n`
const weather = { name: 'get_weather', arguments: { city: 'Paris', days: 3 } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'canonical block', text: block(invoke('get_weather', param('city', 'Paris') + param('days', '3', false))), calls: [weather] },
  { name: 'text before', text: `Checking now.${block(invoke('get_weather', param('city', 'Paris') + param('days', '3', false)))}`, content: 'Checking now.', calls: [weather] },
  { name: 'parallel invokes', text: block(invoke('get_weather', param('city', 'Paris') + param('days', '3', false)) + invoke('search', param('query', 'rain'))), calls: [weather, { name: 'search', arguments: { query: 'rain' } }] },
  { name: 'unspaced inner tags', text: `<${D}calls><｜DSML｜invoke name="get_time"></｜DSML｜invoke></${D}calls>`, calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'self-closing invoke', text: block(`<${D}invoke name="get_time"/>`), calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: 'closer inside a value', text: block(invoke('write_file', param('path', 'a.xml') + param('content', `<x></${D}parameter></x>`))), calls: [{ name: 'write_file', arguments: { path: 'a.xml', content: `<x></${D}parameter></x>` } }] },
  { name: 'wrapper closer missing', text: `<${D}calls>\n${invoke('get_time', '')}`, calls: [{ name: 'get_time', arguments: {} }] },
  // Negative.
  { name: 'truncated', text: `<${D}calls>\n<${D}invoke name="get_weather">\n<${D}parameter name="city" string="true">Pa` },
  { name: 'undeclared', text: block(invoke('reboot', '')) },
  { name: 'V4 wrapper is not V4.1', formats: ['deepseek_v41_dsml'], text: `<｜DSML｜tool_calls>${invoke('get_time', '')}</｜DSML｜tool_calls>` },
  { name: 'prose with the wrapper name', text: 'The V4.1 wrapper is called <｜DSML｜ calls in the docs.' },
]

runFormatCases('deepseek_v41_dsml', cases)
