/**
 * The gateway over the demo's own simulated servers (`startDemo`, sped up): what `queuegate --demo`
 * is there to show works on them as on a real llama.cpp pair, through the official openai client.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { GatewayEvent } from 'queuegate'
import { DEMO_MODEL, DEMO_MODEL_B_ONLY, startDemo } from '../../src/demo/start-demo.js'
import type { Demo } from '../../src/demo/start-demo.js'
import { startQueuegate } from '../e2e/start-queuegate.js'
import type { TestGateway } from '../e2e/start-queuegate.js'

type RequestEnd = Extract<GatewayEvent, { type: 'request-end' }>
type JobStart = Extract<GatewayEvent, { type: 'job-start' }>

describe('the gateway over the demo servers', () => {
  let demo: Demo | undefined
  let gateway: TestGateway | undefined
  afterEach(async () => {
    await gateway?.close()
    await demo?.close()
    gateway = undefined
    demo = undefined
  })

  async function start(): Promise<TestGateway> {
    demo = await startDemo({ speed: 50 })
    gateway = await startQueuegate({ upstreams: demo.upstreams, discoverModels: true })
    return gateway
  }

  const ends = (events: GatewayEvent[]): RequestEnd[] => events.filter((event): event is RequestEnd => event.type === 'request-end')

  it("keeps a conversation on its server and slot, whose cache then serves the earlier turns' prompt", async () => {
    const { client, events, waitForEvent } = await start()
    const messages = [
      { role: 'system' as const, content: `You are the demo assistant number ${Math.random()}.`.repeat(20) },
      { role: 'user' as const, content: 'What does the queue do?' },
    ]
    const first = await client.chat.completions.create({ model: DEMO_MODEL, messages, max_tokens: 8 })
    const answer = first.choices[0]?.message.content ?? ''
    expect(answer.split(' ')).toHaveLength(8)
    await waitForEvent((event) => event.type === 'request-end')
    const second = await client.chat.completions.create({ model: DEMO_MODEL, messages: [...messages, { role: 'assistant', content: answer }, { role: 'user', content: 'And sticky routing?' }], max_tokens: 8, stream: false })
    expect(second.choices[0]?.finish_reason).toBe('length')
    await waitForEvent((event) => ends(events).length === 2 && event.type === 'request-end')
    const [one, two] = ends(events) as [RequestEnd, RequestEnd]
    expect(two.upstream).toBe(one.upstream)
    expect(two.slot).toBe(one.slot)
    const starts = events.filter((event): event is JobStart => event.type === 'job-start')
    expect(starts[1]?.route).toMatchObject({ sticky: 'kept', slotReused: true })
    // The second prompt starts with the first: the slot's cache served that part (llama.cpp's timings.cache_n).
    expect(two.cachedTokens).toBeGreaterThan(0)
    expect(two.promptTokens).toBeGreaterThan(two.cachedTokens!)
  })

  it('sends the model only one server has to that server, and lists both models', async () => {
    const { client, events, waitForEvent } = await start()
    const listed = await client.models.list()
    expect(listed.data.map((model) => model.id).sort()).toEqual([DEMO_MODEL, DEMO_MODEL_B_ONLY].sort())
    await Promise.all(Array.from({ length: 4 }, (_, i) => client.chat.completions.create({ model: DEMO_MODEL_B_ONLY, messages: [{ role: 'user', content: `question ${i}` }], max_tokens: 4 })))
    await waitForEvent(() => ends(events).length === 4)
    expect(ends(events).map((event) => event.upstream)).toEqual(['sim-gpu-b', 'sim-gpu-b', 'sim-gpu-b', 'sim-gpu-b'])
  })

  it('hands the client proper tool calls from the server that writes every other one as text', async () => {
    const { client, events, waitForEvent } = await start()
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }]
    for (const stream of [true, false]) {
      for (let i = 0; i < 2; i++) {
        const messages = [{ role: 'user' as const, content: `Weather in Paris? (${String(stream)} ${i})` }]
        let calls: Array<{ name: string; arguments: string }>
        let finish: string | null | undefined
        let content = ''
        if (stream) {
          const chunks = await client.chat.completions.create({ model: DEMO_MODEL_B_ONLY, messages, tools, stream: true })
          const byIndex = new Map<number, { name: string; arguments: string }>()
          for await (const chunk of chunks) {
            const choice = chunk.choices[0]
            content += choice?.delta.content ?? ''
            finish = choice?.finish_reason ?? finish
            for (const call of choice?.delta.tool_calls ?? []) {
              const seen = byIndex.get(call.index) ?? { name: '', arguments: '' }
              seen.name += call.function?.name ?? ''
              seen.arguments += call.function?.arguments ?? ''
              byIndex.set(call.index, seen)
            }
          }
          calls = [...byIndex.values()]
        } else {
          const answer = await client.chat.completions.create({ model: DEMO_MODEL_B_ONLY, messages, tools })
          finish = answer.choices[0]?.finish_reason
          content = answer.choices[0]?.message.content ?? ''
          calls = (answer.choices[0]?.message.tool_calls ?? []).map((call) => (call.type === 'function' ? call.function : { name: '', arguments: '' }))
        }
        expect(finish).toBe('tool_calls')
        expect(content).not.toContain('<tool_call>')
        expect(calls).toHaveLength(1)
        expect(calls[0]?.name).toBe('get_weather')
        expect(JSON.parse(calls[0]?.arguments ?? '')).toEqual({ city: 'Paris' })
      }
    }
    // Half of them were written as text and recovered.
    await waitForEvent(() => ends(events).length === 4)
    const recovered = events.filter((event) => event.type === 'tool-calls-recovered')
    expect(recovered).toHaveLength(2)
  })
})
