import { describe, expect, it } from 'vitest'
import { createReasoningTrigger, wholeAnswerCouldChange } from '../../src/reasoning/reasoning-trigger.js'

const encoder = new TextEncoder()
const delta = (fields: Record<string, unknown>, finish: string | null = null): string => JSON.stringify({ id: 'c', choices: [{ index: 0, delta: fields, finish_reason: finish }] })

/** What a fresh trigger says about each payload in turn (it keeps state across them). */
function answers(...payloads: string[]): boolean[] {
  const trigger = createReasoningTrigger()
  return payloads.map((payload) => trigger.passesUntil(encoder.encode(payload)))
}

describe('createReasoningTrigger', () => {
  it('lets plain content, role chunks and usage chunks pass', () => {
    expect(answers(delta({ role: 'assistant', content: '' }), delta({ content: 'Hello' }), delta({ content: ' world' }), delta({ reasoning_content: 'hm' }), '{"id":"c","choices":[],"usage":{"total_tokens":3}}')).toEqual([false, false, false, false, false])
  })

  it('fires on what could start a tag: < and &, raw or escaped as Go writes them', () => {
    for (const text of ['<think>', 'a < b', '&lt;think&gt;', 'AT&T']) expect(answers(delta({ content: text }))).toEqual([true])
    for (const escaped of ['\\u003cthink>', '\\u003Cthink>', 'AT\\u0026T', 'a\\u003e']) expect(answers(`{"choices":[{"index":0,"delta":{"content":"${escaped}"}}]}`)).toEqual([true])
    // Outside the content the transform reads no text: a tag in reasoning_content or the model name passes.
    expect(answers(delta({ reasoning_content: '<think>x' }), JSON.stringify({ model: 'a<b&c', choices: [{ index: 0, delta: { content: 'x' } }] }))).toEqual([false, false])
    // An escaped backslash followed by the letters u003c is text, not a `<`.
    expect(answers('{"choices":[{"index":0,"delta":{"content":"x\\\\u003c"}}]}')).toEqual([false])
  })

  it('fires on the fields it renames, however the key is written; reasoning_content alone passes', () => {
    expect(answers(delta({ reasoning: 'r' }))).toEqual([true])
    expect(answers(delta({ thinking: 't' }))).toEqual([true])
    expect(answers(delta({ reasoning: null, content: 'a' }))).toEqual([true])
    expect(answers('{"choices":[{"index":0,"delta":{"re\\u0061soning":"r"}}]}')).toEqual([true])
    expect(answers(delta({ reasoning_content: 'r', content: 'a' }))).toEqual([false])
  })

  it('fires on blank content until the reply is under way, then lets it pass', () => {
    expect(answers(delta({ content: '\n\n' }))).toEqual([true])
    expect(answers(delta({ content: ' ' }))).toEqual([true])
    expect(answers(delta({ content: '\u00a0' }))).toEqual([true])
    expect(answers(delta({ content: 'Hi' }), delta({ content: '\n\n' }), delta({ content: ' ' }))).toEqual([false, false, false])
    // Visible from the first byte: CJK, accented letters, escapes of a quote or a backslash.
    expect(answers(delta({ content: '中' }))).toEqual([false])
    expect(answers(delta({ content: 'é' }))).toEqual([false])
    expect(answers(delta({ content: '"' }))).toEqual([false])
  })

  it('reports where the transform stands when it fired: the reply under way, the choice finished', () => {
    const trigger = createReasoningTrigger()
    expect(trigger.resume).toEqual({ underway: [], finished: [] })
    expect(trigger.passesUntil(encoder.encode(delta({ content: 'Hi' })))).toBe(false)
    expect(trigger.resume).toEqual({ underway: [0], finished: [] })
    expect(trigger.passesUntil(encoder.encode(delta({}, 'stop')))).toBe(false)
    expect(trigger.passesUntil(encoder.encode(delta({ content: ' <think>' })))).toBe(true)
    expect(trigger.resume).toEqual({ underway: [0], finished: [0] })
  })

  it('fires on another choice index, or a content or finish it cannot place', () => {
    expect(answers(delta({}, 'stop'))).toEqual([false])
    expect(answers(delta({ content: ' ' }, 'stop'))).toEqual([true])
    expect(answers('{"choices":[{"delta":{},"finish_reason":"stop"}]}')).toEqual([true])
    expect(answers(delta({}, null))).toEqual([false])
    expect(answers('{"choices":[{"index":1,"delta":{"content":"a"}}]}')).toEqual([true])
    expect(answers('{"choices":[{"index":10,"delta":{"content":"a"}}]}')).toEqual([true])
    expect(answers('{"choices":[{"delta":{"content":"a"}}]}')).toEqual([true])
    expect(answers('{"choices":[{"index":0,"delta":{"content":"a"}},{"index":0,"delta":{"content":"b"}}]}')).toEqual([true])
  })

  it('reads JSON written with spaces', () => {
    expect(answers('{"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": null}]}', '{"choices": [{"index": 0, "delta": {"content": " "}, "finish_reason": null}]}')).toEqual([false, false])
    expect(answers('{"choices": [{"index": 0, "delta": {"content": " "}, "finish_reason": "stop"}]}')).toEqual([true])
  })
})

