import { describe, expect, it } from 'vitest'
import { byteSourceStream, isByteSource } from '../../src/gateway/byte-source.js'
import type { ByteSink, ByteSource } from '../../src/gateway/byte-source.js'
import { withTimeout } from '../helpers/with-timeout.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (text: string): Uint8Array => encoder.encode(text)

type Ending = { kind: 'end'; last?: Uint8Array } | { kind: 'error'; error: Error } | { kind: 'none' }

/**
 * A source that writes `chunks` as fast as its sink takes them: it stops when `write` answers
 * false and goes on at `resume()`, then ends the way it was told. Counts what happened.
 */
class ScriptedSource implements ByteSource {
  written = 0
  refusals = 0
  resumes = 0
  starts = 0
  readonly cancels: unknown[] = []
  #sink: ByteSink | undefined
  #stopped = false
  readonly #chunks: Uint8Array[]
  readonly #ending: Ending

  constructor(chunks: Uint8Array[], ending: Ending = { kind: 'end' }) {
    this.#chunks = chunks
    this.#ending = ending
  }

  start(sink: ByteSink): void {
    this.starts++
    this.#sink = sink
    this.#pump()
  }

  resume(): void {
    this.resumes++
    this.#pump()
  }

  cancel(reason?: unknown): void {
    this.cancels.push(reason)
    this.#stopped = true
  }

  /** The sink, for tests that write past the end. */
  get sink(): ByteSink {
    return this.#sink as ByteSink
  }

