import { describe, expect, it } from 'vitest'
import { addAnswerHook, answerGates, createCallPlan, isPassThrough, passesWhole } from '../../../src/gateway/call-plan.js'
import type { CallPlan } from '../../../src/gateway/call-plan.js'
import { endpointFor } from '../../../src/gateway/endpoints.js'
import { resolveGatewayOptions } from '../../../src/gateway/gateway-options.js'
import type { GatewayOptions } from '../../../src/gateway/gateway-options.js'
import { createReasoningStage } from '../../../src/gateway/stages/reasoning.js'
import type { ChatCompletion, ChatCompletionChunk } from '../../../src/openai/types.js'

function plan(path = '/v1/chat/completions'): CallPlan {
  const request = new Request(`http://x${path}`, { method: 'POST', body: '{}' })
  return createCallPlan({ jobId: 'j', request, headers: request.headers, path, endpoint: endpointFor(path)!, text: '{}', body: { messages: [] }, toolMode: 'passthrough' })
}

function prepared(options: Partial<GatewayOptions>, path?: string): CallPlan {
  const resolved = resolveGatewayOptions({ upstreams: ['http://u'], ...options })
  const p = plan(path)
  void createReasoningStage(resolved).prepare(p)
  return p
}

describe('the reasoning stage', () => {
  it('adds the split by default, on chat endpoints only; keep adds nothing', () => {
    expect(prepared({}).transforms).toHaveLength(1)
    expect(answerGates(prepared({}))).toHaveLength(1)
    expect(isPassThrough(prepared({}, '/v1/embeddings'))).toBe(true)
    expect(prepared({ reasoning: 'split' }).transforms).toHaveLength(1)
    expect(prepared({ reasoning: 'split' }, '/v1/agent/chat/completions').transforms).toHaveLength(1)
    expect(isPassThrough(prepared({ reasoning: 'split' }, '/v1/embeddings'))).toBe(true)
  })

  it('keep with forwarding on adds nothing (the fast path stays); keep with forwarding off drops reasoning fields', () => {
    expect(isPassThrough(prepared({ reasoning: 'keep' }))).toBe(true)
    const dropping = prepared({ reasoning: 'keep', forwardReasoning: false }).transforms[0]!
    const out: ChatCompletionChunk[] = []
    const stream = dropping.stream((chunk) => out.push(chunk))
    stream.feed({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { reasoning: 'r', content: '<think>k</think>' }, finish_reason: null }] })
    stream.flush()
    expect(out.map((chunk) => chunk.choices[0]?.delta)).toEqual([{ content: '<think>k</think>' }])
  })

  it('split and strip are gated (a stream starts on the byte path); forwarding off, a start window or a hook take the chunk path', () => {
    expect(answerGates(prepared({ reasoning: 'split' }))).toHaveLength(1)
    expect(answerGates(prepared({ reasoning: 'strip' }))).toHaveLength(1)
    expect(answerGates(prepared({ reasoning: 'split', forwardReasoning: false }))).toBeUndefined()
    expect(answerGates(prepared({ reasoning: 'keep', forwardReasoning: false }))).toBeUndefined()
    const windowed = plan()
    void createReasoningStage({ reasoning: 'split', forwardReasoning: true, startWindow: 64 }).prepare(windowed)
    expect(answerGates(windowed)).toBeUndefined()
    const hooked = prepared({ reasoning: 'split' })
    addAnswerHook(hooked, () => {})
    expect(answerGates(hooked)).toBeUndefined()
    // The whole (non-streamed) answer goes through the transform unless its bytes hold nothing to change.
    const split = prepared({ reasoning: 'split' })
    expect(isPassThrough(split)).toBe(false)
    const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
    expect(passesWhole(split, bytes('{"choices":[{"index":0,"message":{"role":"assistant","content":"plain"}}]}'))).toBe(true)
    expect(passesWhole(split, bytes('{"choices":[{"index":0,"message":{"role":"assistant","content":"a</think>b"}}]}'))).toBe(false)
    expect(passesWhole(split, bytes('{"choices":[{"index":0,"message":{"role":"assistant","content":"a","reasoning":"r"}}]}'))).toBe(false)
    expect(passesWhole(prepared({ reasoning: 'split', forwardReasoning: false }), bytes('{"choices":[]}'))).toBe(false)
    expect(passesWhole(hooked, bytes('{"choices":[]}'))).toBe(false)
  })

  it('strip removes blocks from a whole completion', () => {
    const transform = prepared({ reasoning: 'strip' }).transforms[0]!
    const completion: ChatCompletion = { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: '<think>x</think>Y' }, finish_reason: 'stop' }] }
    expect(transform.completion(completion).choices[0]?.message).toEqual({ role: 'assistant', content: 'Y' })
  })

  it('the options are checked', () => {
    expect(() => resolveGatewayOptions({ upstreams: ['http://u'], reasoning: 'on' as never })).toThrow(/reasoning: expected one of split, strip, keep, got "on"/)
    expect(() => resolveGatewayOptions({ upstreams: ['http://u'], forwardReasoning: 'yes' as never })).toThrow(/forwardReasoning: expected true or false, got "yes"/)
    expect(resolveGatewayOptions({ upstreams: ['http://u'] })).toMatchObject({ reasoning: 'split', forwardReasoning: true })
  })
})
