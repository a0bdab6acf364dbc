/**
 * A push source of response bytes with backpressure: the producer writes into a sink and, when
 * `write` returns false, waits for `resume`. The node bridge drives one straight from the socket
 * (`write` → `'drain'` → `resume`), with no promise per chunk; any other consumer reads it as a
 * `ReadableStream` through {@link byteSourceStream}, so the web-standard contract holds.
 * @module
 */

/** Where a {@link ByteSource} writes. */
export interface ByteSink {
  /** Takes bytes; false asks the source to wait for its `resume` before writing more. */
  write(chunk: Uint8Array): boolean
  /** Ends the body, with its last bytes if any (so they leave with the end in one write). */
  end(chunk?: Uint8Array): void
  /** The body failed after it started: nothing more can be said on this response. */
  error(error: Error): void
}

/**
 * A response body that pushes. `start` is called once; after `end` or `error` the source writes
 * nothing more; `cancel` (the consumer went away) may come at any time and makes it stop.
 */
export interface ByteSource {
  start(sink: ByteSink): void
  /** The sink can take more after a `write` returned false. */
  resume(): void
  cancel(reason?: unknown): void
}

/** True when `value` is a {@link ByteSource} (and not a web stream, string or buffer). */
export function isByteSource(value: unknown): value is ByteSource {
  return typeof value === 'object' && value !== null && typeof (value as Partial<ByteSource>).start === 'function' && typeof (value as Partial<ByteSource>).resume === 'function'
}

/**
 * A {@link ByteSource} as a `ReadableStream`: one chunk is buffered ahead of the reader, the
 * source is resumed when the reader takes it, and cancelling the stream cancels the source.
 */
export function byteSourceStream(source: ByteSource): ReadableStream<Uint8Array> {
  let paused = false
  let open = true
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        source.start({
          write(chunk) {
            if (!open) return false
            controller.enqueue(chunk)
            paused = (controller.desiredSize ?? 0) <= 0
            return !paused
          },
          end(chunk) {
            if (!open) return
            open = false
            if (chunk !== undefined && chunk.byteLength > 0) controller.enqueue(chunk)
            controller.close()
          },
          error(error) {
            if (!open) return
            open = false
            controller.error(error)
          },
        })
      },
      pull() {
        if (!paused) return
        paused = false
        source.resume()
      },
      cancel(reason) {
        open = false
        source.cancel(reason)
      },
    },
    { highWaterMark: 1 },
  )
}