  #pump(): void {
    const sink = this.#sink as ByteSink
    while (!this.#stopped && this.written < this.#chunks.length) {
      if (!sink.write(this.#chunks[this.written++] as Uint8Array)) {
        this.refusals++
        return
      }
    }
    if (this.#stopped) return
    this.#stopped = true
    if (this.#ending.kind === 'end') sink.end(this.#ending.last)
    else if (this.#ending.kind === 'error') sink.error(this.#ending.error)
  }
}

const numbered = (count: number): Uint8Array[] => Array.from({ length: count }, (_, index) => bytes(`${index},`))

/** Reads `stream` to the end, tracking how far the source ever ran ahead of the reader. */
async function readAll(stream: ReadableStream<Uint8Array>, source: ScriptedSource): Promise<{ text: string; chunks: number; ahead: number }> {
  const reader = stream.getReader()
  let text = ''
  let chunks = 0
  let ahead = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks++
    text += decoder.decode(value, { stream: true })
    ahead = Math.max(ahead, source.written - chunks)
  }
  return { text: text + decoder.decode(), chunks, ahead }
}

describe('isByteSource', () => {
  it('is true for an object with start and resume', () => {
    expect(isByteSource(new ScriptedSource([]))).toBe(true)
    expect(isByteSource({ start() {}, resume() {}, cancel() {} })).toBe(true)
  })

  it('is false for web streams, strings, buffers, null and look-alikes', () => {
    for (const value of [new ReadableStream(), 'text', bytes('x'), new ArrayBuffer(1), null, undefined, 1, { start() {} }, { resume() {} }, { start: 1, resume() {} }]) {
      expect(isByteSource(value)).toBe(false)
    }
  })
})

describe('byteSourceStream', () => {
  it('delivers every chunk in order and closes, with the source never more than a chunk or two ahead', async () => {
    const source = new ScriptedSource(numbered(200))
    const { text, chunks, ahead } = await withTimeout(readAll(byteSourceStream(source), source), 5000, 'reading the stream')
    expect(text).toBe(numbered(200).map((chunk) => decoder.decode(chunk)).join(''))
    expect(chunks).toBe(200)
    expect(ahead).toBeLessThanOrEqual(2)
    expect(source.refusals).toBeGreaterThan(0)
    expect(source.resumes).toBeGreaterThan(0)
    expect(source.starts).toBe(1)
    expect(source.cancels).toEqual([])
  })

  it('asks the source to wait until the reader takes a chunk, and resumes it then', async () => {
    const source = new ScriptedSource(numbered(3))
    const stream = byteSourceStream(source)
    // Nobody reads yet: the first chunk fills the one-chunk buffer and the source waits.
    expect(source.written).toBe(1)
    expect(source.refusals).toBe(1)
    expect(source.resumes).toBe(0)
    const reader = stream.getReader()
    const first = await withTimeout(reader.read(), 2000, 'first read')
    expect(decoder.decode(first.value)).toBe('0,')
    expect(source.resumes).toBe(1)
    expect(source.written).toBe(2)
    await reader.cancel()
  })

  it('end(lastChunk) delivers the last chunk, then closes', async () => {
    const source = new ScriptedSource(numbered(3), { kind: 'end', last: bytes('last') })
    const { text, chunks } = await withTimeout(readAll(byteSourceStream(source), source), 2000, 'reading the stream')
    expect(text).toBe('0,1,2,last')
    expect(chunks).toBe(4)
  })

  it('end() with an empty last chunk adds no empty chunk', async () => {
    const source = new ScriptedSource(numbered(2), { kind: 'end', last: new Uint8Array(0) })
    const { chunks } = await withTimeout(readAll(byteSourceStream(source), source), 2000, 'reading the stream')
    expect(chunks).toBe(2)
  })

  it('error() errors the stream with that error', async () => {
    const failure = new Error('upstream reset')
    const source = new ScriptedSource(numbered(3), { kind: 'error', error: failure })
    await expect(withTimeout(readAll(byteSourceStream(source), source), 2000, 'reading the stream')).rejects.toBe(failure)
  })

  it('an error at once (before any read) errors the stream too', async () => {
    const failure = new Error('no body')
    const source = new ScriptedSource([], { kind: 'error', error: failure })
    const reader = byteSourceStream(source).getReader()
    await expect(withTimeout(reader.read(), 2000, 'read')).rejects.toBe(failure)
  })

  it('writes, ends and errors after the end are ignored (write answers false, nothing throws)', async () => {
    const source = new ScriptedSource([], { kind: 'end', last: bytes('0,') })
    const stream = byteSourceStream(source)
    expect(source.sink.write(bytes('late'))).toBe(false)
    source.sink.end(bytes('later'))
    source.sink.error(new Error('too late'))
    const { text } = await withTimeout(readAll(stream, source), 2000, 'reading the stream')
    expect(text).toBe('0,')
  })

  it('cancelling the stream cancels the source with the reason, once', async () => {
    const source = new ScriptedSource(numbered(100), { kind: 'none' })
    const reader = byteSourceStream(source).getReader()
    await withTimeout(reader.read(), 2000, 'first read')
    const reason = new Error('client went away')
    await withTimeout(reader.cancel(reason), 2000, 'cancel')
    expect(source.cancels).toEqual([reason])
    // A source that writes anyway is told to stop, and nothing throws.
    expect(source.sink.write(bytes('x'))).toBe(false)
    source.sink.end()
    source.sink.error(new Error('x'))
  })

  it('leaving a for await loop early cancels the source', async () => {
    const source = new ScriptedSource(numbered(100), { kind: 'none' })
    let seen = 0
    await withTimeout(
      (async () => {
        for await (const chunk of byteSourceStream(source)) {
          expect(chunk.byteLength).toBeGreaterThan(0)
          if (++seen === 5) break
        }
      })(),
      2000,
      'for await over the stream',
    )
    expect(source.cancels).toHaveLength(1)
    expect(source.written).toBeLessThan(100)
  })

  it('reads as a Response body', async () => {
    const source = new ScriptedSource([bytes('{"a":'), bytes('"é東'), bytes('🌧️"}')], { kind: 'end', last: bytes('\n') })
    expect(await withTimeout(new Response(byteSourceStream(source)).json(), 2000, 'json()')).toEqual({ a: 'é東🌧️' })
  })
})
