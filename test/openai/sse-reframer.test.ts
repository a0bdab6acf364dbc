import { createParser } from 'eventsource-parser'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { QueuegateError } from '../../src/errors.js'
import { createSseReframer } from '../../src/openai/sse-reframer.js'
import type { SseReframerOptions } from '../../src/openai/sse-reframer.js'
import { seededRandom } from '../helpers/seeded-random.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const DONE = 'data: [DONE]\n\n'

const bytes = (text: string): Uint8Array => encoder.encode(text)

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((size, part) => size + part.byteLength, 0))
  let offset = 0
  for (const part of parts) {
    all.set(part, offset)
    offset += part.byteLength
  }
  return all
}

/** What one re-framer run gave back. */
interface Run {
  /** Every `feed()` output, then the `end()` output, concatenated. */
  out: Uint8Array
  /** The output of each `feed()` call, in order. */
  feeds: Uint8Array[]
  /** `done` after each `feed()` call. */
  doneAfter: boolean[]
}

/** Feeds `chunks` to a fresh re-framer, then ends it. */
function reframe(chunks: Uint8Array[], options: SseReframerOptions = {}): Run {
  const reframer = createSseReframer(options)
  const feeds: Uint8Array[] = []
  const doneAfter: boolean[] = []
  for (const chunk of chunks) {
    feeds.push(reframer.feed(chunk))
    doneAfter.push(reframer.done)
  }
  const last = reframer.end()
  expect(reframer.done).toBe(true)
  return { out: concat([...feeds, last]), feeds, doneAfter }
}

/** Cuts `buffer` at the given points (modulo its length + 1); repeated points give empty chunks. */
function splitBytes(buffer: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = cuts.map((cut) => cut % (buffer.length + 1)).sort((a, b) => a - b)
  const pieces: Uint8Array[] = []
  let last = 0
  for (const point of points) {
    pieces.push(buffer.slice(last, point))
    last = point
  }
  pieces.push(buffer.slice(last))
  return pieces
}

const oneByteAtATime = (buffer: Uint8Array): Uint8Array[] => Array.from(buffer, (byte) => Uint8Array.of(byte))

function seededSplits(buffer: Uint8Array, seed: number): Uint8Array[] {
  const random = seededRandom(seed)
  const count = Math.floor(random() * 8)
  return splitBytes(buffer, Array.from({ length: count }, () => Math.floor(random() * (buffer.length + 1))))
}

/**
 * The re-framer's output for `chunks`, asserted to be the same byte for byte when the same body
 * comes whole, one byte at a time, and at seeded random splits.
 */
function reframeEveryWay(chunks: string[]): string {
  const given = reframe(chunks.map(bytes))
  const whole = concat(chunks.map(bytes))
  expect(reframe([whole]).out).toEqual(given.out)
  expect(reframe(oneByteAtATime(whole)).out).toEqual(given.out)
  for (let seed = 1; seed <= 20; seed++) expect(reframe(seededSplits(whole, seed)).out).toEqual(given.out)
  return decoder.decode(given.out)
}

/**
 * What an OpenAI client needs, built with eventsource-parser straight over the whole body: each
 * event as `data: <data>\n\n` (one `data:` line per line of a multi-line payload) until
 * `[DONE]`, then `[DONE]`; an unterminated last line is consumed on a reset, as the source does.
 */
function reference(body: Uint8Array): string {
  let out = ''
  let done = false
  const parser = createParser({
    onEvent(event) {
      if (done) return
      if (event.data === '[DONE]') done = true
      else out += `data: ${event.data.replaceAll('\n', '\ndata: ')}\n\n`
    },
  })
  parser.feed(decoder.decode(body))
  if (!done) parser.reset({ consume: true })
  return out + DONE
}

/** The `data` of each event a client's SSE parser sees in `text`. */
function clientEvents(text: string): string[] {
  const events: string[] = []
  createParser({ onEvent: (event) => events.push(event.data) }).feed(text)
  return events
}

