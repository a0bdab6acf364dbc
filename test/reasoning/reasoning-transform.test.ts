import { describe, expect, it } from 'vitest'
import { createReasoningChunkTransform, splitReasoningInCompletion } from '../../src/reasoning/reasoning-transform.js'
import type { ReasoningOptions } from '../../src/reasoning/reasoning-transform.js'
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionDelta } from '../../src/openai/types.js'
import { seededRandom } from '../helpers/seeded-random.js'

function chunk(delta: ChatCompletionDelta, finish: string | null = null): ChatCompletionChunk {
  return { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] }
}

function transform(chunks: ChatCompletionChunk[], options: ReasoningOptions = {}): ChatCompletionChunk[] {
  const out: ChatCompletionChunk[] = []
  const frozen = chunks.map((item) => structuredClone(item))
  const t = createReasoningChunkTransform({ ...options, onChunk: (item) => out.push(item) })
  for (const item of chunks) t.feed(item)
  t.flush()
  // The contract: no received chunk was changed.
  expect(chunks).toEqual(frozen)
  return out
}

function merged(chunks: ChatCompletionChunk[]): { content: string; reasoning: string; finish: string | null | undefined; other: string[] } {
  const result = { content: '', reasoning: '', finish: undefined as string | null | undefined, other: [] as string[] }
  for (const item of chunks) {
    for (const choice of item.choices) {
      const delta = choice.delta
      result.content += delta.content ?? ''
      result.reasoning += delta.reasoning_content ?? ''
      for (const key of Object.keys(delta)) if (key !== 'content' && key !== 'reasoning_content' && key !== 'role') result.other.push(key)
      if (choice.finish_reason) result.finish = choice.finish_reason
    }
  }
  return result
}

/** The text as content chunks split at seeded random points, with a role chunk before and a finish chunk after. */
function streamOf(text: string, seed: number): ChatCompletionChunk[] {
  const random = seededRandom(seed)
  const chunks = [chunk({ role: 'assistant', content: '' })]
  let at = 0
  while (at < text.length) {
    const length = 1 + Math.floor(random() * 6)
    chunks.push(chunk({ content: text.slice(at, at + length) }))
    at += length
  }
  chunks.push(chunk({}, 'stop'))
  return chunks
}

describe('createReasoningChunkTransform', () => {
  it('split: moves a think block to reasoning_content, at any chunking', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const out = merged(transform(streamOf('<think>plan</think>\n\nAnswer', seed)))
      expect(out, `seed ${seed}`).toEqual({ content: 'Answer', reasoning: 'plan', finish: 'stop', other: [] })
    }
  })

  it('strip: drops it; keep: leaves it', () => {
    expect(merged(transform(streamOf('<think>plan</think>Answer', 7), { mode: 'strip' }))).toMatchObject({ content: 'Answer', reasoning: '' })
    const input = streamOf('<think>plan</think>Answer', 7)
    const kept = transform(input, { mode: 'keep' })
    expect(kept).toHaveLength(input.length)
    kept.forEach((item, index) => expect(item).toBe(input[index]))
  })

  it('passes unchanged chunks on as the same objects, and holds only what could be a tag', () => {
    const input = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hello' }), chunk({ content: ' world' }), chunk({}, 'stop')]
    const out = transform(input, { startWindow: 0 })
    expect(out).toHaveLength(4)
    out.forEach((item, index) => expect(item).toBe(input[index]))
    const held = transform([chunk({ content: 'a <thi' }), chunk({ content: 'nk>b' }), chunk({}, 'stop')], { startWindow: 0 })
    expect(held.map((item) => item.choices[0]?.delta)).toEqual([{ content: 'a ' }, { reasoning_content: 'b' }, {}])
  })

  it('an unclosed block at the end of the stream ends as reasoning, in the finish chunk or at flush', () => {
    expect(merged(transform([chunk({ content: '<think>never closed <' }), chunk({}, 'length')]))).toMatchObject({ content: '', reasoning: 'never closed <', finish: 'length' })
    const noFinish = transform([chunk({ content: '<think>cut </th' })])
    expect(noFinish.map((item) => item.choices[0]?.delta)).toEqual([{ reasoning_content: 'cut ' }, { reasoning_content: '</th' }])
  })

  it('no start window by default: plain content flows at once, a stray close tag stays text', () => {
    const input = [chunk({ content: 'Okay' }), chunk({ content: '</think>x' }), chunk({}, 'stop')]
    const out = transform(input)
    expect(out[0]).toBe(input[0])
    expect(merged(out)).toMatchObject({ content: 'Okay</think>x', reasoning: '' })
  })

  it('a reply that starts inside a block: held for the start window, then reasoning', () => {
    const out = transform([chunk({ content: 'Okay, the user' }), chunk({ content: ' asks.</think>' }), chunk({ content: '\n\nHi!' }), chunk({}, 'stop')], { startWindow: 512 })
    expect(merged(out)).toMatchObject({ content: 'Hi!', reasoning: 'Okay, the user asks.' })
    // Nothing was released before the close tag decided it.
    expect(out[0]?.choices[0]?.delta).toEqual({ reasoning_content: 'Okay, the user asks.' })
  })

  it('no start window once the upstream sent reasoning in its own field (it splits itself)', () => {
    const input = [chunk({ reasoning_content: 'native' }), chunk({ content: 'Answer' }), chunk({}, 'stop')]
    const out = transform(input, { startWindow: 512 })
    out.forEach((item, index) => expect(item).toBe(input[index]))
  })

  it('forwards upstream reasoning and thinking fields as reasoning_content, or drops them all', () => {
    const input = [chunk({ reasoning: 'r1' }), chunk({ thinking: 't1' }), chunk({ reasoning_content: 'rc', content: 'x' }), chunk({}, 'stop')]
    expect(merged(transform(input))).toEqual({ content: 'x', reasoning: 'r1t1rc', finish: 'stop', other: [] })
    expect(merged(transform(input, { forwardReasoning: false }))).toEqual({ content: 'x', reasoning: '', finish: 'stop', other: [] })
    expect(merged(transform(input, { mode: 'keep', forwardReasoning: false }))).toEqual({ content: 'x', reasoning: '', finish: 'stop', other: [] })
    // A server sending the same text under two names: one is forwarded.
    expect(merged(transform([chunk({ reasoning_content: 'same', reasoning: 'same' })]))).toMatchObject({ reasoning: 'same' })
  })

  it('forwarding off still moves think blocks in split mode', () => {
    expect(merged(transform(streamOf('<think>p</think>A', 3), { forwardReasoning: false }))).toMatchObject({ content: 'A', reasoning: 'p' })
  })

  it('keeps other delta fields, usage chunks and several choices', () => {
    const usage = { id: 'c1', object: 'chat.completion.chunk' as const, created: 1, model: 'm', choices: [], usage: { total_tokens: 3 } }
    const two: ChatCompletionChunk = {
      id: 'c1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [
        { index: 0, delta: { content: '<think>a</think>A' }, finish_reason: null },
        { index: 1, delta: { content: 'B' }, finish_reason: null },
      ],
    }
    const out = transform([two, chunk({ role: 'assistant', content: '<think>x</think>y', tool_calls: [] }), usage], { startWindow: 0 })
    expect(out[0]?.choices).toEqual([
      { index: 0, delta: { content: 'A', reasoning_content: 'a' }, finish_reason: null },
      { index: 1, delta: { content: 'B' }, finish_reason: null },
    ])
    expect(out[0]?.choices[1]).toBe(two.choices[1])
    expect(out[1]?.choices[0]?.delta).toEqual({ role: 'assistant', tool_calls: [], content: 'y', reasoning_content: 'x' })
    expect(out[2]).toBe(usage)
  })
})

