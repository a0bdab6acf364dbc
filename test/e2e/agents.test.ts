/**
 * Agents as models (issue 11): an agent served under its own model id, through the official
 * client, streamed and not; its model calls go through the gateway's queue as batch jobs; the
 * client's abort reaches its signal and its model calls; failures are OpenAI errors.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { APIError } from 'openai'
import type { Agent, GatewayOptions } from 'queuegate'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream, FakeUpstreamOptions } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import { withTimeout } from '../helpers/with-timeout.js'

const ask = (model: string, content = 'What is the plan?') => ({ model, messages: [{ role: 'user' as const, content }] })

/** Plans with the model, then answers with what it said. */
const planner: Agent = async function* ({ messages, chat }) {
  yield 'asking the model'
  const answer = await chat({ model: 'fake-model', messages: [{ role: 'system', content: 'You plan.' }, ...messages] })
  yield 'got a plan'
  return `plan: ${answer.choices[0]?.message.content ?? ''}`
}

describe('agents as models', () => {
  let upstream: FakeUpstream | undefined
  let gateway: TestGateway | undefined
  afterEach(async () => {
    await gateway?.close()
    await upstream?.close()
    gateway = undefined
    upstream = undefined
  })

  async function setup(agents: Record<string, Agent>, fake: FakeUpstreamOptions = { tokens: 3 }, options: Partial<GatewayOptions> = {}): Promise<TestGateway> {
    upstream = await startFakeUpstream(fake)
    gateway = await startQueuegate({ upstreams: [upstream.url + '/v1'], agents, ...options })
    return gateway
  }

  it('answers non-stream: the steps in reasoning_content, the returned answer as content, the usage of its calls', async () => {
    await setup({ planner })
    const completion = await gateway!.client.chat.completions.create(ask('planner'))
    const message = completion.choices[0]?.message as { content: string; reasoning_content?: string }
    expect(message.content).toBe('plan: tok0 tok1 tok2')
    expect(message.reasoning_content).toBe('asking the model\ngot a plan\n')
    expect(completion.model).toBe('planner')
    expect(completion.choices[0]?.finish_reason).toBe('stop')
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0)
    // The model call the agent made, as the upstream received it.
    const calls = upstream!.requests.filter((request) => request.path.endsWith('/chat/completions'))
    expect(calls).toHaveLength(1)
    expect(calls[0]?.body).toMatchObject({ model: 'fake-model', stream: false, messages: [{ role: 'system', content: 'You plan.' }, { role: 'user', content: 'What is the plan?' }] })
  })

  it('streams the steps as reasoning_content before the answer', async () => {
    await setup({ planner })
    const parts: Array<['reasoning' | 'content', string]> = []
    let finish: string | null | undefined
    for await (const chunk of await gateway!.client.chat.completions.create({ ...ask('planner'), stream: true })) {
      const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined
      if (delta?.reasoning_content) parts.push(['reasoning', delta.reasoning_content])
      if (delta?.content) parts.push(['content', delta.content])
      finish = chunk.choices[0]?.finish_reason ?? finish
      expect(chunk.model).toBe('planner')
    }
    expect(parts).toEqual([
      ['reasoning', 'asking the model\n'],
      ['reasoning', 'got a plan\n'],
      ['content', 'plan: tok0 tok1 tok2'],
    ])
    expect(finish).toBe('stop')
  })

  it('is listed on /v1/models, and a plain function works as an agent', async () => {
    await setup({ planner, echo: ({ messages }) => `echo: ${String(messages.at(-1)?.content)}` }, { tokens: 1 }, { models: ['fake-model'] })
    const models = await gateway!.client.models.list()
    expect(models.data.map((model) => model.id)).toEqual(['fake-model', 'planner', 'echo'])
    const completion = await gateway!.client.chat.completions.create(ask('echo', 'hello'))
    expect(completion.choices[0]?.message.content).toBe('echo: hello')
    // No model call at all.
    expect(upstream!.requests.filter((request) => request.path.endsWith('/chat/completions'))).toHaveLength(0)
  })

  it("runs its model calls as batch jobs: a person's chat that arrives later goes first", async () => {
    // One slot, busy: the agent's call and a later interactive chat both wait for it.
    await setup({ planner }, { tokens: 2, tokenDelayMs: 40 })
    const busy = gateway!.client.chat.completions.create(ask('fake-model', 'first'))
    await upstream!.waitFor((fake) => fake.active === 1)
    const agent = gateway!.client.chat.completions.create(ask('planner'))
    await withTimeout(waitUntil(() => gateway!.gateway.scheduler.snapshot().queued === 1), 5000, 'the agent call queued')
    const person = gateway!.client.chat.completions.create(ask('fake-model', 'person'))
    await Promise.all([busy, agent, person])
    const order = [...upstream!.requests]
      .filter((request) => request.startOrder !== undefined)
      .sort((a, b) => (a.startOrder ?? 0) - (b.startOrder ?? 0))
      .map((request) => ((request.body as { messages: Array<{ content: string }> }).messages.at(-1)?.content ?? '?'))
    expect(order).toEqual(['first', 'person', 'What is the plan?'])
  })

  it("the client's abort reaches the agent's signal and aborts the model call it is waiting on", async () => {
    let sawAbort = false
    const waiter: Agent = async function* ({ messages, chat, signal }) {
      signal.addEventListener('abort', () => {
        sawAbort = true
      })
      yield 'calling a slow model'
      const answer = await chat({ model: 'fake-model', messages: [...messages] })
      return answer.choices[0]?.message.content ?? ''
    }
    await setup({ waiter }, { failure: { kind: 'hang' } })
    const controller = new AbortController()
    const stream = await gateway!.client.chat.completions.create({ ...ask('waiter'), stream: true }, { signal: controller.signal })
    const reading = (async () => {
      for await (const chunk of stream) {
        if ((chunk.choices[0]?.delta as { reasoning_content?: string }).reasoning_content !== undefined) break
      }
    })()
    await upstream!.waitFor((fake) => fake.active === 1)
    await reading
    controller.abort()
    await upstream!.waitFor((fake) => fake.requests.some((request) => request.closedByClient), 5000)
    await withTimeout(waitUntil(() => sawAbort), 5000, 'the agent saw the abort')
    // Its slot is free again: the next request runs.
    upstream!.setOptions({ failure: undefined, tokens: 1 })
    const next = await gateway!.client.chat.completions.create(ask('fake-model'))
    expect(next.choices[0]?.message.content).toBe('tok0')
  })

  it('an agent that throws is a 500 agent_error; one whose upstream is down is a 503', async () => {
    const broken: Agent = async function* () {
      yield 'about to fail'
      throw new Error('the plan fell through')
    }
    await setup({ broken, planner }, { failure: { kind: 'status', status: 503 } })
    const error = await gateway!.client.chat.completions.create(ask('broken')).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(APIError)
    expect((error as APIError).status).toBe(500)
    expect((error as APIError).code).toBe('agent_error')
    expect((error as APIError).message).toContain('the plan fell through')
    const unavailable = await gateway!.client.chat.completions.create(ask('planner')).catch((caught: unknown) => caught)
    expect((unavailable as APIError).status).toBe(503)
    expect((unavailable as APIError).code).toBe('agent_upstream_unavailable')
  })

  it('a failure after the stream started is the SSE error event', async () => {
    const late: Agent = async function* () {
      yield 'working'
      throw new Error('lost the thread')
    }
    await setup({ late })
    const stream = await gateway!.client.chat.completions.create({ ...ask('late'), stream: true })
    const error = await (async () => {
      for await (const chunk of stream) void chunk
    })().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(APIError)
    expect((error as APIError).message).toContain('lost the thread')
  })

  it('an agent cannot call an agent through chat()', async () => {
    const loop: Agent = async ({ chat }) => {
      const answer = await chat({ model: 'loop', messages: [{ role: 'user', content: 'again' }] })
      return answer.choices[0]?.message.content ?? ''
    }
    await setup({ loop })
    const error = await gateway!.client.chat.completions.create(ask('loop')).catch((caught: unknown) => caught)
    expect((error as APIError).status).toBe(500)
    expect((error as APIError).message).toContain('an agent calls models, not agents')
  })

  it('rejects bad agent options at start', async () => {
    upstream = await startFakeUpstream()
    await expect(startQueuegate({ upstreams: [upstream.url], agents: { x: 'not a function' as unknown as Agent } })).rejects.toThrow(/agents: "x" is not a function/)
    await expect(startQueuegate({ upstreams: [upstream.url], agents: { v: planner }, variants: [{ id: 'v', model: 'fake-model' }] })).rejects.toThrow(/also a variant's id/)
  })
})

async function waitUntil(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  if (!predicate()) throw new Error('condition not reached')
}