describe('createSseReframer: example streams', () => {
  it.each<{ name: string; chunks: string[]; expected: string }>([
    { name: 'canonical events', chunks: ['data: {"a":1}\n\n', 'data: {"b":2}\n\n'], expected: `data: {"a":1}\n\ndata: {"b":2}\n\n${DONE}` },
    { name: 'canonical events ending in [DONE]', chunks: ['data: {"a":1}\n\ndata: [DONE]\n\n'], expected: `data: {"a":1}\n\n${DONE}` },
    { name: 'a body without [DONE]', chunks: ['data: x\n\n'], expected: `data: x\n\n${DONE}` },
    { name: 'an empty body', chunks: [], expected: DONE },
    { name: 'comments', chunks: [': ping\n\ndata: a\n\n: ping\ndata: b\n\n'], expected: `data: a\n\ndata: b\n\n${DONE}` },
    { name: 'event, id and retry fields', chunks: ['event: message\nid: 7\nretry: 3000\ndata: a\n\nid: 8\ndata: b\n\n'], expected: `data: a\n\ndata: b\n\n${DONE}` },
    { name: 'CRLF line ends', chunks: ['data: a\r\n\r\ndata: b\r\n\r\ndata: [DONE]\r\n\r\n'], expected: `data: a\n\ndata: b\n\n${DONE}` },
    { name: 'CR line ends', chunks: ['data: a\r\rdata: b\r\r'], expected: `data: a\n\ndata: b\n\n${DONE}` },
    { name: 'CRLF only from the second event on', chunks: ['data: a\n\ndata: b\r\n\r\n'], expected: `data: a\n\ndata: b\n\n${DONE}` },
    { name: '`data:` without its space', chunks: ['data:x\n\ndata:[DONE]\n\n'], expected: `data: x\n\n${DONE}` },
    { name: 'a payload that starts with a space keeps it', chunks: ['data:  x\n\n'], expected: `data:  x\n\n${DONE}` },
    { name: 'a UTF-8 BOM at the start', chunks: ['\uFEFFdata: a\n\n'], expected: `data: a\n\n${DONE}` },
    { name: 'an empty event', chunks: ['data: \n\ndata: a\n\n'], expected: `data: \n\ndata: a\n\n${DONE}` },
    { name: 'an empty event without the space', chunks: ['data:\n\n'], expected: `data: \n\n${DONE}` },
    { name: 'extra blank lines between events', chunks: ['data: a\n\n\n\ndata: b\n\n'], expected: `data: a\n\ndata: b\n\n${DONE}` },
    { name: 'an event with no data', chunks: ['data: a\n\nevent: ping\n\ndata: b\n\n'], expected: `data: a\n\ndata: b\n\n${DONE}` },
    { name: 'canonical events, a comment, canonical events', chunks: ['data: a\n\ndata: b\n\n: keep-alive\n\ndata: c\n\ndata: d\n\n'], expected: `data: a\n\ndata: b\n\ndata: c\n\ndata: d\n\n${DONE}` },
    { name: 'multi-byte UTF-8 payloads', chunks: ['data: {"c":"é東🌧️"}\n\ndata: {"c":"𝄞\u2028"}\n\n'], expected: `data: {"c":"é東🌧️"}\n\ndata: {"c":"𝄞\u2028"}\n\n${DONE}` },
    { name: 'multi-byte UTF-8 payloads after a comment', chunks: [': x\n\ndata: {"c":"é東🌧️"}\n\n'], expected: `data: {"c":"é東🌧️"}\n\n${DONE}` },
    { name: 'a payload that is almost [DONE]', chunks: ['data: [DONE] \n\ndata: [DON]\n\ndata:  [DONE]\n\n'], expected: `data: [DONE] \n\ndata: [DON]\n\ndata:  [DONE]\n\n${DONE}` },
    { name: 'a multi-line event: one data line per line', chunks: ['data: {"a":\ndata: 1}\n\n'], expected: `data: {"a":\ndata: 1}\n\n${DONE}` },
    { name: 'a multi-line event with an empty line in its data', chunks: ['data: a\ndata:\ndata: b\n\n'], expected: `data: a\ndata: \ndata: b\n\n${DONE}` },
    { name: 'unknown fields and bad retry values are ignored', chunks: ['data: a\n\nfoo: bar\nretry: soon\ndata: b\n\nnonsense\n\ndata: c\n\n'], expected: `data: a\n\ndata: b\n\ndata: c\n\n${DONE}` },
    { name: 'an unterminated last event is dropped (byte path)', chunks: ['data: a\n\ndata: {"last":true}'], expected: `data: a\n\n${DONE}` },
    { name: 'an event missing its blank line at the end is dropped', chunks: ['data: a\n\ndata: b\n'], expected: `data: a\n\n${DONE}` },
    { name: 'an unterminated last event is dropped (parser path)', chunks: [': c\ndata: a\n\ndata: {"last":true}'], expected: `data: a\n\n${DONE}` },
    { name: 'a body cut inside `data:`', chunks: ['data: a\n\ndat'], expected: `data: a\n\n${DONE}` },
  ])('$name (whole, byte by byte, and at random splits)', ({ chunks, expected }) => {
    expect(reframeEveryWay(chunks)).toBe(expected)
  })

  it('passes a canonical stream through byte for byte, each event as soon as its frame is complete', () => {
    const events = ['data: {"id":"c","choices":[{"delta":{"content":"Hé"}}]}\n\n', 'data: {"id":"c","choices":[{"delta":{"content":"東"}}]}\n\n']
    const run = reframe([bytes(events[0] ?? ''), bytes((events[1] ?? '').slice(0, 10)), bytes((events[1] ?? '').slice(10))])
    expect(run.feeds.map((out) => decoder.decode(out))).toEqual([events[0], '', events[1]])
    expect(run.out).toEqual(concat([...events.map(bytes), bytes(DONE)]))
  })

  it('stops at [DONE]: the output ends with its frame, `done` turns true, and later input is ignored', () => {
    const reframer = createSseReframer()
    expect(reframer.done).toBe(false)
    expect(decoder.decode(reframer.feed(bytes('data: a\n\ndata: [DONE]\n\ndata: b\n\n')))).toBe(`data: a\n\n${DONE}`)
    expect(reframer.done).toBe(true)
    expect(reframer.feed(bytes('data: c\n\n')).byteLength).toBe(0)
    expect(reframer.feed(bytes(': not even valid \r\n')).byteLength).toBe(0)
    expect(reframer.end().byteLength).toBe(0)
  })

  it('stops at [DONE] on the parser path too', () => {
    const reframer = createSseReframer()
    expect(decoder.decode(reframer.feed(bytes(': hi\n\ndata: a\n\n')))).toBe('data: a\n\n')
    expect(reframer.done).toBe(false)
    expect(decoder.decode(reframer.feed(bytes('data: [DONE]\r\n\r\ndata: b\n\n')))).toBe(DONE)
    expect(reframer.done).toBe(true)
    expect(reframer.feed(bytes('data: c\n\n')).byteLength).toBe(0)
    expect(reframer.end().byteLength).toBe(0)
  })

  it('end() appends [DONE] once when the body had none, and nothing after that', () => {
    const reframer = createSseReframer()
    expect(decoder.decode(reframer.feed(bytes('data: a\n\n')))).toBe('data: a\n\n')
    expect(reframer.done).toBe(false)
    expect(decoder.decode(reframer.end())).toBe(DONE)
    expect(reframer.done).toBe(true)
    expect(reframer.end().byteLength).toBe(0)
    expect(reframer.feed(bytes('data: b\n\n')).byteLength).toBe(0)
  })

  it('keeps multi-byte characters whole when their bytes are split across chunks, on both paths', () => {
    for (const prefix of ['', ': switch to the parser\n\n']) {
      const body = bytes(`${prefix}data: 🌧️é東\n\n`)
      const start = body.length - 12
      for (let cut = start; cut < body.length - 2; cut++) {
        expect(decoder.decode(reframe([body.slice(0, cut), body.slice(cut)]).out)).toBe(`data: 🌧️é東\n\n${DONE}`)
      }
    }
  })

  it('re-frames a multi-line event so that a client reads the same data', () => {
    const out = reframeEveryWay(['data: {"a":\ndata: 1}\n\n', ': x\n\ndata: [\ndata:\ndata: 2]\n\n'])
    expect(clientEvents(out)).toEqual(['{"a":\n1}', '[\n\n2]', '[DONE]'])
  })

  it('treats U+FEFF after the first event as a character, not as a BOM (same output as the parser over the whole body)', () => {
    const body = bytes('data: a\n\n\uFEFFdata: b\n\n')
    expect(decoder.decode(reframe([body]).out)).toBe(`data: a\n\n${DONE}`)
    expect(decoder.decode(reframe([body]).out)).toBe(reference(body))
  })

  it('treats U+FEFF after a comment (parser path from the start) as a character', () => {
    const body = bytes(': c\n\ndata: a\n\n\uFEFFdata: b\n\n')
    expect(decoder.decode(reframe([body]).out)).toBe(`data: a\n\n${DONE}`)
    expect(reframe(oneByteAtATime(body)).out).toEqual(reframe([body]).out)
  })
})