function completion(message: Record<string, unknown>): ChatCompletion {
  return { id: 'c1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: 'stop' }] }
}

describe('splitReasoningInCompletion', () => {
  it('puts think blocks in message.reasoning_content (split), drops them (strip), leaves them (keep)', () => {
    const input = completion({ content: '<think>plan</think>\nAnswer' })
    expect(splitReasoningInCompletion(input).choices[0]?.message).toEqual({ role: 'assistant', content: 'Answer', reasoning_content: 'plan' })
    expect(splitReasoningInCompletion(input, { mode: 'strip' }).choices[0]?.message).toEqual({ role: 'assistant', content: 'Answer' })
    expect(splitReasoningInCompletion(input, { mode: 'keep' })).toBe(input)
    expect(input.choices[0]?.message.content).toBe('<think>plan</think>\nAnswer')
  })

  it('a whole answer starting inside a block: no start window, any length', () => {
    const long = 'r'.repeat(5000)
    expect(splitReasoningInCompletion(completion({ content: `${long}</think>Done` })).choices[0]?.message).toMatchObject({ content: 'Done', reasoning_content: long })
  })

  it('renames reasoning fields, or drops them with forwarding off; returns the same object when nothing changes', () => {
    expect(splitReasoningInCompletion(completion({ content: 'x', reasoning: 'r' })).choices[0]?.message).toEqual({ role: 'assistant', content: 'x', reasoning_content: 'r' })
    expect(splitReasoningInCompletion(completion({ content: 'x', reasoning_content: 'r' }), { forwardReasoning: false }).choices[0]?.message).toEqual({ role: 'assistant', content: 'x' })
    const plain = completion({ content: 'just text', reasoning_content: 'native' })
    expect(splitReasoningInCompletion(plain)).toBe(plain)
    // With native reasoning, a stray close tag in content is text (the upstream split it already).
    const stray = completion({ content: 'a</think>b', reasoning_content: 'native' })
    expect(splitReasoningInCompletion(stray)).toBe(stray)
  })

  it('rejects a bad mode', () => {
    expect(() => splitReasoningInCompletion(completion({ content: 'x' }), { mode: 'nope' as never })).toThrow(/reasoning: expected "split", "strip" or "keep", got "nope"/)
  })
})
