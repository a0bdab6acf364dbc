import { runFormatCases, type FormatCase } from '../format-cases.js'

const weather = { name: 'get_weather', arguments: { city: 'Paris' } }

const cases: FormatCase[] = [
  // Positive.
  { name: 'canonical block', text: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>', calls: [weather] },
  { name: 'text before, whitespace goes with the call', text: 'Let me check.\n\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n', content: 'Let me check.', calls: [weather] },
  { name: 'text after the call is kept', text: '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>\nDone.', content: 'Done.', calls: [weather] },
  {
    name: 'parallel blocks',
    text: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "search", "arguments": {"query": "rain"}}\n</tool_call>',
    calls: [weather, { name: 'search', arguments: { query: 'rain' } }],
  },
  { name: 'list in one block', text: '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}]</tool_call>', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'parameters synonym', text: '<tool_call>{"name": "get_weather", "parameters": {"city": "Paris"}}</tool_call>', calls: [weather] },
  { name: 'arguments as a JSON string', text: '<tool_call>{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}</tool_call>', calls: [weather] },
  { name: 'arguments as a Python-repr string', text: `<tool_call>{"name": "get_weather", "arguments": "{'city': 'Paris', 'days': None}"}</tool_call>`, calls: [{ name: 'get_weather', arguments: { city: 'Paris', days: null } }] },
  { name: 'single quotes, Python literals, trailing commas', text: "<tool_call>{'name': 'search', 'arguments': {'query': 'x', 'exact': True,},}</tool_call>", calls: [{ name: 'search', arguments: { query: 'x', exact: true } }] },
  { name: 'HTML entities', text: '<tool_call>{&quot;name&quot;: &quot;get_weather&quot;, &quot;arguments&quot;: {&quot;city&quot;: &quot;Paris&quot;}}</tool_call>', calls: [weather] },
  { name: 'OpenAI function wrapper with string arguments', text: '<tool_call>{"type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}"}}</tool_call>', calls: [weather] },
  { name: 'tool_calls wrapper object', text: '<tool_call>{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}</tool_call>', calls: [weather] },
  { name: 'no arguments key', text: '<tool_call>{"name": "get_time"}</tool_call>', calls: [{ name: 'get_time', arguments: {} }] },
  { name: '<tools> wrapper', text: '<tools>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tools>', calls: [weather] },
  { name: '<function_call> wrapper without closer', text: 'Sure.<function_call>{"name": "get_weather", "arguments": {"city": "Paris"}}', content: 'Sure.', calls: [weather] },
  { name: '<response> and <json> wrappers', text: '<response>{"name": "get_time", "arguments": {}}</response><json>{"name": "get_weather", "arguments": {"city": "Paris"}}</json>', calls: [{ name: 'get_time', arguments: {} }, weather] },
  { name: 'fenced body', text: '<tool_call>\n```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```\n</tool_call>', calls: [weather] },
  { name: 'function tag', text: 'Checking.\n<function=get_weather>{"city": "Paris"}</function>', content: 'Checking.', calls: [weather] },
  { name: 'function tag with name attribute', text: '<function name="get_weather">\n{"city": "Paris"}\n</function>', calls: [weather] },
  { name: 'function tag inside tool_call', text: '<tool_call>\n<function=get_weather>{"city": "Paris"}</function>\n</tool_call>', calls: [weather] },
  { name: 'case-insensitive name resolves to the declared one', text: '<tool_call>{"name": "Get_Weather", "arguments": {"city": "Paris"}}</tool_call>', calls: [weather] },
  { name: 'nested arguments', text: '<tool_call>{"name": "calculate", "arguments": {"expression": "a+b", "options": {"round": {"mode": "up"}}, "values": [[1, 2], {"x": []}]}}</tool_call>', calls: [{ name: 'calculate', arguments: { expression: 'a+b', options: { round: { mode: 'up' } }, values: [[1, 2], { x: [] }] } }] },
  { name: 'fence around the block goes with it', text: 'Calling:\n```xml\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n```\nDone.', content: 'Calling:\nDone.', calls: [weather] },
  { name: 'fenced block without closing fence', text: '```json\n<tool_call>{"name": "get_time", "arguments": {}}</tool_call>', calls: [{ name: 'get_time', arguments: {} }] },
  // Hard cases.
  { name: 'closing tag inside an argument string does not end the call', text: '<tool_call>{"name": "write_file", "arguments": {"path": "a.md", "content": "use </tool_call> and } and ]"}}</tool_call>', calls: [{ name: 'write_file', arguments: { path: 'a.md', content: 'use </tool_call> and } and ]' } }] },
  { name: 'complete body missing only the final close tag', text: 'Ok.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n', content: 'Ok.', calls: [weather] },
  { name: 'missing close tag, text follows', text: '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}} I will wait.', content: 'I will wait.', calls: [weather] },
  { name: 'missing close tag between parallel calls', text: '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}\n<tool_call>{"name": "get_time", "arguments": {}}</tool_call>', calls: [weather, { name: 'get_time', arguments: {} }] },
  { name: 'partial close tag at the end (cut off: removed with the call)', text: '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_c', calls: [weather] },
  { name: 'unicode and emoji in arguments', text: '<tool_call>{"name": "search", "arguments": {"query": "météo 東京 🌧️"}}</tool_call>', calls: [{ name: 'search', arguments: { query: 'météo 東京 🌧️' } }] },
  { name: 'call in reasoning that ends the reasoning is real', channel: 'reasoning', text: 'The user wants weather. I will call the tool.\n<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>\n', content: 'The user wants weather. I will call the tool.', calls: [weather] },
  { name: 'call drafted mid-reasoning is planning', channel: 'reasoning', text: 'Maybe <tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call> but first think more.' },
  { name: 'call ending the reasoning, then content: planning', channel: 'reasoning', text: 'Plan: <tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>', contentAfter: 'It is sunny.' },
  // Negative.
  { name: 'truncated call is released verbatim', text: 'Checking.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Par' },
  { name: 'undeclared tool stays content verbatim', text: 'x <tool_call>{"name": "delete_everything", "arguments": {}}</tool_call> y' },
  { name: 'undeclared function tag stays content', text: '<function=rm_rf>{"path": "/"}</function>' },
  { name: 'no tools declared: no detection', tools: [], text: '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>' },
  { name: 'extra keys make it data', text: '<tool_call>{"name": "get_weather", "arguments": {}, "confidence": 0.9}</tool_call>' },
  { name: 'prose mentioning the tag', text: 'Wrap calls in <tool_call> tags, like <tool_call>this</tool_call>.' },
  { name: 'near-marker prefixes', text: 'a <tool b <tool_ c <tool_cal d <function e <functio= f <tools g <json' },
  { name: 'invalid JSON body is verbatim', text: '<tool_call>{"name": "get_weather", "arguments": {city: Paris here}}</tool_call>' },
  { name: 'empty block', text: 'a<tool_call></tool_call>b' },
  { name: 'text ending in a marker prefix', text: 'see <tool_ca' },
  { name: 'ordinary code fence', text: 'Code:\n```python\nprint("<tool_call>")\n```\n' },
  { name: 'fence with other xml', text: '```xml\n<note>hi</note>\n```' },
  { name: 'xml parameters are not hermes', formats: ['hermes'], text: '<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>' },
]

runFormatCases('hermes', cases)
