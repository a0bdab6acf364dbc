/**
 * An upstream's SSE answer as a `ReadableStream` of chunk objects, through a chain of chunk
 * transforms: what a consumer of `callModel` reads (a tool loop, an agent), where the client
 * relay (upstream-relay.ts) writes bytes instead. Pull-based: the upstream socket pauses while
 * the reader does not read.
 * @module
 */
import type { ChatCompletionChunk } from '../openai/types.js'
import type { ChunkTransform } from './chunk-pipeline.js'
import type { BodyConsumer, UpstreamBody } from './upstream-body.js'
import { ChunkEvents } from './chunk-events.js'

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
        const events = new ChunkEvents({ maxEventChars: options.maxEventChars, onChunk: (chunk) => chain.feed(chunk) })
        const consumer: BodyConsumer = {
          data(bytes) {
            if (settled) return true
            events.feed(bytes)
            if (events.failure !== undefined) fail(events.failure)
            else if (events.done) finish()
            // After [DONE], what follows is read and dropped, so the connection goes back to the pool.
            else return (controller.desiredSize ?? 1) > 0
            return true
          },
          end() {
            if (settled) return
            events.end()
            if (events.failure !== undefined) fail(events.failure)
            else finish()
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
