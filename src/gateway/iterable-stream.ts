/**
 * A pull-based byte `ReadableStream` over an async iterable (an undici body), with one
 * end callback that fires exactly once: done, failed or cancelled.
 * @module
 */

/** Options of {@link iterableStream}. */
export interface IterableStreamOptions {
  /** Fires once when the stream ends for any reason. */
  onEnd?: ((reason: 'done' | 'error' | 'cancel', error?: unknown) => void) | undefined
  /** Maps an error thrown by the iterable to the one the reader sees. */
  mapError?: ((error: unknown) => unknown) | undefined
}

/** Wraps `iterable` as a byte stream that reads the source only when the consumer reads. */
export function iterableStream(iterable: AsyncIterable<Uint8Array>, options: IterableStreamOptions = {}): ReadableStream<Uint8Array> {
  const { onEnd, mapError = (error: unknown) => error } = options
  const iterator = iterable[Symbol.asyncIterator]()
  let ended = false
  const end = (reason: 'done' | 'error' | 'cancel', error?: unknown): void => {
    if (ended) return
    ended = true
    onEnd?.(reason, error)
  }
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: IteratorResult<Uint8Array>
        try {
          next = await iterator.next()
        } catch (error) {
          const mapped = mapError(error)
          end('error', mapped)
          controller.error(mapped)
          return
        }
        if (next.done) {
          end('done')
          controller.close()
        } else {
          controller.enqueue(next.value)
        }
      },
      async cancel() {
        end('cancel')
        await iterator.return?.()
      },
    },
    { highWaterMark: 0 },
  )
}
