/**
 * `callModel`: the model-call seam a tool loop or an agent consumes (issue 8): several calls on one
 * lease, answers as completions or chunks through the plan's transforms, abort while queued.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ChatCompletionChunk } from 'queuegate'
import { callModel } from '../../src/gateway/call-model.js'
import { MessageAccumulator } from '../../src/openai/message-accumulator.js'
import { createCallPlan, runStages } from '../../src/gateway/call-plan.js'
import type { CallPlan } from '../../src/gateway/call-plan.js'
import { endpointFor } from '../../src/gateway/endpoints.js'
import { createGatewayServices } from '../../src/gateway/gateway-services.js'
import type { GatewayServices } from '../../src/gateway/gateway-services.js'
import type { GatewayOptions } from '../../src/gateway/gateway-options.js'
import { startFakeUpstream } from '../e2e/fake-upstream.js'
import type { FakeUpstream, FakeUpstreamOptions } from '../e2e/fake-upstream.js'

let upstream: FakeUpstream | undefined
let services: GatewayServices | undefined

afterEach(async () => {
  services?.scheduler.close()
  services?.catalog.close()
  await Promise.all([...(services?.upstreams.values() ?? [])].map((item) => item.dispatcher.close()))
  await upstream?.close()
  services = undefined
  upstream = undefined
})

async function setup(fakeOptions: FakeUpstreamOptions = {}, options: Partial<GatewayOptions> = {}): Promise<GatewayServices> {
  upstream = await startFakeUpstream({ tokens: 3, ...fakeOptions })
  services = createGatewayServices({ upstreams: [{ url: upstream.url, slots: 1 }], discoverModels: false, ...options })
  return services
}

let ids = 0
/** A plan as the gateway builds it for a chat body (through the default stages). */
async function plan(body: Record<string, unknown>): Promise<CallPlan> {
  const text = JSON.stringify(body)
  const request = new Request('http://gateway.test/v1/chat/completions', { method: 'POST', body: text })
  const built = createCallPlan({ jobId: `job-${ids++}`, request, headers: request.headers, path: '/v1/chat/completions', endpoint: endpointFor('/v1/chat/completions')!, text, body, toolMode: 'passthrough' })
  await runStages(services!.stages, built)
  return built
}

const chatPaths = () => upstream!.requests.filter((request) => request.path === '/v1/chat/completions')

describe('callModel', () => {
  it('makes several calls on one lease (a tool loop): the second neither queues nor waits behind others', async () => {
    const { scheduler } = await setup()
    const first = await callModel(services!, await plan({ model: 'm', messages: [{ role: 'user', content: 'weather?' }] }))
    expect((await first.completion()).choices[0]?.message.content).toBe('tok0 tok1 tok2')
    // Another client's job waits for the one slot meanwhile.
    const other = scheduler.acquire({ id: 'other' })
    let otherStarted = false
    void other.then(() => (otherStarted = true))
    const second = await callModel(services!, await plan({ model: 'm', messages: [{ role: 'user', content: 'weather?' }, { role: 'assistant', content: 'x' }] }), { lease: first.lease })
    expect(second.lease).toBe(first.lease)
    await second.completion()
    expect(scheduler.snapshot()).toMatchObject({ running: 1, queued: 1 })
    expect(otherStarted).toBe(false)
    expect(chatPaths()).toHaveLength(2)
    second.lease.release()
    ;(await other).release()
    expect(scheduler.snapshot()).toMatchObject({ running: 0, queued: 0 })
  })

  it('streams chunks through the plan\'s transforms (a tool call written as text becomes tool_calls)', async () => {
    await setup({ chunks: [{ content: '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>' }] })
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]
    const answer = await callModel(services!, await plan({ model: 'm', stream: true, tools, messages: [{ role: 'user', content: 'weather?' }] }))
    const chunks: ChatCompletionChunk[] = []
    for await (const chunk of answer.chunks()) chunks.push(chunk)
    answer.lease.release()
    const merged = new MessageAccumulator()
    for (const chunk of chunks) merged.add(chunk)
    const calls = merged.message().tool_calls ?? []
    expect(calls).toHaveLength(1)
    expect(calls[0]?.function).toMatchObject({ name: 'get_weather' })
    expect(JSON.parse(calls[0]?.function.arguments ?? '')).toEqual({ city: 'Paris' })
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).not.toContain('<tool_call>')
    // The same answer assembled as a completion.
    const again = await callModel(services!, await plan({ model: 'm', stream: true, tools, messages: [{ role: 'user', content: 'weather?' }] }))
    const completion = await again.completion()
    again.lease.release()
    expect(completion.choices[0]?.message.tool_calls?.[0]?.function.name).toBe('get_weather')
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls')
  })

  it('a signal aborts the wait in the queue (no lease left behind)', async () => {
    const { scheduler } = await setup()
    const held = await scheduler.acquire({ id: 'holder' })
    const controller = new AbortController()
    const waiting = callModel(services!, await plan({ model: 'm', messages: [{ role: 'user', content: 'x' }] }), { signal: controller.signal })
    expect(scheduler.snapshot().queued).toBe(1)
    controller.abort()
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' })
    held.release()
    expect(scheduler.snapshot()).toMatchObject({ running: 0, queued: 0 })
    expect(chatPaths()).toHaveLength(0)
  })

  it('an upstream error rejects with the client-facing error and releases the lease it took', async () => {
    const { scheduler } = await setup({ failure: { kind: 'status', status: 500 } })
    await expect(callModel(services!, await plan({ model: 'm', messages: [{ role: 'user', content: 'x' }] }))).rejects.toMatchObject({ status: 502, code: 'upstream_error' })
    expect(scheduler.snapshot().running).toBe(0)
  })
})