describe('createSseReframer: invalid streams', () => {
  const expectBadEvent = (run: () => unknown): void => {
    let thrown: unknown
    try {
      run()
    } catch (error) {
      thrown = error
    }
    expect(QueuegateError.isInstance(thrown)).toBe(true)
    expect(thrown).toMatchObject({ name: 'UpstreamError', status: 502, code: 'upstream_bad_event' })
  }

  it('throws an UpstreamError for a canonical event over maxEventChars (byte path), whole or still arriving', () => {
    const big = `data: ${'x'.repeat(40)}\n\n`
    expectBadEvent(() => createSseReframer({ maxEventChars: 32 }).feed(bytes(big)))
    expectBadEvent(() => {
      const reframer = createSseReframer({ maxEventChars: 32 })
      expect(decoder.decode(reframer.feed(bytes('data: ok\n\n')))).toBe('data: ok\n\n')
      for (let offset = 0; offset < big.length; offset += 8) reframer.feed(bytes(big.slice(offset, offset + 8)))
    })
    // At the limit it passes: `data: ` and the payload make 32 bytes.
    expect(decoder.decode(reframe([bytes(`data: ${'x'.repeat(26)}\n\n`)], { maxEventChars: 32 }).out)).toBe(`data: ${'x'.repeat(26)}\n\n${DONE}`)
  })

  it('throws an UpstreamError for an event over maxEventChars on the parser path, after the events before it', () => {
    const reframer = createSseReframer({ maxEventChars: 32 })
    expect(decoder.decode(reframer.feed(bytes(': c\n\ndata: ok\n\n')))).toBe('data: ok\n\n')
    expectBadEvent(() => {
      for (let offset = 0; offset < 200; offset += 8) reframer.feed(bytes(offset === 0 ? 'data: xx' : 'xxxxxxxx'))
    })
    // The failure sticks.
    expectBadEvent(() => reframer.feed(bytes('\n\n')))
    expectBadEvent(() => reframer.end())
  })

  it('throws an UpstreamError for a multi-line event over maxEventChars on the parser path', () => {
    const reframer = createSseReframer({ maxEventChars: 32 })
    expectBadEvent(() => {
      for (let line = 0; line < 20; line++) reframer.feed(bytes('data: xxxxxxxx\n'))
    })
  })

  it('an unknown field or a bad retry value changes nothing, however the body is chunked', () => {
    const body = 'data: a\n\nfoo: bar\n\nretry: x\ndata: b\n\n'
    expect(reframeEveryWay([body])).toBe(`data: a\n\ndata: b\n\n${DONE}`)
    expect(reframeEveryWay(['data: a\n\nfoo: bar\n\n', 'data: b\n\n'])).toBe(`data: a\n\ndata: b\n\n${DONE}`)
  })
})

