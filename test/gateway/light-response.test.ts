import { describe, expect, it } from 'vitest'
import { lightResponse, responseParts, setResponseHeader } from '../../src/gateway/light-response.js'
import { markUnrouted } from '../../src/gateway/bridge-protocol.js'
import type { ByteSink, ByteSource } from '../../src/gateway/byte-source.js'
import { withTimeout } from '../helpers/with-timeout.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (text: string): Uint8Array => encoder.encode(text)

/** A source that writes `chunks` while its sink takes them, waits for `resume()`, then ends or fails. */
class ScriptedSource implements ByteSource {
  written = 0
  refusals = 0
  starts = 0
  readonly cancels: unknown[] = []
  #sink: ByteSink | undefined
  #stopped = false
  readonly #chunks: Uint8Array[]
  readonly #ending: { last?: Uint8Array; error?: Error }

  constructor(chunks: Uint8Array[], ending: { last?: Uint8Array; error?: Error } = {}) {
    this.#chunks = chunks
    this.#ending = ending
  }

  start(sink: ByteSink): void {
    this.starts++
    this.#sink = sink
    this.#pump()
  }

  resume(): void {
    this.#pump()
  }

  cancel(reason?: unknown): void {
    this.cancels.push(reason)
    this.#stopped = true
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
    if (this.#ending.error !== undefined) sink.error(this.#ending.error)
    else sink.end(this.#ending.last)
  }
}

const numbered = (count: number): Uint8Array[] => Array.from({ length: count }, (_, index) => bytes(`${index},`))
const numberedText = (count: number): string => Array.from({ length: count }, (_, index) => `${index},`).join('')

describe('lightResponse', () => {
  it('is a Response', () => {
    const response = lightResponse('hi', 200, {})
    expect(response).toBeInstanceOf(Response)
    expect(Object.prototype.toString.call(response)).toBe('[object Response]')
  })

  it('answers status and ok without building the real Response', () => {
    const headers = { 'content-type': 'application/json' }
    const response = lightResponse('{}', 201, headers)
    expect(response.status).toBe(201)
    expect(response.ok).toBe(true)
    expect(responseParts(response)).toEqual({ status: 201, headers: { 'content-type': 'application/json' }, body: '{}' })
    // The headers object is the response's own from now on (no copy).
    expect(responseParts(response)?.headers).toBe(headers)
  })

  it.each([
    [199, false],
    [200, true],
    [204, true],
    [299, true],
    [300, false],
    [404, false],
    [502, false],
  ])('ok for status %i is %s, before and after the real Response is built', (status, ok) => {
    const response = lightResponse(null, status, {})
    expect(response.ok).toBe(ok)
    if (status >= 200) {
      expect(response.headers).toBeInstanceOf(Headers)
      expect(response.ok).toBe(ok)
      expect(response.status).toBe(status)
    }
  })

  it.each<[string, (response: Response) => unknown]>([
    ['headers', (response) => response.headers],
    ['body', (response) => response.body],
    ['bodyUsed', (response) => response.bodyUsed],
    ['statusText', (response) => response.statusText],
    ['type', (response) => response.type],
    ['url', (response) => response.url],
    ['redirected', (response) => response.redirected],
    ['text()', (response) => response.text()],
    ['json()', (response) => response.json()],
    ['arrayBuffer()', (response) => response.arrayBuffer()],
    ['bytes()', (response) => response.bytes()],
    ['blob()', (response) => response.blob()],
    ['clone()', (response) => response.clone()],
  ])('reading %s builds the real Response: responseParts() is undefined afterwards', async (_, read) => {
    const response = lightResponse('{"a":1}', 200, { 'content-type': 'application/json' })
    expect(responseParts(response)).toBeDefined()
    const value = read(response)
    expect(responseParts(response)).toBeUndefined()
    if (value instanceof Promise) await withTimeout(value, 2000, 'body read')
    expect(response.status).toBe(200)
  })

  it('the real Response carries the status, headers and body', async () => {
    const response = lightResponse(bytes('{"a":"é"}'), 418, { 'content-type': 'application/json', 'x-queuegate-job': 'j1' })
    expect(response.headers.get('Content-Type')).toBe('application/json')
    expect(response.headers.get('x-queuegate-job')).toBe('j1')
    expect(response.status).toBe(418)
    expect(response.ok).toBe(false)
    expect(await withTimeout(response.json(), 2000, 'json()')).toEqual({ a: 'é' })
    expect(response.bodyUsed).toBe(true)
  })

  it('text(), json() and clone() read string, byte and stream bodies', async () => {
    expect(await lightResponse('plain', 200, {}).text()).toBe('plain')
    expect(await lightResponse(bytes('[1,2]'), 200, {}).json()).toEqual([1, 2])
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes('a'))
        controller.enqueue(bytes('b'))
        controller.close()
      },
    })
    const response = lightResponse(stream, 200, {})
    const copy = response.clone()
    expect(copy).toBeInstanceOf(Response)
    expect(await withTimeout(copy.text(), 2000, 'clone text()')).toBe('ab')
    expect(await withTimeout(response.text(), 2000, 'text()')).toBe('ab')
    expect(lightResponse(null, 200, {}).body).toBeNull()
  })

  it('a light response with a null body and a null-body status builds fine', async () => {
    const response = lightResponse(null, 204, { 'x-a': '1' })
    expect(response.headers.get('x-a')).toBe('1')
    expect(await response.text()).toBe('')
  })

  it('a body with a null-body status (an upstream 204 relayed as is) is dropped and its source cancelled', async () => {
    const source = new ScriptedSource([bytes('x')])
    const response = lightResponse(source, 204, { 'x-a': '1' })
    expect(response.headers.get('x-a')).toBe('1')
    expect(response.status).toBe(204)
    expect(response.body).toBeNull()
    expect(await response.text()).toBe('')
    expect(source.cancels).toHaveLength(1)
  })
})

