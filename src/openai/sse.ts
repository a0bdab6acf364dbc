/**
 * Server-sent events in and out: the upstream's `text/event-stream` becomes a stream of `data`
 * payloads (eventsource-parser), and payloads become `data: …` frames again on the way out.
 * @module
 */
import { createParser } from 'eventsource-parser'
import { QueuegateError, UpstreamError } from '../errors.js'

const encoder = new TextEncoder()

/** The frame that ends every OpenAI stream. */
export const SSE_DONE: Uint8Array = encoder.encode('data: [DONE]\n\n')

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
  onEnd?: ((reason: 'done' | 'error' | 'cancel') => void) | undefined
  /** Called on cancel so the upstream request is aborted. */
  onCancel?: ((reason: unknown) => void) | undefined
  /** Turns an error thrown by the body into the error the client sees. */
  mapError?: ((error: unknown) => Error) | undefined
}

/**
 * Turns an upstream SSE body into a pull-based stream of `data` payloads. Ends at `[DONE]`
 * (which it does not emit) or at the end of the body; the upstream is read only as fast as
 * the client reads.
 */
export function sseDataStream(body: AsyncIterable<Uint8Array>, options: SseDataStreamOptions = {}): ReadableStream<string> {
  const { maxEventChars = 8 * 1024 * 1024, onEnd, onCancel, mapError = toStreamError } = options
  const iterator = body[Symbol.asyncIterator]()
  const decoder = new TextDecoder()
  let pending: string[] = []
  let done = false
  let failure: Error | undefined
  let ended = false
  const end = (reason: 'done' | 'error' | 'cancel'): void => {
    if (ended) return
    ended = true
    onEnd?.(reason)
  }
  const parser = createParser({
    onEvent(event) {
      if (done) return
      if (event.data === '[DONE]') {
        done = true
        return
      }
      pending.push(event.data)
    },
    onError(error) {
      failure = new UpstreamError(`The upstream sent an invalid event stream: ${error.message}`, { cause: error })
    },
    maxBufferSize: maxEventChars,
  })
  return new ReadableStream<string>(
    {
      async pull(controller) {
        try {
          while (pending.length === 0 && !done && failure === undefined) {
            const next = await iterator.next()
            if (next.done) {
              parser.feed(decoder.decode())
              parser.reset({ consume: true })
              done = true
              break
            }
            parser.feed(decoder.decode(next.value, { stream: true }))
          }
        } catch (error) {
          failure = failure ?? mapError(error)
        }
        if (pending.length > 0) {
          const batch = pending
          pending = []
          for (const data of batch) controller.enqueue(data)
          return
        }
        if (failure !== undefined) {
          end('error')
          controller.error(failure)
          return
        }
        if (done) {
          end('done')
          controller.close()
          // Let the upstream connection go back to the pool.
          void iterator.return?.()
        }
      },
      async cancel(reason) {
        end('cancel')
        onCancel?.(reason)
        await iterator.return?.()
      },
    },
    { highWaterMark: 0 },
  )
}

function toStreamError(error: unknown): Error {
  if (QueuegateError.isInstance(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  return new UpstreamError(`The upstream stream failed: ${message}`, { cause: error })
}
