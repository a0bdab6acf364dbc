// A small agent served as a model by queuegate: `npx queuegate --upstreams URL --agent ./examples/agent/agent.mjs`,
// then ask for the model `weather-agent` like any other. It plans with the model (which tool, if any),
// calls the tool through the gateway's tool registry, and answers with the result in hand. Each step
// it yields reaches the client as reasoning_content; what it returns is the answer.
//
// An agent gets { messages, signal, chat, tools }: `chat(request)` calls a model through the gateway's own
// queue as a batch job (people's chats go first), `tools` is the tool registry when tool servers are
// configured (--toolserver, --mcp), and `signal` aborts when the client goes away.

/** The model id the agent is listed under on /v1/models. */
export const id = 'weather-agent'

/** @param {import('queuegate').AgentContext} context */
export default async function* weatherAgent({ messages, chat, tools }) {
  const question = [...messages].reverse().find((message) => message.role === 'user')
  const definitions = tools?.definitions() ?? []
  yield definitions.length > 0 ? `planning with ${definitions.length} tool(s) at hand` : 'planning (no tools configured)'
  const plan = await chat({
    messages: [{ role: 'system', content: 'Decide whether a tool helps to answer. Call at most one.' }, ...messages],
    ...(definitions.length > 0 ? { tools: definitions } : {}),
  })
  const call = plan.choices[0]?.message.tool_calls?.[0]
  if (call === undefined || tools === undefined) {
    yield 'answering without a tool'
    return plan.choices[0]?.message.content ?? ''
  }
  let args = {}
  try {
    args = JSON.parse(call.function.arguments || '{}')
  } catch {
    // A call the model wrote badly: the registry reports the missing arguments to us as an error.
  }
  yield `calling ${call.function.name} ${JSON.stringify(args)}`
  const result = await tools.call(call.function.name, args)
  yield result.ok ? `${call.function.name} answered (${result.bytes} bytes)` : `${call.function.name} failed: ${result.error?.code}`
  const answer = await chat({
    messages: [
      ...messages,
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: result.content },
      ...(question === undefined ? [] : [{ role: 'user', content: 'Answer my question with that result.' }]),
    ],
  })
  return answer.choices[0]?.message.content ?? ''
}
