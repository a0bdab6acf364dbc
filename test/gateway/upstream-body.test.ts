import { describe, expect, it } from 'vitest'
import { QueuegateError, UpstreamError } from '../../src/errors.js'
import { UpstreamBody } from '../../src/gateway/upstream-body.js'
import type { BodyConsumer, BodyController } from '../../src/gateway/upstream-body.js'
import { withTimeout } from '../helpers/with-timeout.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (text: string): Uint8Array => encoder.encode(text)

/** A dispatch controller that records what the body asked of it. */
class FakeController implements BodyController {
  readonly calls: string[] = []
  readonly aborts: Error[] = []
  pause(): void {
    this.calls.push('pause')
  }
  resume(): void {
    this.calls.push('resume')
  }
  abort(reason: Error): void {
    this.calls.push('abort')
    this.aborts.push(reason)
  }
}

/** A body attached to a fake controller. */
function attached(): { body: UpstreamBody; controller: FakeController } {
  const body = new UpstreamBody()
  const controller = new FakeController()
  body.attach(controller)
  return { body, controller }
}

/** Pushes a chunk the way the dispatch handler does: a false answer pauses the controller. */
function deliver(body: UpstreamBody, controller: BodyController, chunk: string | Uint8Array): boolean {
  const more = body.push(typeof chunk === 'string' ? bytes(chunk) : chunk)
  if (!more) controller.pause()
  return more
}

/** A push consumer that records what it is told; `answer` decides what `data` returns. */
function recorder(answer: (chunk: string, index: number) => boolean = () => true): BodyConsumer & { log: string[] } {
  const log: string[] = []
  let index = 0
  return {
    log,
    data(chunk) {
      const text = decoder.decode(chunk)
      log.push(`data:${text}`)
      return answer(text, index++)
    },
    end() {
      log.push('end')
    },
    error(error) {
      log.push(`error:${error.message}`)
    },
  }
}

type Settled<T> = { state: 'pending' } | { state: 'fulfilled'; value: T } | { state: 'rejected'; reason: unknown }

/** How `promise` stands once every pending microtask and one macrotask turn have run (no timer). */
async function afterTurn<T>(promise: Promise<T>): Promise<Settled<T>> {
  let settled: Settled<T> = { state: 'pending' }
  promise.then(
    (value) => (settled = { state: 'fulfilled', value }),
    (reason: unknown) => (settled = { state: 'rejected', reason }),
  )
  await new Promise<void>((resolve) => setImmediate(resolve))
  return settled
}