describe('createReasoningTrigger: events read again from the last one (same head and tail)', () => {
  const vllm = (content: string, finish = 'null'): string => `{"id":"c-1","object":"chat.completion.chunk","created":17,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":${finish}}]}`
  const llama = (content: string, created = 17): string => `{"choices":[{"finish_reason":null,"index":0,"delta":{"content":${JSON.stringify(content)}}}],"created":${created},"id":"c-1","model":"m","object":"chat.completion.chunk"}`

  it('decides each event as a fresh read would, whatever came before', () => {
    const events = [vllm('Hi'), vllm(' there'), vllm(' a<b'), vllm(' x')]
    expect(answers(...events)).toEqual([false, false, true, false])
    expect(answers(vllm('Hi'), vllm(' <').replace('<', '\\u003c'))).toEqual([false, true])
    expect(answers(vllm('Hi'), vllm(' \\u003c'))).toEqual([false, false])
    expect(answers(vllm('Hi'), vllm('AT&T'))).toEqual([false, true])
    expect(answers(llama('Hi'), llama(' you'), llama(' too', 18), llama(' <think>', 18))).toEqual([false, false, false, true])
  })

  it('reads in full an event whose head or tail differs', () => {
    expect(answers(vllm('Hi'), vllm(' x').replace('"index":0', '"index":1'))).toEqual([false, true])
    expect(answers(vllm('Hi'), vllm('', '"stop"'))).toEqual([false, false])
    expect(answers(vllm('Hi'), vllm('ok').replace('"finish_reason"', '"reasoning":"r","finish_reason"'))).toEqual([false, true])
    expect(answers(vllm('Hi'), `${vllm('ok').slice(0, -1)},"choices":null}`)).toEqual([false, true])
  })

  it('holds blank text at the start as a fresh read does (it could open a block)', () => {
    expect(answers(vllm(' '), vllm('\n'))).toEqual([true, true])
    expect(answers(vllm('a'), vllm(' '), vllm('\n'))).toEqual([false, false, false])
  })

  it('fires on a payload that is not a chunk with a top-level choices array', () => {
    expect(answers('{"error":{"message":"x"}}', '{"id":"c"}', '{"x":{"choices":[]}}', '{"choices":{}}', '[1]', '{"choices":"a"}')).toEqual([true, true, true, true, true, true])
    expect(answers('{"x":{"choices":1},"choices":[]}')).toEqual([false])
  })
})

describe('wholeAnswerCouldChange', () => {
  const whole = (message: Record<string, unknown>): Uint8Array => encoder.encode(JSON.stringify({ id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: 'stop' }] }))
  it('says no for tag-free answers and upstream reasoning_content', () => {
    expect(wholeAnswerCouldChange(whole({ content: 'Plain answer, "quoted" \\ text.' }))).toBe(false)
    expect(wholeAnswerCouldChange(whole({ content: 'ok', reasoning_content: 'hm' }))).toBe(false)
  })
  it('says yes for tags, escapes of printable characters, and fields to rename', () => {
    for (const message of [{ content: '<think>a</think>b' }, { content: 'a</think>b' }, { content: 'AT&T' }, { content: 'ok', reasoning: 'r' }, { content: 'ok', thinking: null }]) expect(wholeAnswerCouldChange(whole(message))).toBe(true)
    expect(wholeAnswerCouldChange(encoder.encode('{"choices":[{"message":{"content":"\\u003cthink>x"}}]}'))).toBe(true)
    expect(wholeAnswerCouldChange(encoder.encode('{"choices":[{"message":{"content":"ok","re\\u0061soning":"r"}}]}'))).toBe(true)
  })
})
