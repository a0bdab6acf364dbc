/**
 * Server-sent events in and out: the upstream's `text/event-stream` becomes a stream of `data`
 * payloads (eventsource-parser) for the chunk transforms, and payloads become `data: …` frames
 * again on the way out. (The answer's fast path re-frames bytes instead: sse-reframer.ts.)
 * @module
 */
import { createParser } from 'eventsource-parser'
import { QueuegateError, UpstreamError } from '../errors.js'

const encoder = new TextEncoder()

/** Encodes one `data:` frame. A payload holds no newline (JSON.stringify output never does). */
export function encodeSseData(data: string): Uint8Array {
  return encoder.encode(`data: ${data}\n\n`)
}

/** Encodes an SSE comment line (invisible to clients; keeps proxies from timing out). */
export function encodeSseComment(text: string): Uint8Array {
  return encoder.encode(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`)
}

/** Encodes an error as the one `data: {"error": …}` event the OpenAI clients understand. */
export function encodeSseError(error: unknown): Uint8Array {
  const body = QueuegateError.isInstance(error)
    ? error.toJSON()
    : new UpstreamError(error instanceof Error ? error.message : 'The stream failed.').toJSON()
  return encodeSseData(JSON.stringify(body))
}

/** Options of {@link sseDataStream}. */
export interface SseDataStreamOptions {
  /** Largest event the upstream may send, in characters; a larger one fails the stream. @default 8 MiB */
  maxEventChars?: number | undefined
  /** Called once when the source ends, fails or is cancelled (releases the slot). */
  onEnd?: ((reason: 'done' | 'error' | 'cancel', error?: Error) => void) | undefined
  /** Called on cancel so the upstream request is aborted. */
  onCancel?: ((reason: unknown) => void) | undefined
  /** Turns an error thrown by the body into the error the client sees. */
  mapError?: ((error: unknown) => Error) | undefined
}

/**
 * Reads `data` payloads off an SSE body in batches: every event that one network read
 * delivered comes back as one array, so a fast upstream costs one stream hop (and one socket
 * write downstream) per read rather than per token. Stops at `[DONE]` or the end of the body.
 */
class SseBatchReader {
  readonly #iterator: AsyncIterator<Uint8Array>
  readonly #decoder = new TextDecoder()
  readonly #mapError: (error: unknown) => Error
  readonly #parser: ReturnType<typeof createParser>
  #pending: string[] = []
  #done = false
  #failure: Error | undefined

  constructor(body: AsyncIterable<Uint8Array>, maxEventChars: number, mapError: (error: unknown) => Error) {
    this.#iterator = body[Symbol.asyncIterator]()
    this.#mapError = mapError
    this.#parser = createParser({
      onEvent: (event) => {
        if (this.#done) return
        if (event.data === '[DONE]') this.#done = true
        else this.#pending.push(event.data)
      },
      onError: (error) => {
        // Unknown fields and bad `retry` values are ignored, as the SSE spec says.
        if (error.type !== 'max-buffer-size-exceeded') return
        this.#failure ??= new UpstreamError(`The upstream sent an event larger than ${maxEventChars} characters.`, { cause: error, code: 'upstream_bad_event' })
      },
      maxBufferSize: maxEventChars,
    })
  }

  /** The next batch of payloads; undefined at the end; throws the mapped error on failure. */
  async next(): Promise<string[] | undefined> {
    try {
      while (this.#pending.length === 0 && !this.#done && this.#failure === undefined) {
        const next = await this.#iterator.next()
        if (next.done) {
          this.#parser.feed(this.#decoder.decode())
          this.#parser.reset({ consume: true })
          this.#done = true
          break
        }
        this.#parser.feed(this.#decoder.decode(next.value, { stream: true }))
      }
    } catch (error) {
      this.#failure ??= this.#mapError(error)
    }
    if (this.#pending.length > 0) {
      const batch = this.#pending
      this.#pending = []
      return batch
    }
    if (this.#failure !== undefined) throw this.#failure
    // Read what follows [DONE] (usually nothing) so the connection goes back to the pool
    // without the cost of destroying the body.
    void drain(this.#iterator)
    return undefined
  }

  /** Stops reading and lets the body go. */
  async cancel(): Promise<void> {
    await this.#iterator.return?.()
  }
}

/**
 * Turns an upstream SSE body into a pull-based stream of `data` payload batches (see
 * {@link SseBatchReader}), for the chunk transforms. Ends at `[DONE]` (not emitted) or at the
 * end of the body; the upstream is read only as fast as the client reads.
 */
export function sseDataStream(body: AsyncIterable<Uint8Array>, options: SseDataStreamOptions = {}): ReadableStream<string[]> {
  const { maxEventChars = 8 * 1024 * 1024, onEnd, onCancel, mapError = toStreamError } = options
  const reader = new SseBatchReader(body, maxEventChars, mapError)
  let ended = false
  const end = (reason: 'done' | 'error' | 'cancel', error?: Error): void => {
    if (ended) return
    ended = true
    onEnd?.(reason, error)
  }
  return new ReadableStream<string[]>(
    {
      async pull(controller) {
        let batch: string[] | undefined
        try {
          batch = await reader.next()
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error))
          end('error', failure)
          controller.error(failure)
          return
        }
        if (batch !== undefined) {
          controller.enqueue(batch)
          return
        }
        end('done')
        controller.close()
      },
      async cancel(reason) {
        end('cancel')
        onCancel?.(reason)
        await reader.cancel()
      },
    },
    { highWaterMark: 0 },
  )
}

async function drain(iterator: AsyncIterator<Uint8Array>): Promise<void> {
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      // discard
    }
  } catch {
    // The upstream closed uncleanly after [DONE]: nothing is lost.
  }
}

function toStreamError(error: unknown): Error {
  if (QueuegateError.isInstance(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  return new UpstreamError(`The upstream stream failed: ${message}`, { cause: error })
}
