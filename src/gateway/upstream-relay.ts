/**
 * An upstream body relayed to the client as a push {@link ByteSource}: SSE re-framed on the way
 * (the answer's fast path, when no chunk transform applies), or bytes as they are (the other
 * `/v1/*` endpoints). The upstream socket pauses when the client's does, the job ends exactly
 * once, and a client that goes away cancels the upstream request.
 * @module
 */
import { QueuegateError, UpstreamError } from '../errors.js'
import { encodeSseError } from '../openai/sse.js'
import { createSseReframer } from '../openai/sse-reframer.js'
import type { ByteSink, ByteSource } from './byte-source.js'
import type { UpstreamBody } from './upstream-body.js'

/** Why a relayed body ended. */
export type RelayEnd = 'done' | 'error' | 'cancel'

/** Options of {@link relayEvents} and {@link relayBytes}. */
export interface RelayOptions {
  /** Called once: the upstream finished (`done`), failed (`error`), or the client left first (`cancel`). */
  onEnd?: ((reason: RelayEnd, error?: Error) => void) | undefined
  /** The client went away before the end: abort the upstream request. */
  onCancel?: ((reason: unknown) => void) | undefined
  /** Turns a failure into the error the client sees. @default an UpstreamError */
  mapError?: ((error: unknown) => Error) | undefined
}

/**
 * The upstream's SSE answer, re-framed (see `sse-reframer.ts`): events as they arrive, `[DONE]`
 * at the end (with the last events, in one write), and a failure, before or after the first
 * event, as one `data: {"error": …}` event that ends the stream. The job ends (`done`) as soon
 * as `[DONE]` arrives; what the upstream sends after it is read and dropped, so its connection
 * goes back to the pool.
 */
export function relayEvents(body: UpstreamBody, options: RelayOptions & { maxEventChars?: number | undefined } = {}): ByteSource {
  const { onEnd, onCancel, mapError = toRelayError, maxEventChars } = options
  const reframer = createSseReframer({ maxEventChars })
  let sink: ByteSink | undefined
  let ended = false
  const end = (reason: RelayEnd, error?: Error): boolean => {
    if (ended) return false
    ended = true
    onEnd?.(reason, error)
    return true
  }
  const fail = (error: unknown): void => {
    const failure = mapError(error)
    if (end('error', failure)) sink?.end(encodeSseError(failure))
  }
  return {
    start(target) {
      sink = target
      body.consume({
        data(chunk) {
          if (ended) return true
          let out: Uint8Array
          try {
            out = reframer.feed(chunk)
          } catch (error) {
            fail(error)
            body.destroy()
            return true
          }
          if (reframer.done) {
            if (end('done')) target.end(out)
            return true
          }
          return out.byteLength === 0 || target.write(out)
        },
        end() {
          if (ended) return
          let out: Uint8Array
          try {
            out = reframer.end()
          } catch (error) {
            fail(error)
            return
          }
          if (end('done')) target.end(out)
        },
        error: fail,
      })
    },
    resume() {
      body.resume()
    },
    cancel(reason) {
      if (!end('cancel')) return
      onCancel?.(reason)
      body.destroy()
    },
  }
}

/** The upstream's body as it is; a failure mid-way cuts the response (its headers are out). */
export function relayBytes(body: UpstreamBody, options: RelayOptions = {}): ByteSource {
  const { onEnd, onCancel, mapError = toRelayError } = options
  let ended = false
  const end = (reason: RelayEnd, error?: Error): boolean => {
    if (ended) return false
    ended = true
    onEnd?.(reason, error)
    return true
  }
  return {
    start(sink) {
      body.consume({
        data: (chunk) => ended || sink.write(chunk),
        end() {
          if (end('done')) sink.end()
        },
        error(error) {
          const failure = mapError(error)
          if (end('error', failure)) sink.error(failure)
        },
      })
    },
    resume() {
      body.resume()
    },
    cancel(reason) {
      if (!end('cancel')) return
      onCancel?.(reason)
      body.destroy()
    },
  }
}

function toRelayError(error: unknown): Error {
  if (QueuegateError.isInstance(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  return new UpstreamError(`The upstream stream failed: ${message}`, { cause: error })
}
