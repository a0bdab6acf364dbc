import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import type { AnswerGate } from '../../src/gateway/call-plan.js'
import type { ByteSink, ByteSource } from '../../src/gateway/byte-source.js'
import { chainTransforms } from '../../src/gateway/chunk-pipeline.js'
import type { ChunkTransformFactory } from '../../src/gateway/chunk-pipeline.js'
import { reasoningTransform } from '../../src/gateway/stages/reasoning.js'
import { UpstreamBody } from '../../src/gateway/upstream-body.js'
import type { BodyController } from '../../src/gateway/upstream-body.js'
import { relayChunks } from '../../src/gateway/upstream-relay.js'
import { relayGated } from '../../src/gateway/gated-relay.js'
import type { RelayEnd, RelayOptions } from '../../src/gateway/upstream-relay.js'
import type { ChatCompletionChunk } from '../../src/openai/types.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const DONE = 'data: [DONE]\n\n'

class FakeController implements BodyController {
  pause(): void {}
  resume(): void {}
  abort(): void {}
}

/** Everything the client got, and how the relay ended. */
interface Outcome {
  text: string
  ends: [RelayEnd, string | undefined][]
}

/** Runs a relay over `pieces` (network reads), then the body's end. */
function run(relay: (body: UpstreamBody, options: RelayOptions) => ByteSource, pieces: readonly Uint8Array[], ending: 'finish' | 'fail' = 'finish'): Outcome {
  const body = new UpstreamBody()
  body.attach(new FakeController())
  const outcome: Outcome = { text: '', ends: [] }
  const source = relay(body, { onEnd: (reason, error) => outcome.ends.push([reason, error?.message]) })
  const parts: Uint8Array[] = []
  const sink: ByteSink = {
    write: (chunk) => (parts.push(chunk.slice()), true),
    end: (chunk) => {
      if (chunk !== undefined) parts.push(chunk.slice())
    },
    error: (error) => parts.push(encoder.encode(`<error ${error.message}>`)),
  }
  source.start(sink)
  for (const piece of pieces) body.push(piece)
  if (ending === 'fail') body.fail(new Error('reset'))
  else body.finish()
  outcome.text = decoder.decode(concat(parts))
  return outcome
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    all.set(part, at)
    at += part.length
  }
  return all
}

function split(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(points.map((point) => point % (bytes.length + 1)))].sort((a, b) => a - b)
  const pieces: Uint8Array[] = []
  let from = 0
  for (const cut of cuts) {
    pieces.push(bytes.subarray(from, cut))
    from = cut
  }
  pieces.push(bytes.subarray(from))
  return pieces
}

/** The plain chunk path and the gated relay over the same transforms. */
function both(makeGates: () => AnswerGate[], plain: ChunkTransformFactory[], pieces: readonly Uint8Array[], ending: 'finish' | 'fail' = 'finish') {
  const chunked = run((body, options) => relayChunks(body, (onChunk) => chainTransforms(plain, onChunk), options), pieces, ending)
  const gated = run((body, options) => relayGated(body, makeGates(), options), pieces, ending)
  return { chunked, gated }
}

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: null }], ...extra })
const event = (payload: string): string => `data: ${payload}\n\n`

/** A test transform: upper-cases content with an `X` in it; its gate fires on an `X` byte. */
const upperX: ChunkTransformFactory = (onChunk) => ({
  feed(next: ChatCompletionChunk) {
    const choice = next.choices[0]
    const content = choice?.delta.content
    if (choice === undefined || typeof content !== 'string' || !content.includes('X')) return onChunk(next)
    onChunk({ ...next, choices: [{ ...choice, delta: { ...choice.delta, content: content.toUpperCase() } }] })
  },
  flush() {},
})

describe('relayGated', () => {
  it('stays on the byte path while no gate fires: the transform is never made', () => {
    const stream = vi.fn(upperX)
    const body = event(chunk({ role: 'assistant', content: '' })) + event(chunk({ content: 'Hello' })) + event(chunk({ content: ' world' })) + DONE
    const gated = run((upstream, options) => relayGated(upstream, [{ passesUntil: (bytes, start, end) => bytes.subarray(start, end).includes(88), stream }], options), [encoder.encode(body)])
    expect(gated.text).toBe(body)
    expect(gated.ends).toEqual([['done', undefined]])
    expect(stream).not.toHaveBeenCalled()
  })

  it('switches at the event a gate fires on, with the partial event held so far', () => {
    const stream = vi.fn(upperX)
    const body = event(chunk({ content: 'a' })) + event(chunk({ content: 'bX' })) + event(chunk({ content: 'c' })) + DONE
    const cut = body.indexOf('bX') + 1
    const gated = run((upstream, options) => relayGated(upstream, [{ passesUntil: (bytes, start, end) => bytes.subarray(start, end).includes(88), stream }], options), [encoder.encode(body.slice(0, cut)), encoder.encode(body.slice(cut))])
    expect(gated.text).toBe(event(chunk({ content: 'a' })) + event(chunk({ content: 'BX' })) + event(chunk({ content: 'c' })) + DONE)
    expect(stream).toHaveBeenCalledTimes(1)
  })

  it('sends an error payload, a non-object and a chunk without choices to the chunk path', () => {
    for (const payload of ['{"error":{"message":"boom"}}', 'not json', '{"id":"x"}']) {
      const body = encoder.encode(event(chunk({ content: 'a' })) + event(payload) + DONE)
      const { chunked, gated } = both(() => [{ passesUntil: () => false, stream: upperX }], [upperX], [body])
      expect(gated).toEqual(chunked)
    }
  })

  it('a failure on the byte path ends with one error event, as the chunk path does', () => {
    const body = encoder.encode(event(chunk({ content: 'a' })) + 'data: {"cho')
    const { chunked, gated } = both(() => [{ passesUntil: () => false, stream: upperX }], [upperX], [body], 'fail')
    expect(gated).toEqual(chunked)
    expect(gated.ends[0]?.[0]).toBe('error')
  })
})