describe('UpstreamBody: push consumer', () => {
  it('delivers buffered chunks first and in order, then live ones, then the end exactly once', () => {
    const { body, controller } = attached()
    expect(deliver(body, controller, 'a')).toBe(true)
    expect(deliver(body, controller, 'b')).toBe(true)
    const consumer = recorder()
    body.consume(consumer)
    expect(consumer.log).toEqual(['data:a', 'data:b'])
    expect(deliver(body, controller, 'c')).toBe(true)
    expect(body.settled).toBe(false)
    body.finish()
    body.finish()
    body.fail(new Error('late'))
    expect(consumer.log).toEqual(['data:a', 'data:b', 'data:c', 'end'])
    expect(body.settled).toBe(true)
    expect(controller.calls).toEqual([])
  })

  it('a body that ended before the consumer came delivers everything, then the end, on consume()', () => {
    const { body, controller } = attached()
    deliver(body, controller, 'a')
    body.finish()
    expect(body.settled).toBe(true)
    const consumer = recorder()
    body.consume(consumer)
    expect(consumer.log).toEqual(['data:a', 'end'])
  })

  it('a consumer answering false pauses the upstream until resume(), which flushes what came meanwhile in order', () => {
    const { body, controller } = attached()
    const consumer = recorder((text) => text !== 'b')
    body.consume(consumer)
    expect(deliver(body, controller, 'a')).toBe(true)
    expect(deliver(body, controller, 'b')).toBe(false)
    expect(controller.calls).toEqual(['pause'])
    // Chunks already on their way when the socket paused are held, not given to the consumer.
    deliver(body, controller, 'c')
    deliver(body, controller, 'd')
    body.finish()
    expect(consumer.log).toEqual(['data:a', 'data:b'])
    body.resume()
    expect(consumer.log).toEqual(['data:a', 'data:b', 'data:c', 'data:d', 'end'])
    // The body ended while paused: there is no socket left to resume.
    expect(controller.calls).toEqual(['pause'])
  })

  it('resume() flushes and resumes the socket once; a resume() while not paused does nothing', () => {
    const { body, controller } = attached()
    const consumer = recorder((text) => text !== 'b')
    body.consume(consumer)
    body.resume()
    expect(controller.calls).toEqual([])
    deliver(body, controller, 'b')
    deliver(body, controller, 'c')
    body.resume()
    expect(consumer.log).toEqual(['data:b', 'data:c'])
    expect(controller.calls).toEqual(['pause', 'resume'])
    body.resume()
    expect(controller.calls).toEqual(['pause', 'resume'])
    expect(deliver(body, controller, 'e')).toBe(true)
    expect(consumer.log).toEqual(['data:b', 'data:c', 'data:e'])
  })

  it('a consumer that pauses again during the flush keeps the rest buffered for the next resume()', () => {
    const { body, controller } = attached()
    for (const chunk of ['a', 'b', 'c', 'd']) deliver(body, controller, chunk)
    const consumer = recorder((text) => text !== 'b' && text !== 'c')
    body.consume(consumer)
    expect(consumer.log).toEqual(['data:a', 'data:b'])
    body.resume()
    expect(consumer.log).toEqual(['data:a', 'data:b', 'data:c'])
    body.finish()
    expect(consumer.log).toEqual(['data:a', 'data:b', 'data:c'])
    body.resume()
    expect(consumer.log).toEqual(['data:a', 'data:b', 'data:c', 'data:d', 'end'])
  })

  it('with no consumer, buffers up to 64 KiB and then asks for the socket to pause; consume() resumes it', () => {
    const { body, controller } = attached()
    expect(deliver(body, controller, new Uint8Array(32 * 1024))).toBe(true)
    expect(deliver(body, controller, new Uint8Array(32 * 1024 - 1))).toBe(true)
    expect(controller.calls).toEqual([])
    expect(deliver(body, controller, new Uint8Array(1))).toBe(false)
    expect(controller.calls).toEqual(['pause'])
    const sizes: number[] = []
    body.consume({ data: (chunk) => sizes.push(chunk.byteLength) > 0, end: () => sizes.push(-1), error: () => sizes.push(-2) })
    expect(sizes).toEqual([32 * 1024, 32 * 1024 - 1, 1])
    expect(controller.calls).toEqual(['pause', 'resume'])
    body.finish()
    expect(sizes.at(-1)).toBe(-1)
  })

  it('fail() after data: the consumer gets the data, then the error once, and no end', () => {
    const { body, controller } = attached()
    deliver(body, controller, 'a')
    const consumer = recorder()
    body.consume(consumer)
    deliver(body, controller, 'b')
    body.fail(new Error('socket hang up'))
    body.fail(new Error('again'))
    body.finish()
    expect(consumer.log).toEqual(['data:a', 'data:b', 'error:socket hang up'])
    expect(body.settled).toBe(true)
  })

  it('a failure while paused reaches the consumer after the chunks before it', () => {
    const { body, controller } = attached()
    const consumer = recorder(() => false)
    body.consume(consumer)
    deliver(body, controller, 'a')
    deliver(body, controller, 'b')
    body.fail(new Error('reset'))
    expect(consumer.log).toEqual(['data:a'])
    body.resume()
    expect(consumer.log).toEqual(['data:a', 'data:b'])
    body.resume()
    expect(consumer.log).toEqual(['data:a', 'data:b', 'error:reset'])
  })

  it('consume() a second time throws, and the first consumer keeps the body', () => {
    const { body, controller } = attached()
    const first = recorder()
    body.consume(first)
    expect(() => body.consume(recorder())).toThrow(TypeError)
    expect(() => body.consume(recorder())).toThrow('already has a consumer')
    deliver(body, controller, 'a')
    body.finish()
    expect(first.log).toEqual(['data:a', 'end'])
  })
})

