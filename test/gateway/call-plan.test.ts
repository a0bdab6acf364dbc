/**
 * The call plan's stages (issue 8): order, sync fast path, a stage's error answers the client, and
 * answer hooks that receive the finished message (the seam memory plugs into).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { addAnswerHook, createCallPlan, isPassThrough, runStages } from '../../src/gateway/call-plan.js'
import type { AssistantMessage } from '../../src/openai/message-accumulator.js'
import type { CallPlan, CallStage } from '../../src/gateway/call-plan.js'
import { endpointFor } from '../../src/gateway/endpoints.js'
import { InvalidRequestError } from '../../src/errors.js'
import { startFakeUpstream } from '../e2e/fake-upstream.js'
import type { FakeUpstream } from '../e2e/fake-upstream.js'
import { startQueuegate } from '../e2e/start-queuegate.js'
import type { TestGateway } from '../e2e/start-queuegate.js'

function bare(): CallPlan {
  const request = new Request('http://x/v1/chat/completions', { method: 'POST', body: '{}' })
  return createCallPlan({ jobId: 'j', request, headers: request.headers, path: '/v1/chat/completions', endpoint: endpointFor('/v1/chat/completions')!, text: '{}', body: {}, toolMode: 'passthrough' })
}

describe('runStages', () => {
  it('runs stages in order and stays synchronous while every stage is', () => {
    const seen: string[] = []
    const stage = (name: string): CallStage => ({ name, prepare: () => void seen.push(name) })
    expect(runStages([stage('a'), stage('b'), stage('c')], bare())).toBeUndefined()
    expect(seen).toEqual(['a', 'b', 'c'])
  })

  it('continues in order after an asynchronous stage, and passes its rejection on', async () => {
    const seen: string[] = []
    const plan = bare()
    const stages: CallStage[] = [
      { name: 'a', prepare: () => void seen.push('a') },
      { name: 'slow', prepare: () => new Promise<void>((resolve) => setTimeout(() => (seen.push('slow'), resolve()), 5)) },
      { name: 'c', prepare: (p) => void (seen.push('c'), (p.model = 'set-by-c')) },
    ]
    await runStages(stages, plan)
    expect(seen).toEqual(['a', 'slow', 'c'])
    expect(plan.model).toBe('set-by-c')
    const failing: CallStage[] = [{ name: 'x', prepare: async () => Promise.reject(new InvalidRequestError('no')) }, { name: 'never', prepare: () => void seen.push('never') }]
    await expect(runStages(failing, bare())).rejects.toThrow('no')
    expect(seen).not.toContain('never')
  })

  it('a plan with no transforms and no hooks takes the byte path', () => {
    const plan = bare()
    expect(isPassThrough(plan)).toBe(true)
    addAnswerHook(plan, () => {})
    expect(isPassThrough(plan)).toBe(false)
  })
})

describe('stages and answer hooks through the gateway', () => {
  let upstream: FakeUpstream | undefined
  let gateway: TestGateway | undefined
  afterEach(async () => {
    await gateway?.close()
    await upstream?.close()
    gateway = undefined
    upstream = undefined
  })

  it('a stage may rewrite the body and add a hook that receives the finished message, streamed or not', async () => {
    upstream = await startFakeUpstream({ tokens: 3 })
    const messages: AssistantMessage[] = []
    const noteStage: CallStage = {
      name: 'note',
      prepare(plan) {
        plan.body = { ...plan.body, messages: [{ role: 'system', content: 'remember: blue' }, ...(plan.body.messages as unknown[])] }
        plan.bodyChanged = true
        addAnswerHook(plan, (message) => void messages.push(message))
      },
    }
    gateway = await startQueuegate({ upstreams: [upstream.url], _internal: { stages: (defaults) => [...defaults, noteStage] } })
    const whole = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
    expect(whole.choices[0]?.message.content).toBe('tok0 tok1 tok2')
    const stream = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe('tok0 tok1 tok2')
    await gateway.waitForEvent((event) => event.type === 'request-end' && event.stream)
    await expect.poll(() => messages.length).toBe(2)
    expect(messages.map((message) => [message.content, message.finish_reason])).toEqual([
      ['tok0 tok1 tok2', 'stop'],
      ['tok0 tok1 tok2', 'stop'],
    ])
    const sent = upstream.requests.filter((request) => request.path === '/v1/chat/completions').map((request) => (request.body as { messages: Array<{ content: string }> }).messages[0]?.content)
    expect(sent).toEqual(['remember: blue', 'remember: blue'])
  })

  it('a failing hook is reported and never reaches the client; a stage that throws answers with its error', async () => {
    upstream = await startFakeUpstream({ tokens: 2 })
    const stages: CallStage[] = [
      { name: 'hook', prepare: (plan) => addAnswerHook(plan, () => Promise.reject(new Error('store down'))) },
      { name: 'guard', prepare: (plan) => { if (plan.headers.get('x-deny') !== null) throw new InvalidRequestError('denied by a stage', { code: 'denied' }) } },
    ]
    gateway = await startQueuegate({ upstreams: [upstream.url], _internal: { stages: (defaults) => [...defaults, ...stages] } })
    const answer = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
    expect(answer.choices[0]?.message.content).toBe('tok0 tok1')
    const failure = await gateway.waitForEvent((event) => event.type === 'answer-hook-error')
    expect(failure).toMatchObject({ message: 'store down' })
    const denied = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-deny': '1' } }).catch((error: unknown) => error)
    expect(denied).toMatchObject({ status: 400, code: 'denied' })
  })
})