describe('setResponseHeader', () => {
  it('sets a lower-cased header on the parts without building the real Response', () => {
    const response = lightResponse('x', 200, { 'content-type': 'text/plain' })
    setResponseHeader(response, 'X-Queuegate-Job', 'j1')
    setResponseHeader(response, 'Content-Type', 'text/html')
    expect(responseParts(response)?.headers).toEqual({ 'content-type': 'text/html', 'x-queuegate-job': 'j1' })
    expect(response.headers.get('x-queuegate-job')).toBe('j1')
    expect(response.headers.get('content-type')).toBe('text/html')
  })

  it('sets it on the real Response once it is built', () => {
    const response = lightResponse('x', 200, {})
    expect(response.headers.get('x-a')).toBeNull()
    setResponseHeader(response, 'X-A', '1')
    expect(responseParts(response)).toBeUndefined()
    expect(response.headers.get('x-a')).toBe('1')
  })

  it('sets it on an ordinary Response', () => {
    const response = new Response('x')
    setResponseHeader(response, 'X-A', '1')
    expect(response.headers.get('x-a')).toBe('1')
    expect(responseParts(response)).toBeUndefined()
  })
})

describe('lightResponse with a ByteSource body', () => {
  it('hands the source over as is while nobody builds the Response, without starting it', () => {
    const source = new ScriptedSource(numbered(3))
    const response = lightResponse(source, 200, { 'content-type': 'text/event-stream' })
    expect(responseParts(response)?.body).toBe(source)
    expect(source.starts).toBe(0)
  })

  it('reads through .text() with backpressure: the source waits for resume() and ends with its last chunk', async () => {
    const source = new ScriptedSource(numbered(300), { last: bytes('end') })
    const response = lightResponse(source, 200, {})
    expect(await withTimeout(response.text(), 5000, 'text()')).toBe(`${numberedText(300)}end`)
    expect(source.starts).toBe(1)
    expect(source.refusals).toBeGreaterThan(0)
  })

  it('reads through .body chunk by chunk, the source never more than a chunk or two ahead', async () => {
    const source = new ScriptedSource(numbered(100))
    const body = lightResponse(source, 200, {}).body
    expect(body).toBeInstanceOf(ReadableStream)
    const reader = (body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    let reads = 0
    let ahead = 0
    await withTimeout(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          reads++
          text += decoder.decode(value)
          ahead = Math.max(ahead, source.written - reads)
        }
      })(),
      5000,
      'reading the body',
    )
    expect(text).toBe(numberedText(100))
    expect(ahead).toBeLessThanOrEqual(2)
  })

  it('a source error errors the body: .text() rejects with it', async () => {
    const failure = new Error('upstream reset')
    const response = lightResponse(new ScriptedSource(numbered(5), { error: failure }), 200, {})
    await expect(withTimeout(response.text(), 2000, 'text()')).rejects.toBe(failure)
  })

  it('cancelling .body cancels the source', async () => {
    const source = new ScriptedSource(numbered(100))
    const reader = (lightResponse(source, 200, {}).body as ReadableStream<Uint8Array>).getReader()
    await withTimeout(reader.read(), 2000, 'first read')
    await withTimeout(reader.cancel('gone'), 2000, 'cancel')
    expect(source.cancels).toEqual(['gone'])
    expect(source.written).toBeLessThan(100)
  })
})

describe('markUnrouted', () => {
  it('marks a light response\'s parts, and the response reads the same as before to anyone else', async () => {
    const response = lightResponse('{"error":{}}', 404, { 'content-type': 'application/json' })
    expect(responseParts(response)?.unrouted).toBeUndefined()
    expect(markUnrouted(response)).toBe(response)
    expect(responseParts(response)?.unrouted).toBe(true)
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({ error: {} })
  })

  it('leaves a real Response as it is', () => {
    const response = new Response('x', { status: 404 })
    expect(markUnrouted(response)).toBe(response)
    expect(responseParts(response)).toBeUndefined()
  })
})
