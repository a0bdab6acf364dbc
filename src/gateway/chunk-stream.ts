/**
 * An upstream's SSE answer as a `ReadableStream` of chunk objects, through a chain of chunk
 * transforms: what a consumer of `callModel` reads (a tool loop, an agent), where the client
 * relay (upstream-relay.ts) writes bytes instead. Pull-based: the upstream socket pauses while
 * the reader does not read.
 * @module
 */
import { createParser } from 'eventsource-parser'
import { UpstreamError } from '../errors.js'
import type { ChatCompletionChunk } from '../openai/types.js'
import type { ChunkTransform } from './chunk-pipeline.js'
import type { BodyConsumer, UpstreamBody } from './upstream-body.js'
import { decodeChunk } from './upstream-relay.js'

/** Options of {@link chunkStream}. */
export interface ChunkStreamOptions {
  /** Turns a failure into the error the reader sees. */
  mapError?: ((error: unknown) => Error) | undefined
  /** Largest event, in characters. @default 8 MiB */
  maxEventChars?: number | undefined
}

/**
 * The chunks of an SSE body after `createChain`'s transforms, ending at `[DONE]` or the body's
 * end (the chain flushed); an `{"error": …}` event, a payload that is not a JSON object or a
 * failure of the body errors the stream. Cancelling it destroys the body.
 */
export function chunkStream(
  body: Promise<UpstreamBody>,
  createChain: (onChunk: (chunk: ChatCompletionChunk) => void) => ChunkTransform,
  options: ChunkStreamOptions = {},
): ReadableStream<ChatCompletionChunk> {
  const mapError = options.mapError ?? ((error: unknown) => (error instanceof Error ? error : new Error(String(error))))
  const maxEventChars = options.maxEventChars ?? 8 * 1024 * 1024
  let upstream: UpstreamBody | undefined
  let settled = false
  return new ReadableStream<ChatCompletionChunk>(
    {
      async start(controller) {
        const fail = (error: unknown): void => {
          if (settled) return
          settled = true
          controller.error(mapError(error))
          upstream?.destroy()
        }
        let resolved: UpstreamBody
        try {
          resolved = await body
        } catch (error) {
          fail(error)
          return
        }
        if (settled) {
          // Cancelled while the answer's headers were on their way.
          resolved.destroy()
          return
        }
        upstream = resolved
        const chain = createChain((chunk) => {
          if (!settled) controller.enqueue(chunk)
        })
        const decoder = new TextDecoder()
        let done = false
        const finish = (): void => {
          if (settled) return
          try {
            chain.flush()
          } catch (error) {
            fail(error)
            return
          }
          settled = true
          controller.close()
        }
        const parser = createParser({
          onEvent: (event) => {
            if (done || settled) return
            if (event.data === '[DONE]') {
              done = true
              return
            }
            const chunk = decodeChunk(event.data)
            if (chunk instanceof Error) fail(chunk)
            else chain.feed(chunk)
          },
          onError: (error) => {
            if (error.type === 'max-buffer-size-exceeded') fail(new UpstreamError(`The upstream sent an event larger than ${maxEventChars} characters.`, { code: 'upstream_bad_event' }))
          },
          maxBufferSize: maxEventChars,
        })
        const consumer: BodyConsumer = {
          data(bytes) {
            if (settled) return true
            try {
              parser.feed(decoder.decode(bytes, { stream: true }))
            } catch (error) {
              fail(error)
              return true
            }
            if (done) {
              finish()
              // Read and drop what follows [DONE], so the connection goes back to the pool.
              return true
            }
            return (controller.desiredSize ?? 1) > 0
          },
          end() {
            if (settled) return
            try {
              parser.feed(decoder.decode())
              parser.reset({ consume: true })
            } catch (error) {
              fail(error)
              return
            }
            finish()
          },
          error(error) {
            fail(error)
          },
        }
        resolved.consume(consumer)
      },
      pull() {
        upstream?.resume()
      },
      cancel() {
        settled = true
        upstream?.destroy()
      },
    },
    { highWaterMark: 16 },
  )
}