// ---- property tests ----

/** Text of one line: any code points but CR and LF. */
const lineText = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength }).map((text) => text.replace(/[\r\n]/g, ''))
const payload: fc.Arbitrary<string> = fc.oneof(
  fc.json({ stringUnit: 'binary', maxDepth: 2 }),
  lineText(16).filter((text) => text !== ''),
  fc.constantFrom('{"choices":[{"delta":{"content":"hi"}}]}', '[DONE] ', 'x'),
)

/** SSE-ish pieces; `\n` stands for a line end, replaced by the piece's own style. */
const piece: fc.Arbitrary<string> =
  fc
    .tuple(
      fc.oneof(
        { weight: 8, arbitrary: payload.map((data) => `data: ${data}\n\n`) },
        { weight: 1, arbitrary: fc.constantFrom('data: [DONE]\n\n', 'data:[DONE]\n\n') },
        { weight: 2, arbitrary: lineText(10).map((text) => `:${text}\n`) },
        { weight: 1, arbitrary: fc.constantFrom(': ping\n\n', '\n') },
        { weight: 2, arbitrary: fc.tuple(fc.constantFrom('event', 'id'), lineText(8)).map(([field, value]) => `${field}: ${value}\n`) },
        { weight: 1, arbitrary: fc.nat(100_000).map((ms) => `retry: ${ms}\n`) },
        // Ignored as the SSE spec says: unknown fields, bad retry values, lines without a colon.
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom('foo', 'retry', 'Data', 'dat', 'ping', 'id'), fc.constantFrom(': ', ':', ''), lineText(6)).map(([field, colon, value]) => `${field}${colon}${colon === '' ? '' : value}\n`) },
        { weight: 2, arbitrary: payload.map((data) => `data:${data}\n\n`) },
        { weight: 1, arbitrary: fc.constantFrom('data: \n\n', 'data:\n\n', 'data\n\n') },
        { weight: 2, arbitrary: fc.array(payload, { minLength: 2, maxLength: 3 }).map((lines) => `${lines.map((line) => `data: ${line}\n`).join('')}\n`) },
        { weight: 2, arbitrary: fc.tuple(lineText(6), fc.nat(99), payload).map(([name, id, data]) => `event: ${name}\nid: ${id}\ndata: ${data}\n\n`) },
      ),
      fc.constantFrom('\n', '\n', '\n', '\n', '\r\n', '\r'),
    )
    .map(([text, lineEnd]) => text.replace(/\n/g, lineEnd))

