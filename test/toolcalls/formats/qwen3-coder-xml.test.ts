import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  { name: 'canonical', text: '<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>', calls: [weather] },
  { name: 'without the outer tool_call', text: 'Checking.\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>', content: 'Checking.', calls: [weather] },
  { name: 'schema typing: integer, string that looks like a number', text: '<tool_call>\n<function=get_weather>\n<parameter=city>\n1984\n</parameter>\n<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>', calls: [{ name: 'get_weather', arguments: { city: '1984', days: 3 } }] },
  {
    name: 'schema typing: boolean, number, object, array (Python literals too)',
    text: "<tool_call>\n<function=calculate>\n<parameter=expression>\nx\n</parameter>\n<parameter=precision>\n0.5\n</parameter>\n<parameter=options>\n{'deep': True}\n</parameter>\n<parameter=values>\n[1, 2]\n</parameter>\n</function>\n</tool_call>",
    calls: [{ name: 'calculate', arguments: { expression: 'x', precision: 0.5, options: { deep: true }, values: [1, 2] } }],
  },
  { name: 'boolean parameter', text: '<tool_call><function=search><parameter=query>cats</parameter><parameter=exact>true</parameter></function></tool_call>', calls: [{ name: 'search', arguments: { query: 'cats', exact: true } }] },
  { name: 'value keeps inner newlines, loses one framing newline at each end', text: '<tool_call>\n<function=write_file>\n<parameter=path>\na.py\n</parameter>\n<parameter=content>\n\ndef f():\n    return 1\n\n</parameter>\n</function>\n</tool_call>', calls: [{ name: 'write_file', arguments: { path: 'a.py', content: '\ndef f():\n    return 1\n' } }] },
  { name: 'value containing </parameter> and a whole tool_call block', text: '<tool_call>\n<function=write_file>\n<parameter=path>\nx.md\n</parameter>\n<parameter=content>\nclose with </parameter> then <tool_call><function=get_time></function></tool_call> done\n</parameter>\n</function>\n</tool_call>', calls: [{ name: 'write_file', arguments: { path: 'x.md', content: 'close with </parameter> then <tool_call><function=get_time></function></tool_call> done' } }] },
  { name: 'dropped </parameter> before the next parameter', text: '<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>', calls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 2 } }] },
  { name: 'no newline before </parameter>', text: '<tool_call><function=get_weather><parameter=city>Paris</parameter></function></tool_call>', calls: [weather] },
  { name: 'malformed closers </parameter/> and </parameter1>', text: '<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter/>\n<parameter=days>\n2\n</parameter1>\n</function>\n</tool_call>', calls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 2 } }] },
  { name: '</parameters> in a value is not a closer', text: '<tool_call><function=write_file><parameter=content>a </parameters> b</parameter></function></tool_call>', calls: [{ name: 'write_file', arguments: { content: 'a </parameters> b' } }] },
  { name: 'zero parameters', text: '<tool_call>\n<function=get_time>\n</function>\n</tool_call>', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'parallel calls', text: '<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=get_time>\n</function>\n</tool_call>', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'missing final </tool_call>', text: 'Sure.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n', content: 'Sure.', calls: [weather] },
  { name: 'missing </function> before </tool_call>', text: '<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</tool_call>', calls: [weather] },
  { name: 'text after the call', text: '<tool_call>\n<function=get_time>\n</function>\n</tool_call>\nWaiting for the result.', content: 'Waiting for the result.', calls: [{ name: 'get_time', arguments: {} }] },
  { name: 'unknown parameter stays a string', text: '<tool_call><function=get_weather><parameter=extra>42</parameter></function></tool_call>', calls: [{ name: 'get_weather', arguments: { extra: '42' } }] },
  { name: 'call ending the reasoning', channel: 'reasoning', text: 'Need weather.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>', content: 'Need weather.', calls: [weather] },
  // Negative.
  { name: 'truncated inside a value', text: 'ok <tool_call>\n<function=write_file>\n<parameter=content>\nhalf' },
  { name: 'undeclared function', text: '<tool_call>\n<function=drop_db>\n<parameter=x>\n1\n</parameter>\n</function>\n</tool_call>' },
  { name: 'prose about the syntax', text: 'Use <function=NAME> tags, e.g. <function=...> in XML.' },
]

runFormatCases('qwen3_coder_xml', cases)
