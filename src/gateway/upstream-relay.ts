/**
 * An upstream body relayed to the client as a push {@link ByteSource}: SSE re-framed on the way
 * (the answer's fast path, when no chunk transform applies), SSE parsed into chunks that go
 * through a chain of transforms (the tool-call detector), bytes until a gated transform's trigger
 * fires and chunks from there on (`relayGated`: the reasoning split), or bytes as they are (the
 * other `/v1/*` endpoints). The upstream socket pauses when the client's does, the job ends exactly
 * once, and a client that goes away cancels the upstream request.
 * @module
 */
import { QueuegateError, UpstreamError } from '../errors.js'
import { encodeSseError } from '../openai/sse.js'
import { createSseReframer } from '../openai/sse-reframer.js'
import type { SseReframer } from '../openai/sse-reframer.js'
import type { ChatCompletionChunk } from '../openai/types.js'
import type { ByteSink, ByteSource } from './byte-source.js'
import type { ChunkTransform } from './chunk-pipeline.js'
import type { BodyConsumer, UpstreamBody } from './upstream-body.js'
import { ChunkEvents, completedChunks, decodeChunk } from './chunk-events.js'

export { decodeChunk } from './chunk-events.js'

/** Why a relayed body ended. */
export type RelayEnd = 'done' | 'error' | 'cancel'

/** Options of the relays; an object with these as methods works too (they are called on it). */
export interface RelayOptions {
  /** Called once: the upstream finished (`done`), failed (`error`), or the client left first (`cancel`). */
  onEnd?: ((reason: RelayEnd, error?: Error) => void) | undefined
  /** The client went away before the end: abort the upstream request. */
  onCancel?: ((reason: unknown) => void) | undefined
  /** Turns a failure into the error the client sees. @default an UpstreamError */
  mapError?: ((error: unknown) => Error) | undefined
  /**
   * The first answer event is on its way to the client (time to first token). Called once or
   * twice (a gated relay's byte path, then its chunk path): keep the first. An answer whose
   * events all arrive with `[DONE]` in one read reaches `onEnd` without it.
   */
  onFirstEvent?: (() => void) | undefined
}

/**
 * What a relay saw of the answer, read at its end (figures for logs and metrics; counting costs
 * one increment per event, and the last event is kept as a place in a buffer, decoded when asked).
 */
export interface RelayedAnswer {
  /** Data events relayed, `[DONE]` not counted (chunks: about one token each). */
  readonly events: number
  /** The last data event before `[DONE]` (where `usage` comes): its payload text, or the chunk parsed from it. */
  lastEvent(): string | ChatCompletionChunk | undefined
}

/**
 * What the three relays share: one object that is both the client's {@link ByteSource} and the
 * upstream body's consumer, ends exactly once (its last bytes go out before `onEnd`, so they
 * leave before the job's bookkeeping), and cancels the upstream when the client leaves first.
 * (A class: one object per answer, where closures would be a dozen.)
 */
export abstract class BodyRelay implements ByteSource, BodyConsumer, RelayedAnswer {
  protected readonly body: UpstreamBody
  protected readonly options: RelayOptions
  protected sink: ByteSink | undefined
  protected ended = false
  /** An answer event went out already (onFirstEvent was called). */
  protected sent = false

  constructor(body: UpstreamBody, options: RelayOptions) {
    this.body = body
    this.options = options
  }

  start(sink: ByteSink): void {
    this.sink = sink
    this.body.consume(this)
  }

  resume(): void {
    this.body.resume()
  }

  cancel(reason?: unknown): void {
    if (!this.finishOnce('cancel')) return
    this.options.onCancel?.(reason)
    this.body.destroy()
  }

  abstract data(chunk: Uint8Array): boolean
  abstract end(): void
  abstract error(error: Error): void
  abstract get events(): number
  abstract lastEvent(): string | ChatCompletionChunk | undefined

  /** The first event goes out now. */
  protected firstEvent(): void {
    this.sent = true
    this.options.onFirstEvent?.()
  }

