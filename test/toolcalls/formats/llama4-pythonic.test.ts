import { runFormatCases, type FormatCase } from '../format-cases.js'

const cases: FormatCase[] = [
  { name: 'list in python_start', text: '<|python_start|>[get_weather(city="Paris")]<|python_end|>', calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
  { name: 'bare calls, no closer', text: 'Ok <|python_start|>get_time(), get_weather(city="Rome")', content: 'Ok', calls: [{ name: 'get_time', arguments: {} }, { name: 'get_weather', arguments: { city: 'Rome' } }] },
  { name: 'undeclared', text: '<|python_start|>[rm(path="/")]<|python_end|>' },
]

runFormatCases('pythonic_llama4', cases)
