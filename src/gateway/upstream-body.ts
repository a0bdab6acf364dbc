/**
 * The body of an upstream answer, fed by an undici dispatch handler. One consumer takes it: a
 * push consumer (the relays: each chunk as it arrives, with pause and resume reaching the
 * socket), or a whole-body read with a cap. What arrives before the consumer does is buffered, up to a bound past which
 * the socket is paused. Compared with undici's `request()` body (a node `Readable` read through
 * an async iterator), this costs no stream machinery and no promise per chunk.
 * @module
 */
import { UpstreamError } from '../errors.js'
import { concatBytes } from './concat-bytes.js'

const textDecoder = new TextDecoder()

/** A push consumer of an {@link UpstreamBody}. */
export interface BodyConsumer {
  /** One chunk; false pauses the upstream until {@link UpstreamBody.resume}. */
  data(chunk: Uint8Array): boolean
  end(): void
  error(error: Error): void
}

/** The part of undici's dispatch controller the body drives. */
export interface BodyController {
  pause(): void
  resume(): void
  abort(reason: Error): void
}

/** The consumer of a body taken whole by `takeComplete` (it takes nothing more). */
const TAKEN: BodyConsumer = { data: () => true, end: () => {}, error: () => {} }

/** Bytes buffered before a consumer attaches, past which the upstream socket is paused. */
const BUFFER_BYTES = 64 * 1024

/** See the module doc. */
export class UpstreamBody {
  #controller: BodyController | undefined
  #buffered: Uint8Array[] = []
  #bufferedBytes = 0
  #ended = false
  #failure: Error | undefined
  #consumer: BodyConsumer | undefined
  #paused = false
  #destroyed = false
  /** The consumer has been told of the end or the failure. */
  #told = false

  /** @internal The dispatch handler hands over its controller. */
  attach(controller: BodyController): void {
    this.#controller = controller
    if (this.#destroyed) controller.abort(new UpstreamError('The upstream request was cancelled.'))
  }

  /** @internal A chunk from the upstream; false pauses the socket. */
  push(chunk: Uint8Array): boolean {
    if (this.#destroyed) return true
    const consumer = this.#consumer
    if (consumer !== undefined && this.#buffered.length === 0 && !this.#paused) {
      const more = consumer.data(chunk)
      if (!more) this.#paused = true
      return more
    }
    this.#buffered.push(chunk)
    this.#bufferedBytes += chunk.byteLength
    if (this.#bufferedBytes < BUFFER_BYTES) return true
    this.#paused = true
    return false
  }

  /** @internal The upstream finished the body. */
  finish(): void {
    if (this.#destroyed) return
    this.#ended = true
    if (this.#consumer !== undefined && this.#buffered.length === 0) this.#tell(this.#consumer)
  }

  /** @internal The upstream failed mid-body. */
  fail(error: Error): void {
    if (this.#destroyed || this.#ended) return
    this.#failure = error
    if (this.#consumer !== undefined && this.#buffered.length === 0) this.#tell(this.#consumer)
  }

  /** True once nothing more can arrive (ended, failed or destroyed). */
  get settled(): boolean {
    return this.#ended || this.#failure !== undefined || this.#destroyed
  }

  /** Attaches the one push consumer: buffered chunks first, then live ones, then the end or the failure. */
  consume(consumer: BodyConsumer): void {
    if (this.#consumer !== undefined) throw new TypeError('The upstream body already has a consumer.')
    if (this.#destroyed) {
      this.#tell(consumer)
      return
    }
    this.#consumer = consumer
    this.#flush()
  }

  /** The consumer can take more after `data` returned false. */
  resume(): void {
    if (this.#destroyed) return
    this.#flush()
  }

  /**
   * Stops the body: aborts the upstream request (or its socket read), drops what is buffered,
   * and fails a consumer that still waits (a `bytes()` read, a relay) with `reason`.
   */
  destroy(reason?: Error): void {
    if (this.#destroyed) return
    const cause = reason ?? new UpstreamError('The upstream body was cancelled.')
    this.#destroyed = true
    this.#buffered = []
    this.#bufferedBytes = 0
    const consumer = this.#consumer
    const controller = this.#controller
    this.#consumer = undefined
    this.#controller = undefined
    const open = !this.#ended && this.#failure === undefined
    if (open) this.#failure = cause
    if (consumer !== undefined) this.#tell(consumer)
    if (open) controller?.abort(cause)
  }

  /**
   * The whole body at once when it has already arrived in full (a short JSON answer usually
   * comes in the same read as its headers) and is within `maxBytes`; otherwise undefined, and
   * the body is left as it was. Taking it consumes the body.
   */
  takeComplete(maxBytes: number): Uint8Array | undefined {
    if (!this.#ended || this.#consumer !== undefined || this.#destroyed || this.#bufferedBytes > maxBytes) return undefined
    const parts = this.#buffered
    const size = this.#bufferedBytes
    this.#buffered = []
    this.#bufferedBytes = 0
    this.#consumer = TAKEN
    this.#told = true
    this.#controller = undefined
    return concatBytes(parts, size)
  }

  /** Reads the whole body; past `maxBytes` the request is aborted and this rejects with 502. */
  bytes(maxBytes: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const parts: Uint8Array[] = []
      let size = 0
      this.consume({
        data: (chunk) => {
          size += chunk.byteLength
          if (size > maxBytes) {
            reject(new UpstreamError(`The upstream answer is larger than ${maxBytes} bytes.`, { code: 'upstream_response_too_large' }))
            this.destroy()
            return false
          }
          parts.push(chunk)
          return true
        },
        end: () => resolve(concatBytes(parts, size)),
        error: reject,
      })
    })
  }

  /** Reads the whole body as UTF-8 text (see {@link bytes}). */
  async text(maxBytes: number): Promise<string> {
    return textDecoder.decode(await this.bytes(maxBytes))
  }

  #tell(consumer: BodyConsumer): void {
    if (this.#told) return
    this.#told = true
    // Nothing more will flow: let go of the consumer (the client's response) and the request,
    // which undici may keep referenced for a while after the end.
    this.#consumer = undefined
    this.#controller = undefined
    if (this.#failure !== undefined) consumer.error(this.#failure)
    else consumer.end()
  }

  #flush(): void {
    const consumer = this.#consumer
    if (consumer === undefined) return
    while (this.#buffered.length > 0) {
      const chunk = this.#buffered.shift() as Uint8Array
      this.#bufferedBytes -= chunk.byteLength
      if (!consumer.data(chunk)) {
        this.#paused = true
        return
      }
      if (this.#destroyed || this.#consumer !== consumer) return
    }
    if (this.#ended || this.#failure !== undefined) {
      this.#tell(consumer)
      return
    }
    if (this.#paused) {
      this.#paused = false
      this.#controller?.resume()
    }
  }
}