  /** Ends once: `last` (the last bytes to the client) runs before onEnd. False when already ended. */
  protected finishOnce(reason: RelayEnd, error?: Error, last?: Uint8Array | 'end' | 'error'): boolean {
    if (this.ended) return false
    this.ended = true
    if (last === 'end') this.sink?.end()
    else if (last === 'error') this.sink?.error(error as Error)
    else if (last !== undefined) this.sink?.end(last)
    this.options.onEnd?.(reason, error)
    return true
  }

  /** A failure, as the error the client sees. */
  protected mapError(error: unknown): Error {
    return this.options.mapError !== undefined ? this.options.mapError(error) : toRelayError(error)
  }
}

/**
 * The upstream's SSE answer, re-framed (see `sse-reframer.ts`): events as they arrive, `[DONE]`
 * at the end (with the last events, in one write), and a failure, before or after the first
 * event, as one `data: {"error": …}` event that ends the stream. The job ends (`done`) as soon
 * as `[DONE]` arrives; what the upstream sends after it is read and dropped, so its connection
 * goes back to the pool.
 */
export function relayEvents(body: UpstreamBody, options: RelayOptions & { maxEventChars?: number | undefined } = {}): ByteSource & RelayedAnswer {
  return new EventRelay(body, options)
}

class EventRelay extends BodyRelay {
  readonly #reframer: SseReframer

  constructor(body: UpstreamBody, options: RelayOptions & { maxEventChars?: number | undefined }) {
    super(body, options)
    this.#reframer = createSseReframer({ maxEventChars: options.maxEventChars, jsonObjects: true })
  }

  data(chunk: Uint8Array): boolean {
    if (this.ended) return true
    let out: Uint8Array
    try {
      out = this.#reframer.feed(chunk)
    } catch (error) {
      this.error(error as Error)
      this.body.destroy()
      return true
    }
    const failure = this.#reframer.failure
    if (failure !== undefined) {
      // An event that is not JSON: the events before it, then the error event (its text never goes out).
      if (out.byteLength > 0) (this.sink as ByteSink).write(out)
      this.error(failure)
      this.body.destroy()
      return true
    }
    if (this.#reframer.done) {
      this.#finish(out)
      return true
    }
    if (out.byteLength === 0) return true
    if (!this.sent) this.firstEvent()
    return (this.sink as ByteSink).write(out)
  }

  get events(): number {
    return this.#reframer.events
  }

  lastEvent(): string | undefined {
    return this.#reframer.lastPayload()
  }

  end(): void {
    if (this.ended) return
    let out: Uint8Array
    try {
      out = this.#reframer.end()
    } catch (error) {
      this.error(error as Error)
      return
    }
    this.#finish(out)
  }

  /** The last bytes out; an error event the upstream sent on the way (relayed as it was) makes the end a failure for the job's record. */
  #finish(out: Uint8Array): void {
    const reported = this.#reframer.errorPayload === undefined ? undefined : decodeChunk(this.#reframer.errorPayload)
    if (reported instanceof Error) this.finishOnce('error', reported, out)
    else this.finishOnce('done', undefined, out)
  }

  error(error: Error): void {
    const failure = this.mapError(error)
    this.finishOnce('error', failure, encodeSseError(failure))
  }
}

/** The upstream's body as it is; a failure mid-way cuts the response (its headers are out). */
export function relayBytes(body: UpstreamBody, options: RelayOptions = {}): ByteSource {
  return new ByteRelay(body, options)
}

class ByteRelay extends BodyRelay {
  data(chunk: Uint8Array): boolean {
    return this.ended || (this.sink as ByteSink).write(chunk)
  }

  /** Not an event stream (or not read as one): nothing counted. */
  get events(): number {
    return 0
  }

  lastEvent(): undefined {
    return undefined
  }

  end(): void {
    this.finishOnce('done', undefined, 'end')
  }

  error(error: Error): void {
    this.finishOnce('error', this.mapError(error), 'error')
  }
}