describe('UpstreamBody: destroy', () => {
  it('aborts the controller with an UpstreamError once, however often it is called', () => {
    const { body, controller } = attached()
    body.destroy()
    body.destroy()
    body.destroy(new Error('other'))
    expect(controller.calls).toEqual(['abort'])
    expect(controller.aborts[0]).toBeInstanceOf(UpstreamError)
    expect(body.settled).toBe(true)
  })

  it('aborts with the reason it is given', () => {
    const { body, controller } = attached()
    const reason = new Error('client went away')
    body.destroy(reason)
    expect(controller.aborts).toEqual([reason])
  })

  it('tells a waiting consumer once, then delivers nothing: buffered chunks are dropped, later chunks, ends and failures go nowhere', () => {
    const { body, controller } = attached()
    const consumer = recorder(() => false)
    body.consume(consumer)
    deliver(body, controller, 'a')
    deliver(body, controller, 'b')
    body.destroy(new Error('gone'))
    body.resume()
    // Chunks still arriving after the abort must not make the handler pause an aborted request.
    expect(deliver(body, controller, 'c')).toBe(true)
    body.finish()
    body.fail(new Error('aborted'))
    expect(consumer.log).toEqual(['data:a', 'error:gone'])
    expect(controller.calls).toEqual(['pause', 'abort'])
  })

  it('a body destroyed before its controller arrives aborts it on attach()', () => {
    const body = new UpstreamBody()
    body.destroy()
    const controller = new FakeController()
    body.attach(controller)
    expect(controller.calls).toEqual(['abort'])
  })

  it('does not abort a body that already ended or failed', () => {
    const ended = attached()
    ended.body.finish()
    ended.body.destroy()
    const failed = attached()
    failed.body.fail(new Error('x'))
    failed.body.destroy()
    expect([...ended.controller.calls, ...failed.controller.calls]).toEqual([])
  })
})

describe('UpstreamBody: bytes() and text()', () => {
  it('bytes() reads buffered and live chunks into one buffer', async () => {
    const { body, controller } = attached()
    deliver(body, controller, 'hello ')
    const read = body.bytes(100)
    deliver(body, controller, 'world')
    body.finish()
    expect(decoder.decode(await withTimeout(read, 2000, 'bytes()'))).toBe('hello world')
  })

  it('bytes() of an empty body is empty, and a body of exactly maxBytes is fine', async () => {
    const empty = attached()
    empty.body.finish()
    expect((await withTimeout(empty.body.bytes(0), 2000, 'bytes()')).byteLength).toBe(0)
    const full = attached()
    deliver(full.body, full.controller, '12345')
    deliver(full.body, full.controller, '67890')
    full.body.finish()
    expect(decoder.decode(await withTimeout(full.body.bytes(10), 2000, 'bytes()'))).toBe('1234567890')
    expect(full.controller.calls).toEqual([])
  })

  it('text() decodes UTF-8 split across chunks', async () => {
    const { body, controller } = attached()
    const raw = bytes('{"c":"é東🌧️"}')
    for (let offset = 0; offset < raw.length; offset += 3) deliver(body, controller, raw.slice(offset, offset + 3))
    body.finish()
    expect(await withTimeout(body.text(1000), 2000, 'text()')).toBe('{"c":"é東🌧️"}')
  })

  const expectTooLarge = (error: unknown): void => {
    expect(QueuegateError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ name: 'UpstreamError', status: 502, code: 'upstream_response_too_large' })
  }

  it('bytes() past maxBytes rejects with upstream_response_too_large and aborts the upstream (live chunks)', async () => {
    const { body, controller } = attached()
    const read = body.bytes(8)
    deliver(body, controller, '12345')
    expect(controller.calls).toEqual([])
    deliver(body, controller, '6789')
    const error = await withTimeout(read, 2000, 'bytes()').catch((reason: unknown) => reason)
    expectTooLarge(error)
    expect(controller.calls.filter((call) => call === 'abort')).toHaveLength(1)
    // The rest of the body goes nowhere.
    expect(deliver(body, controller, 'more')).toBe(true)
    body.finish()
  })

  it('text() past maxBytes rejects the same way (chunks buffered before the read)', async () => {
    const { body, controller } = attached()
    deliver(body, controller, 'a'.repeat(10))
    deliver(body, controller, 'b'.repeat(10))
    body.finish()
    const error = await withTimeout(body.text(15), 2000, 'text()').catch((reason: unknown) => reason)
    expectTooLarge(error)
    // The upstream had already finished: nothing left to abort.
    expect(controller.calls).toEqual([])
  })

  it('text() past maxBytes aborts a body still arriving', async () => {
    const { body, controller } = attached()
    deliver(body, controller, 'a'.repeat(10))
    deliver(body, controller, 'b'.repeat(10))
    const error = await withTimeout(body.text(15), 2000, 'text()').catch((reason: unknown) => reason)
    expectTooLarge(error)
    expect(controller.calls).toEqual(['abort'])
  })

  it('bytes() rejects with the failure of a body that fails', async () => {
    const { body, controller } = attached()
    const read = body.bytes(100)
    deliver(body, controller, 'partial')
    const failure = new UpstreamError('The upstream stream failed.')
    body.fail(failure)
    await expect(withTimeout(read, 2000, 'bytes()')).rejects.toBe(failure)
  })

  it('bytes() takes the body: a second consumer is refused', () => {
    const { body } = attached()
    void body.bytes(10)
    expect(() => body.consume(recorder())).toThrow(TypeError)
  })
})

