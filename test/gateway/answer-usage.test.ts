import { describe, expect, it } from 'vitest'
import { answerUsage, wholeAnswerUsage } from '../../src/gateway/answer-usage.js'

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

describe('answer usage', () => {
  it("reads llama.cpp's last chunk: usage and timings.cache_n", () => {
    const last = JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { completion_tokens: 42, prompt_tokens: 900, total_tokens: 942 }, timings: { cache_n: 850, prompt_n: 50 } })
    expect(answerUsage(last, 45)).toEqual({ tokens: 42, tokensFrom: 'usage', promptTokens: 900, cachedTokens: 850 })
  })

  it("reads vLLM's usage chunk with cached tokens in prompt_tokens_details", () => {
    const last = JSON.stringify({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 4 } } })
    expect(answerUsage(last, 9)).toEqual({ tokens: 7, tokensFrom: 'usage', promptTokens: 10, cachedTokens: 4 })
  })

  it('counts the chunks when the upstream sent no usage, and nothing when there were none', () => {
    expect(answerUsage(JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }), 22)).toEqual({ tokens: 22, tokensFrom: 'chunks', promptTokens: undefined, cachedTokens: undefined })
    expect(answerUsage(undefined, 0)).toEqual({ tokens: undefined, tokensFrom: undefined, promptTokens: undefined, cachedTokens: undefined })
  })

  it('is not fooled by the same keys inside text the model wrote', () => {
    const last = JSON.stringify({ choices: [{ index: 0, delta: { content: '"usage": {"completion_tokens": 999}' }, finish_reason: null }] })
    expect(answerUsage(last, 3)).toMatchObject({ tokens: 3, tokensFrom: 'chunks' })
  })

  it('reads a parsed chunk (the chunk path)', () => {
    expect(answerUsage({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [], usage: { completion_tokens: 5, prompt_tokens: 2 } } as never, 8)).toEqual({ tokens: 5, tokensFrom: 'usage', promptTokens: 2, cachedTokens: undefined })
  })

  it("reads a whole answer's usage from its tail, also behind a long content", () => {
    const body = encode({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'word '.repeat(5000) }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 5000, total_tokens: 5003 } })
    expect(wholeAnswerUsage(body)).toEqual({ tokens: 5000, tokensFrom: 'usage', promptTokens: 3, cachedTokens: undefined })
    expect(wholeAnswerUsage(encode({ choices: [] })).tokens).toBeUndefined()
  })
})