/**
 * The upstream's SSE answer through a chain of chunk transforms: payloads parsed with
 * eventsource-parser, each chunk fed to the chain, what the chain emits re-encoded as SSE, one
 * write per network read. `[DONE]` (or the end of the body) flushes the chain and ends the
 * stream with `[DONE]`; an `{"error": …}` payload, a payload that is not a JSON object (never
 * echoed) or a failure ends it with one error event.
 */
export function relayChunks(
  body: UpstreamBody,
  createChain: (onChunk: (chunk: ChatCompletionChunk) => void) => ChunkTransform,
  options: RelayOptions & { maxEventChars?: number | undefined } = {},
): ByteSource & RelayedAnswer {
  return new ChunkRelay(body, createChain, options)
}

export class ChunkRelay extends BodyRelay {
  readonly #chain: ChunkTransform
  readonly #events: ChunkEvents
  /**
   * The upstream's own text of the chunks parsed from the current network read. A chunk the
   * chain passes on as the same object (transforms never change a chunk they receive) goes out
   * as that text: no `JSON.stringify`, and byte for byte what the upstream sent.
   */
  readonly #originals = new Map<ChatCompletionChunk, string>()
  #out = ''
  #count = 0
  /** The upstream's last chunk (before the transforms). */
  #last: ChatCompletionChunk | undefined

  /**
   * `midway`: the body's first bytes went out before (a gated relay hands over at an event
   * boundary): a U+FEFF here is a character, not the byte-order mark of the body's start.
   */
  constructor(body: UpstreamBody, createChain: (onChunk: (chunk: ChatCompletionChunk) => void) => ChunkTransform, options: RelayOptions & { maxEventChars?: number | undefined }, midway = false) {
    super(body, options)
    this.#chain = createChain((chunk) => {
      this.#out += `data: ${this.#originals.get(chunk) ?? JSON.stringify(chunk)}\n\n`
    })
    this.#events = new ChunkEvents({
      maxEventChars: options.maxEventChars,
      midway,
      onChunk: (chunk, data) => {
        // A payload spread over several `data:` lines is re-serialized on one line: its own text,
        // written after one `data: `, would break the SSE framing.
        if (!completedChunks.has(chunk) && !data.includes('\n')) this.#originals.set(chunk, data)
        this.#count++
        this.#last = chunk
        this.#chain.feed(chunk)
      },
    })
  }

  /** Writes to `sink` from now on, without consuming the body (a gated relay already does). */
  adopt(sink: ByteSink): void {
    this.sink = sink
  }

  data(chunk: Uint8Array): boolean {
    if (this.ended) return true
    const events = this.#events
    events.feed(chunk)
    this.#originals.clear()
    if (events.failure !== undefined) {
      this.error(events.failure)
      this.body.destroy()
      return true
    }
    if (events.done) {
      this.#finish()
      return true
    }
    if (this.#out === '') return true
    const bytes = encoder.encode(this.#out)
    this.#out = ''
    if (!this.sent) this.firstEvent()
    return (this.sink as ByteSink).write(bytes)
  }

  get events(): number {
    return this.#count
  }

  lastEvent(): ChatCompletionChunk | undefined {
    return this.#last
  }

  end(): void {
    if (this.ended) return
    this.#events.end()
    if (this.#events.failure !== undefined) this.error(this.#events.failure)
    else this.#finish()
  }

  error(error: Error): void {
    if (this.ended) return
    const failure = this.mapError(error)
    // What the chain emitted before the failure still goes out, then the error event.
    const before = this.#out
    this.#out = ''
    if (before !== '') this.sink?.write(encoder.encode(before))
    this.finishOnce('error', failure, encodeSseError(failure))
  }

  /** [DONE] or the end of the body: flush the chain and end the stream. */
  #finish(): void {
    try {
      this.#chain.flush()
    } catch (error) {
      this.error(error as Error)
      return
    }
    const last = `${this.#out}data: [DONE]\n\n`
    this.#out = ''
    this.finishOnce('done', undefined, encoder.encode(last))
  }
}

const encoder = new TextEncoder()



function toRelayError(error: unknown): Error {
  if (QueuegateError.isInstance(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  return new UpstreamError(`The upstream stream failed: ${message}`, { cause: error })
}
