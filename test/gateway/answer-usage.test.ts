import { describe, expect, it } from 'vitest'
import { answerUsage, wholeAnswerUsage } from '../../src/gateway/answer-usage.js'

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

describe('answer usage', () => {
  it("reads llama.cpp's last chunk: usage and timings.cache_n", () => {
    const last = JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { completion_tokens: 42, prompt_tokens: 900, total_tokens: 942 }, timings: { cache_n: 850, prompt_n: 50 } })
    expect(answerUsage(last, 45)).toEqual({ tokens: 42, tokensFrom: 'usage', promptTokens: 900, cachedTokens: 850, promptPerSecond: undefined, prefilledTokens: 50 })
  })

  it("reads vLLM's usage chunk with cached tokens in prompt_tokens_details", () => {
    const last = JSON.stringify({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 4 } } })
    expect(answerUsage(last, 9)).toEqual({ tokens: 7, tokensFrom: 'usage', promptTokens: 10, cachedTokens: 4, promptPerSecond: undefined, prefilledTokens: undefined })
  })

  it('counts the chunks when the upstream sent no usage, and nothing when there were none', () => {
    expect(answerUsage(JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }), 22)).toEqual({ tokens: 22, tokensFrom: 'chunks', promptTokens: undefined, cachedTokens: undefined, promptPerSecond: undefined, prefilledTokens: undefined })
    expect(answerUsage(undefined, 0)).toEqual({ tokens: undefined, tokensFrom: undefined, promptTokens: undefined, cachedTokens: undefined, promptPerSecond: undefined, prefilledTokens: undefined })
  })

  it("takes llama.cpp's own count (timings.predicted_n) when it sent no usage, not the chunks (which include the role and finish chunks)", () => {
    const chunk = { id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }], timings: { prompt_n: 12, predicted_n: 3 } }
    expect(answerUsage(JSON.stringify(chunk), 6)).toMatchObject({ tokens: 3, tokensFrom: 'usage', prefilledTokens: 12 })
    expect(answerUsage(chunk as never, 6)).toMatchObject({ tokens: 3, tokensFrom: 'usage' })
    expect(wholeAnswerUsage(encode({ choices: [], timings: { predicted_n: 9 } }))).toMatchObject({ tokens: 9, tokensFrom: 'usage' })
  })

  it('is not fooled by the same keys inside text the model wrote', () => {
    const last = JSON.stringify({ choices: [{ index: 0, delta: { content: '"usage": {"completion_tokens": 999}' }, finish_reason: null }] })
    expect(answerUsage(last, 3)).toMatchObject({ tokens: 3, tokensFrom: 'chunks' })
  })

  it('reads a parsed chunk (the chunk path)', () => {
    expect(answerUsage({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [], usage: { completion_tokens: 5, prompt_tokens: 2 } } as never, 8)).toEqual({ tokens: 5, tokensFrom: 'usage', promptTokens: 2, cachedTokens: undefined, promptPerSecond: undefined, prefilledTokens: undefined })
  })

  it("reads a whole answer's usage from its tail, also behind a long content", () => {
    const body = encode({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'word '.repeat(5000) }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 5000, total_tokens: 5003 } })
    expect(wholeAnswerUsage(body)).toEqual({ tokens: 5000, tokensFrom: 'usage', promptTokens: 3, cachedTokens: undefined, promptPerSecond: undefined, prefilledTokens: undefined })
    expect(wholeAnswerUsage(encode({ choices: [] })).tokens).toBeUndefined()
  })

  it("reads llama.cpp's prefill rate (timings.prompt_per_second, prompt_n) from a streamed last chunk, as text and parsed", () => {
    const timings = { cache_n: 120, prompt_n: 2048, prompt_ms: 512.5, prompt_per_token_ms: 0.25, prompt_per_second: 3996.1, predicted_n: 30, predicted_ms: 600, predicted_per_second: 50 }
    const chunk = { id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { completion_tokens: 30, prompt_tokens: 2168 }, timings }
    const expected = { tokens: 30, tokensFrom: 'usage', promptTokens: 2168, cachedTokens: 120, promptPerSecond: 3996.1, prefilledTokens: 2048 }
    expect(answerUsage(JSON.stringify(chunk), 31)).toEqual(expected)
    expect(answerUsage(chunk as never, 31)).toEqual(expected)
    // Without usage (llama.cpp without include_usage puts timings on the finish chunk): the rate is still read, and
    // the tokens are its own count (predicted_n), not the chunks.
    expect(answerUsage(JSON.stringify({ choices: [], timings }), 12)).toMatchObject({ tokens: 30, tokensFrom: 'usage', promptPerSecond: 3996.1, prefilledTokens: 2048 })
  })

  it("reads a whole answer's top-level timings, and a rate in exponent form", () => {
    const body = encode({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 40_000, completion_tokens: 5 }, timings: { cache_n: 0, prompt_n: 40_000, prompt_ms: 8000, prompt_per_second: 5e3 } })
    expect(wholeAnswerUsage(body)).toMatchObject({ promptPerSecond: 5000, prefilledTokens: 40_000 })
    const text = '{"choices":[],"timings":{"prompt_n":300000,"prompt_per_second":1.25e+4}}'
    expect(answerUsage(text, 0).promptPerSecond).toBe(12_500)
  })

  it('takes no rate that could not be computed (null, 0, negative, not a number) and none from text the model wrote', () => {
    for (const value of [null, 0, -5, 'fast']) {
      const chunk = { choices: [], timings: { prompt_n: 0, prompt_ms: 0, prompt_per_second: value } }
      expect(answerUsage(JSON.stringify(chunk), 1).promptPerSecond).toBeUndefined()
      expect(answerUsage(chunk as never, 1).promptPerSecond).toBeUndefined()
    }
    const written = JSON.stringify({ choices: [{ index: 0, delta: { content: 'say "timings": {"prompt_per_second": 99}' }, finish_reason: null }] })
    expect(answerUsage(written, 2).promptPerSecond).toBeUndefined()
  })
})