/** A whole body: an optional BOM, pieces, and maybe an event the body never finishes. */
const sseBody: fc.Arbitrary<Uint8Array> =
  fc
    .tuple(
      fc.boolean(),
      fc.array(piece, { maxLength: 14 }),
      fc.constantFrom('', '', '', 'data: tail', 'data: tail\n', 'data: [DONE]', 'data: [DONE]\n', ': tail', 'data', 'dat', 'foo: x'),
    )
    .map(([bom, pieces, tail]) => bytes(`${bom ? '\uFEFF' : ''}${pieces.join('')}${tail}`))

const cuts = fc.array(fc.nat(), { maxLength: 12 })

describe('createSseReframer: properties', () => {
  it('any SSE body at any chunking comes out as eventsource-parser over the whole body says, byte for byte', () => {
    fc.assert(
      fc.property(sseBody, cuts, (body, points) => {
        const expected = bytes(reference(body))
        const whole = reframe([body]).out
        expect(decoder.decode(whole)).toBe(decoder.decode(expected))
        expect(whole).toEqual(expected)
        expect(reframe(splitBytes(body, points)).out).toEqual(whole)
      }),
      { numRuns: 400, seed: 20260611 },
    )
  })

  it('the output does not depend on the chunking, down to one byte at a time', () => {
    fc.assert(
      fc.property(sseBody, (body) => {
        expect(reframe(oneByteAtATime(body)).out).toEqual(reframe([body]).out)
      }),
      { numRuns: 150, seed: 7 },
    )
  })

  it('a client parsing the output sees the data of every event before [DONE], then [DONE]', () => {
    fc.assert(
      fc.property(sseBody, cuts, (body, points) => {
        const text = decoder.decode(reframe(splitBytes(body, points)).out)
        const seen: string[] = []
        let done = false
        const parser = createParser({
          onEvent(event) {
            if (!done) seen.push(event.data)
            done ||= event.data === '[DONE]'
          },
        })
        parser.feed(decoder.decode(body))
        if (!done) parser.reset({ consume: true })
        expect(clientEvents(text)).toEqual(done ? seen : [...seen, '[DONE]'])
        expect(text.endsWith(DONE)).toBe(true)
      }),
      { numRuns: 300, seed: 99 },
    )
  })
})

describe('errorPayload (issue 12: a failure after the stream started is recorded, not logged as a success)', () => {
  const error = '{"error":{"code":500,"message":"model crashed","type":"server_error"}}'
  it.each([
    ['on the byte path', `data: {"id":"a","choices":[]}\n\ndata: ${error}\n\n`],
    ['on the parser path (a comment first)', `: hello\n\ndata: {"id":"a","choices":[]}\n\ndata: ${error}\n\n`],
  ])('is the first error event %s, and the output is unchanged', (_name, body) => {
    const reframer = createSseReframer()
    const out = new TextDecoder().decode(reframer.feed(new TextEncoder().encode(body))) + new TextDecoder().decode(reframer.end())
    expect(reframer.errorPayload).toBe(error)
    expect(out).toContain(`data: ${error}\n\n`)
  })

  it('is undefined for a stream of chunks, even one whose content mentions "error"', () => {
    const reframer = createSseReframer()
    reframer.feed(new TextEncoder().encode('data: {"id":"a","choices":[{"index":0,"delta":{"content":"{\\"error\\""}}]}\n\ndata: {"e":1}\n\ndata: [DONE]\n\n'))
    expect(reframer.errorPayload).toBeUndefined()
  })
})

describe('re-framer figures (events, last payload)', () => {
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

  it('counts data events and keeps the last payload before [DONE], over any split, on both paths', () => {
    const body = 'data: {"a":1}\n\ndata: {"a":2}\n\ndata: {"usage":{"completion_tokens":2}}\n\ndata: [DONE]\n\n'
    for (let cut = 1; cut < body.length; cut++) {
      const reframer = createSseReframer()
      reframer.feed(bytes(body.slice(0, cut)))
      reframer.feed(bytes(body.slice(cut)))
      expect(reframer.events).toBe(3)
      expect(reframer.lastPayload()).toBe('{"usage":{"completion_tokens":2}}')
    }
    // A comment sends the rest through the parser: the figures go on from there.
    const mixed = createSseReframer()
    mixed.feed(bytes('data: {"a":1}\n\n: keep-alive\n\ndata: {"b":2}\n\n'))
    mixed.feed(bytes('data: [DONE]\n\n'))
    expect(mixed.events).toBe(2)
    expect(mixed.lastPayload()).toBe('{"b":2}')
  })
})
