import { runFormatCases, type FormatCase } from '../format-cases.js'

const tokyo = { name: 'get_weather', arguments: { city: 'Tokyo' } }

const cases: FormatCase[] = [
  // Positive (Rapid-MLX #444 / #480 shapes).
  { name: 'glued to assistant', text: 'analysisThe user wants Tokyo weather.assistantcommentary to=functions.get_weather json{"city":"Tokyo"}', content: 'analysisThe user wants Tokyo weather.', calls: [tokyo] },
  { name: 'glued mid-word is not detected (openers need a word boundary)', text: 'I thinkcommentary to=functions.get_weather json{"city": "Tokyo"}' },
  { name: 'alone', text: 'commentary to=functions.get_weather json{"city": "Tokyo"}', calls: [tokyo] },
  { name: 'with leftover constrain and message tokens', text: 'commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Tokyo"}<|call|>', calls: [tokyo] },
  { name: 'no content type', text: 'commentary to=functions.get_time {}', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'text after', text: 'commentary to=functions.get_time json{}\nDone.', content: 'Done.', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: 'braces inside a string', text: 'commentary to=functions.write_file json{"path": "a", "content": "}}{{"}', calls: [{ name: 'write_file', arguments: { path: 'a', content: '}}{{' } }] },
  // Negative.
  { name: 'undeclared', text: 'commentary to=functions.rm json{"path": "/"}' },
  { name: 'truncated', text: 'assistantcommentary to=functions.get_weather json{"city":"To' },
  { name: 'prose about the channel', text: 'The commentary to=functions. prefix addresses a tool.' },
  { name: 'not JSON after the name', text: 'commentary to=functions.get_weather json please' },
]

runFormatCases('harmony_stripped', cases)
