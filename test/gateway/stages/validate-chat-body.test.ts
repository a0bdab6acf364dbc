import { describe, expect, it } from 'vitest'
import { validateChatBody } from '../../../src/gateway/stages/validate-chat-body.js'

const ok = { messages: [{ role: 'user', content: 'hi' }] }

describe('validateChatBody (issue 12: the fields clients get wrong, as the OpenAI API refuses them)', () => {
  it.each([
    [{ messages: [] }, 'messages', /at least one message/],
    [{ messages: [{ role: '', content: 'x' }] }, 'messages[0]', /must be an object with a `role`/],
    [{ ...ok, n: 0 }, 'n', /`n` must be a whole number from 1 to 128, got 0/],
    [{ ...ok, n: 1.5 }, 'n', /whole number/],
    [{ ...ok, max_tokens: '100' }, 'max_tokens', /`max_tokens` must be a whole number >= -1 \(-1: no limit\), got "100"/],
    [{ ...ok, max_completion_tokens: -2 }, 'max_completion_tokens', /got -2/],
    [{ ...ok, temperature: -0.1 }, 'temperature', /a number >= 0/],
    [{ ...ok, temperature: 'hot' }, 'temperature', /got "hot"/],
    [{ ...ok, top_p: 1.5 }, 'top_p', /from 0 to 1/],
    [{ ...ok, presence_penalty: 3 }, 'presence_penalty', /from -2 to 2/],
  ] as const)('%j → 400 naming %s', (body, param, message) => {
    let thrown: unknown
    try {
      validateChatBody(body as Record<string, unknown>)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({ status: 400, param })
    expect((thrown as Error).message).toMatch(message)
  })

  it('accepts what llama.cpp and vLLM take as extensions: max_tokens -1, a temperature above 2, any role name, nulls', () => {
    for (const body of [
      { ...ok, max_tokens: -1, temperature: 2.5, n: 1, top_p: 1, frequency_penalty: -2 },
      { messages: [{ role: 'ipython', content: '{}' }, { role: 'observation', content: 'x' }] },
      { ...ok, max_tokens: null, temperature: null, top_p: null },
    ]) {
      expect(() => validateChatBody(body)).not.toThrow()
    }
  })
})
