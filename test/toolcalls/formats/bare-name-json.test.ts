import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }
const time = { name: 'get_time', arguments: {} }

const cases: FormatCase[] = [
  { name: 'name{json}', text: 'get_weather{"city": "Paris"}', calls: [weather] },
  { name: 'name {json} with a space', text: 'get_weather {"city": "Paris"}', calls: [weather] },
  { name: 'name[ARGS]{json}', text: 'get_weather[ARGS]{"city": "Paris"}', calls: [weather] },
  { name: 'glued parallel calls (stripped Mistral v11)', text: 'get_weather{"city": "Paris"}get_time{}', calls: [weather, time] },
  { name: 'one per line, after text, ending the message', text: 'Checking both.\nget_weather{"city": "Paris"}\nget_time{}', content: 'Checking both.', calls: [weather, time] },
  { name: 'keyword call form', text: 'get_weather(city="Paris")', calls: [weather] },
  { name: 'json5 arguments', text: "search{query: 'cats', limit: 3,}", calls: [{ name: 'search', arguments: { query: 'cats', limit: 3 } }] },
  // Negative.
  { name: 'name in prose', text: 'get_weather is the tool I would use.' },
  { name: 'longer word', text: 'searching{"query": "x"}' },
  { name: 'mid-line', text: 'call get_weather{"city": "Paris"} now' },
  { name: 'mid-message then prose', text: 'Like this:\nget_weather{"city": "Paris"}\nand so on.' },
  { name: 'undeclared name', text: 'get_stock{"ticker": "X"}' },
  { name: 'truncated', text: 'get_weather{"city": "Pa' },
  { name: 'name prefix at the end', text: 'Use get_wea' },
]

runFormatCases('bare_name_json', cases)
