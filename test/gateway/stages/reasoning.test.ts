import { describe, expect, it } from 'vitest'
import { addAnswerHook, answerGates, createCallPlan, isPassThrough, passesWhole } from '../../../src/gateway/call-plan.js'
import type { CallPlan } from '../../../src/gateway/call-plan.js'
import { endpointFor } from '../../../src/gateway/endpoints.js'
import { resolveGatewayOptions } from '../../../src/gateway/resolve-gateway-options.js'
import type { GatewayOptions } from '../../../src/gateway/gateway-options.js'
import { createReasoningStage, createStartMemory, startKey } from '../../../src/gateway/stages/reasoning.js'
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
    void createReasoningStage({ reasoning: 'split', forwardReasoning: true, reasoningStartWindow: 64 }).prepare(windowed)
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

  it('replies that start inside: on takes the chunk path (no gate) and reads the start as reasoning; off and keep do not', () => {
    const inside = prepared({ reasoningStartsInThink: true })
    expect(inside.transforms).toHaveLength(1)
    expect(answerGates(inside)).toBeUndefined()
    expect(passesWhole(inside, new TextEncoder().encode('{"choices":[]}'))).toBe(false)
    const out: ChatCompletionChunk[] = []
    const stream = inside.transforms[0]!.stream((chunk) => out.push(chunk))
    const chunk = (content: string): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })
    for (const piece of ['hm', 'm</th', 'ink>\n\nYes']) stream.feed(chunk(piece))
    stream.flush()
    expect(out.map((c) => c.choices[0]?.delta)).toEqual([{ reasoning_content: 'hm' }, { reasoning_content: 'm' }, { content: 'Yes' }])
    expect(answerGates(prepared({ reasoningStartsInThink: false }))).toHaveLength(1)
    expect(isPassThrough(prepared({ reasoning: 'keep', reasoningStartsInThink: true }))).toBe(true)
  })

  it('the start memory is bounded (the oldest learnt goes first), and keyed by model and thinking switches', () => {
    const memory = createStartMemory(3)
    for (const key of ['a', 'b', 'c', 'a', 'd']) memory.learn(key)
    expect(['a', 'b', 'c', 'd'].map((key) => memory.has(key))).toEqual([true, false, true, true])
    memory.forget('a')
    expect([memory.has('a'), memory.size]).toEqual([false, 2])
    const base = { upstreamModel: 'qwq', model: 'qwq', body: { messages: [{ role: 'user', content: 'hi' }] } as Record<string, unknown> }
    const key = startKey(base)
    expect(startKey({ ...base, body: { ...base.body, temperature: 0.3, stream: true } })).toBe(key)
    expect(startKey({ ...base, upstreamModel: 'other' })).not.toBe(key)
    expect(startKey({ ...base, body: { ...base.body, chat_template_kwargs: { enable_thinking: false } } })).not.toBe(key)
    expect(startKey({ ...base, body: { ...base.body, reasoning_effort: 'low' } })).not.toBe(key)
    const soft = (text: string): string => startKey({ ...base, body: { messages: [{ role: 'user', content: 'old /no_think' }, { role: 'assistant', content: 'x' }, { role: 'user', content: text }] } })
    expect(soft('hi')).toBe(key)
    expect(soft('hi /nothink')).toBe(soft('hi /no_think'))
    expect(soft('hi /no_think')).not.toBe(key)
    expect(soft('hi /think')).not.toBe(soft('hi /no_think'))
    expect(startKey({ ...base, body: { messages: [{ role: 'user', content: [{ type: 'text', text: 'a /no_think' }] }] } })).toBe(soft('x /no_think'))
  })

  it('the options are checked', () => {
    expect(() => resolveGatewayOptions({ upstreams: ['http://u'], reasoningStartsInThink: 'yes' as never })).toThrow(/reasoningStartsInThink: expected "auto", true or false, got "yes"/)
    expect(() => resolveGatewayOptions({ upstreams: ['http://u'], reasoningStartWindow: 1.5 })).toThrow(/reasoningStartWindow: expected a whole number of characters >= 0, got 1.5/)
    expect(resolveGatewayOptions({ upstreams: ['http://u'] })).toMatchObject({ reasoningStartsInThink: 'auto', reasoningStartWindow: 0 })
    expect(() => resolveGatewayOptions({ upstreams: ['http://u'], reasoning: 'on' as never })).toThrow(/reasoning: expected one of split, strip, keep, got "on"/)
    expect(() => resolveGatewayOptions({ upstreams: ['http://u'], forwardReasoning: 'yes' as never })).toThrow(/forwardReasoning: expected true or false, got "yes"/)
    expect(resolveGatewayOptions({ upstreams: ['http://u'] })).toMatchObject({ reasoning: 'split', forwardReasoning: true })
  })
})
