import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  { name: 'one call', text: "[get_weather(city='Paris')]", calls: [weather] },
  { name: 'parallel with Python literals', text: "[get_weather(city=\"Paris\", days=3), search(query='x', exact=True, limit=None)]", calls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 3 } }, { name: 'search', arguments: { query: 'x', exact: true, limit: null } }] },
  { name: 'nested values and ] inside strings', text: "[calculate(expression='a[1]]', options={'k': [1, (2, 3)]}, values=[])]", calls: [{ name: 'calculate', arguments: { expression: 'a[1]]', options: { k: [1, [2, 3]] }, values: [] } }] },
  { name: 'zero-arg, newlines between items', text: '[\n  get_time(),\n  get_weather(city="Paris")\n]', calls: [{ name: 'get_time', arguments: {} }, weather] },
  { name: 'leading zeros, keyword-named args', text: "[search(query='07', limit=07)]", calls: [{ name: 'search', arguments: { query: '07', limit: 7 } }] },
  { name: 'after text, ending the message', text: 'Let me check.\n[get_weather(city="Paris")]', content: 'Let me check.', calls: [weather] },
  // Negative.
  { name: 'markdown link', text: '[get_weather](https://example.com) is documented.' },
  { name: 'list of numbers', text: '[1, 2, 3]' },
  { name: 'undeclared function', text: '[os.system(cmd="rm")]' },
  { name: 'positional args', text: '[get_weather("Paris")]' },
  { name: 'followed by text on the line', text: '[get_weather(city="Paris")] is what I would call' },
  { name: 'truncated', text: '[get_weather(city="Par' },
]

runFormatCases('pythonic', cases)
