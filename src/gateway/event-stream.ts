/**
 * The body of a streamed answer: optional notices while the job waits, then the upstream's
 * events, then `[DONE]`; a failure at any point becomes one `data: {"error": …}` event.
 * @module
 */
import { encodeSseError } from '../openai/sse.js'

/** Something that talks to a waiting client until the job starts. */
export interface WaitingNotifier {
  /** Starts notices; `emit` writes bytes to the client. Returns a function that stops them. */
  start(emit: (bytes: Uint8Array) => void): () => void
}

/** Options of {@link createEventStream}. */
export interface EventStreamOptions {
  /** Opens the answer's byte stream (waits for the slot, calls the upstream). A rejection becomes an error event. */
  open: () => Promise<ReadableStream<Uint8Array>>
  /** Notices while `open` is pending. */
  waiting?: WaitingNotifier | undefined
  /** The client went away. */
  onCancel?: ((reason: unknown) => void) | undefined
  /** An error reached the client as an event. */
  onError?: ((error: unknown) => void) | undefined
}

/** Builds the outer SSE body; see the module doc. */
export function createEventStream(options: EventStreamOptions): ReadableStream<Uint8Array> {
  const { open, waiting, onCancel, onError } = options
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  let finished = false
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: unknown): void => {
    if (finished) return
    finished = true
    onError?.(error)
    controller.enqueue(encodeSseError(error))
    controller.close()
  }
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (finished) return
        if (reader === undefined) {
          const stop = waiting?.start((bytes) => {
            if (!finished) controller.enqueue(bytes)
          })
          let source: ReadableStream<Uint8Array>
          try {
            source = await open()
          } catch (error) {
            fail(controller, error)
            return
          } finally {
            stop?.()
          }
          if (finished) {
            // Cancelled while waiting: let the source release its slot.
            await source.cancel().catch(() => {})
            return
          }
          reader = source.getReader()
        }
        try {
          const { done, value } = await reader.read()
          if (finished) return
          if (done) {
            finished = true
            controller.close()
          } else {
            controller.enqueue(value)
          }
        } catch (error) {
          fail(controller, error)
        }
      },
      async cancel(reason) {
        finished = true
        onCancel?.(reason)
        await reader?.cancel(reason).catch(() => {})
      },
    },
    { highWaterMark: 0 },
  )
}
