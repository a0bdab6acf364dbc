import { runFormatCases, type FormatCase } from '../format-cases.js'

const cases: FormatCase[] = [
  { name: 'gemma4 block', text: '<|tool_call>call:get_weather{city:<|"|>Paris<|"|>,days:3}<tool_call|>', calls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 3 } }] },
  { name: 'gemma4 nested and booleans', text: 'Sure.<|tool_call>call:calculate{expression:<|"|>a, b}<|"|>,options:{deep:true,list:[1,<|"|>x<|"|>]}}<tool_call|>', content: 'Sure.', calls: [{ name: 'calculate', arguments: { expression: 'a, b}', options: { deep: true, list: [1, 'x'] } } }] },
  { name: 'gemma4 parallel blocks', text: '<|tool_call>call:get_time{}<tool_call|><|tool_call>call:get_weather{city:<|"|>Rome<|"|>}<tool_call|>', calls: [{ name: 'get_time', arguments: {} }, { name: 'get_weather', arguments: { city: 'Rome' } }] },
  { name: 'stripped form', text: 'call:get_weather{city:Austin}', calls: [{ name: 'get_weather', arguments: { city: 'Austin' } }] },
  { name: 'stripped form after text, ending the message', text: 'Let me check.\ncall:get_weather{city:Austin,days:2}', content: 'Let me check.', calls: [{ name: 'get_weather', arguments: { city: 'Austin', days: 2 } }] },
  { name: 'functiongemma', text: '<start_function_call>call:get_weather{city:<escape>Paris<escape>}<end_function_call>', calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
  // Negative.
  { name: 'undeclared', text: '<|tool_call>call:reboot{}<tool_call|>' },
  { name: 'call: in prose', text: 'call: me maybe\ncall:later' },
  { name: 'truncated', text: '<|tool_call>call:get_weather{city:<|"|>Par' },
]

runFormatCases('gemma4', cases)