/**
 * An upstream socket that writes `chunks` into the body as fast as the body lets it: it stops on
 * pause and goes on (on a later turn) on resume, then finishes or fails. Counts how far the
 * writes ever ran ahead of the reader.
 */
class FakeSocket implements BodyController {
  readonly calls: string[] = []
  readonly aborts: Error[] = []
  pushed = 0
  #paused = false
  #aborted = false
  readonly #body: UpstreamBody
  readonly #chunks: Uint8Array[]
  readonly #failure: Error | undefined

  constructor(body: UpstreamBody, chunks: Uint8Array[], failure?: Error) {
    this.#body = body
    this.#chunks = chunks
    this.#failure = failure
    body.attach(this)
  }

  pause(): void {
    this.calls.push('pause')
    this.#paused = true
  }
  resume(): void {
    this.calls.push('resume')
    this.#paused = false
    setImmediate(() => this.pump())
  }
  abort(reason: Error): void {
    this.calls.push('abort')
    this.aborts.push(reason)
    this.#aborted = true
  }

  pump(): void {
    while (!this.#paused && !this.#aborted && this.pushed < this.#chunks.length) {
      const chunk = this.#chunks[this.pushed++] as Uint8Array
      if (!this.#body.push(chunk)) this.pause()
      // The end comes with the last chunk, paused or not.
      if (this.pushed === this.#chunks.length) {
        if (this.#failure === undefined) this.#body.finish()
        else this.#body.fail(this.#failure)
      }
    }
  }
}

describe('UpstreamBody: takeComplete()', () => {
  it('hands over a body that has fully arrived, at once and whole, and it is consumed', () => {
    const { body, controller } = attached()
    deliver(body, controller, '{"a":')
    deliver(body, controller, '1}')
    body.finish()
    expect(decoder.decode(body.takeComplete(1024))).toBe('{"a":1}')
    expect(() => body.consume(recorder())).toThrow(TypeError)
    body.destroy()
    expect(controller.calls).not.toContain('abort')
  })

  it('gives undefined and leaves the body as it was while it is still arriving, or past the cap', async () => {
    const arriving = attached()
    deliver(arriving.body, arriving.controller, 'part')
    expect(arriving.body.takeComplete(1024)).toBeUndefined()
    deliver(arriving.body, arriving.controller, ' two')
    arriving.body.finish()
    expect(await arriving.body.text(1024)).toBe('part two')

    const large = attached()
    deliver(large.body, large.controller, 'x'.repeat(100))
    large.body.finish()
    expect(large.body.takeComplete(10)).toBeUndefined()
    await expect(large.body.bytes(10)).rejects.toMatchObject({ code: 'upstream_response_too_large' })
  })

  it('gives an empty body for an answer without one', () => {
    const { body } = attached()
    body.finish()
    expect(body.takeComplete(10)).toEqual(new Uint8Array(0))
  })
})