// ---- property: the gated relay's output is the chunk path's, over any chunking ----

const contentPiece = fc.constantFrom('a', 'Hello', ' world', ' ', '\n\n', '\t', '', '<think>', '</think>', '<thi', 'nk>', '&lt;think&gt;', '&lt;/think&gt;', 'é', '中文', '\u00a0', '\u3000', 'x < y', 'AT&T', '"q"', '\\', 'X', '<seed:think>', '</thinking>')
const content = fc.array(contentPiece, { minLength: 1, maxLength: 3 }).map((parts) => parts.join(''))

const payload: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(content, fc.constantFrom<number | undefined>(0, 0, 0, 0, 0, 0, 1, undefined)).map(([text, index]) => JSON.stringify({ id: 'c', choices: [{ index, delta: { content: text }, finish_reason: null }] })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('reasoning', 'thinking', 'reasoning_content'), content).map(([field, text]) => chunk({ [field]: text })) },
  { weight: 1, arbitrary: fc.constant(chunk({ role: 'assistant', content: '' })) },
  { weight: 1, arbitrary: fc.constant(chunk({ reasoning: null, content: 'z' })) },
  { weight: 1, arbitrary: fc.constantFrom('stop', 'length').map((reason) => JSON.stringify({ id: 'c', choices: [{ index: 0, delta: {}, finish_reason: reason }] })) },
  { weight: 1, arbitrary: content.map((text) => JSON.stringify({ id: 'c', choices: [{ index: 0, delta: { content: text }, finish_reason: 'stop' }] })) },
  { weight: 1, arbitrary: fc.constant('{"id":"c","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}') },
  { weight: 1, arbitrary: fc.constant('{"id":"c","choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":" "}}]}') },
  { weight: 1, arbitrary: fc.constantFrom('{"error":{"message":"boom"}}', 'oops', '{"id":"c"}') },
)

/** As servers write it: plain, Go's HTML-safe escapes (Ollama), or spaces after colons and commas. */
const written = fc.tuple(payload, fc.constantFrom('plain', 'plain', 'go', 'spaced')).map(([text, style]) => {
  if (style === 'go') return text.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
  if (style === 'spaced' && text.startsWith('{')) return JSON.stringify(JSON.parse(text), null, 1).replace(/\n\s*/g, ' ')
  return text
})

const body = fc
  .tuple(
    fc.array(fc.oneof({ weight: 12, arbitrary: written.map(event) }, { weight: 1, arbitrary: fc.constantFrom(': ping\n\n', '\uFEFFdata: {"choices":[]}\n\n', 'data:{"choices":[]}\n\n', 'data: {"choices":[],\r\n\r\n') }), { maxLength: 12 }),
    fc.constantFrom(DONE, DONE, DONE, '', 'data: {"choices":[{"index":0,"delta":{"content":"t"}}]}', 'data: [DONE]\n'),
    fc.boolean(),
  )
  .map(([events, tail, bom]) => encoder.encode(`${bom ? '\uFEFF' : ''}${events.join('')}${tail}`))

describe('relayGated: properties', () => {
  for (const mode of ['split', 'strip'] as const) {
    it(`with the reasoning transform (${mode}): the output is the chunk path's, byte for byte, over any chunking`, () => {
      const transform = reasoningTransform({ mode, forwardReasoning: true })!
      expect(transform.gate).toBeDefined()
      fc.assert(
        fc.property(body, fc.array(fc.nat(), { maxLength: 10 }), (bytes, points) => {
          const pieces = split(bytes, points)
          const { chunked, gated } = both(() => [transform.gate!()], [transform.stream], pieces)
          expect(gated).toEqual(chunked)
        }),
        { numRuns: 1500, seed: 20261204 },
      )
    })
  }

  it('with two gated transforms (reasoning, then a test one): the same', () => {
    const reasoning = reasoningTransform({ mode: 'split' })!
    fc.assert(
      fc.property(body, fc.array(fc.nat(), { maxLength: 10 }), (bytes, points) => {
        const pieces = split(bytes, points)
        const { chunked, gated } = both(() => [reasoning.gate!(), { passesUntil: (bytes, start, end) => bytes.subarray(start, end).includes(88), stream: upperX }], [reasoning.stream, upperX], pieces)
        expect(gated).toEqual(chunked)
      }),
      { numRuns: 600, seed: 11 },
    )
  })
})
