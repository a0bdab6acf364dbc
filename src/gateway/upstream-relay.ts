/**
 * An upstream body relayed to the client as a push {@link ByteSource}: SSE re-framed on the way
 * (the answer's fast path, when no chunk transform applies), SSE parsed into chunks that go
 * through a chain of transforms (the tool-call detector), or bytes as they are (the other
 * `/v1/*` endpoints). The upstream socket pauses when the client's does, the job ends exactly
 * once, and a client that goes away cancels the upstream request.
 * @module
 */
import { createParser } from 'eventsource-parser'
import { QueuegateError, UpstreamError } from '../errors.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'
import { encodeSseError } from '../openai/sse.js'
import { createSseReframer } from '../openai/sse-reframer.js'
import type { ChatCompletionChunk } from '../openai/types.js'
import type { ByteSink, ByteSource } from './byte-source.js'
import type { ChunkTransform } from './chunk-pipeline.js'
import type { UpstreamBody } from './upstream-body.js'

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
}

/**
 * The upstream's SSE answer, re-framed (see `sse-reframer.ts`): events as they arrive, `[DONE]`
 * at the end (with the last events, in one write), and a failure, before or after the first
 * event, as one `data: {"error": …}` event that ends the stream. The job ends (`done`) as soon
 * as `[DONE]` arrives; what the upstream sends after it is read and dropped, so its connection
 * goes back to the pool.
 */
export function relayEvents(body: UpstreamBody, options: RelayOptions & { maxEventChars?: number | undefined } = {}): ByteSource {
  const { maxEventChars } = options
  const reframer = createSseReframer({ maxEventChars })
  let sink: ByteSink | undefined
  let ended = false
  /** Ends once: `last` (the last bytes to the client) runs before onEnd, so they leave before the job's bookkeeping. */
  const end = (reason: RelayEnd, error?: Error, last?: () => void): boolean => {
    if (ended) return false
    ended = true
    last?.()
    options.onEnd?.(reason, error)
    return true
  }
  const fail = (error: unknown): void => {
    const failure = mapRelayError(options, error)
    end('error', failure, () => sink?.end(encodeSseError(failure)))
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
            end('done', undefined, () => target.end(out))
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
          end('done', undefined, () => target.end(out))
        },
        error: fail,
      })
    },
    resume() {
      body.resume()
    },
    cancel(reason) {
      if (!end('cancel')) return
      options.onCancel?.(reason)
      body.destroy()
    },
  }
}

/** The upstream's body as it is; a failure mid-way cuts the response (its headers are out). */
export function relayBytes(body: UpstreamBody, options: RelayOptions = {}): ByteSource {
  let ended = false
  /** Ends once: `last` (the last bytes to the client) runs before onEnd, so they leave before the job's bookkeeping. */
  const end = (reason: RelayEnd, error?: Error, last?: () => void): boolean => {
    if (ended) return false
    ended = true
    last?.()
    options.onEnd?.(reason, error)
    return true
  }
  return {
    start(sink) {
      body.consume({
        data: (chunk) => ended || sink.write(chunk),
        end() {
          end('done', undefined, () => sink.end())
        },
        error(error) {
          const failure = mapRelayError(options, error)
          if (end('error', failure)) sink.error(failure)
        },
      })
    },
    resume() {
      body.resume()
    },
    cancel(reason) {
      if (!end('cancel')) return
      options.onCancel?.(reason)
      body.destroy()
    },
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
): ByteSource {
  const { maxEventChars = 8 * 1024 * 1024 } = options
  const decoder = new TextDecoder()
  let out = ''
  const chain = createChain((chunk) => {
    out += `data: ${JSON.stringify(chunk)}\n\n`
  })
  let done = false
  let failure: Error | undefined
  const parser = createParser({
    onEvent(event) {
      if (done || failure !== undefined) return
      if (event.data === '[DONE]') {
        done = true
        return
      }
      const chunk = decodeChunk(event.data)
      if (chunk instanceof Error) failure = chunk
      else chain.feed(chunk)
    },
    onError(error) {
      // Unknown fields and bad `retry` values are ignored, as the SSE spec says.
      if (error.type === 'max-buffer-size-exceeded') failure ??= new UpstreamError(`The upstream sent an event larger than ${maxEventChars} characters.`, { code: 'upstream_bad_event' })
    },
    maxBufferSize: maxEventChars,
  })
  let sink: ByteSink | undefined
  let ended = false
  /** Ends once: `last` (the last bytes to the client) runs before onEnd, so they leave before the job's bookkeeping. */
  const end = (reason: RelayEnd, error?: Error, last?: () => void): boolean => {
    if (ended) return false
    ended = true
    last?.()
    options.onEnd?.(reason, error)
    return true
  }
  const fail = (error: unknown): void => {
    const mapped = mapRelayError(options, error)
    const before = out
    out = ''
    if (!end('error', mapped)) return
    // What the chain emitted before the failure still goes out, then the error event.
    if (before !== '') sink?.write(encoder.encode(before))
    sink?.end(encodeSseError(mapped))
  }
  /** [DONE] or the end of the body: flush the chain and end the stream. */
  const finish = (): void => {
    try {
      chain.flush()
    } catch (error) {
      fail(error)
      return
    }
    const last = `${out}data: [DONE]\n\n`
    out = ''
    end('done', undefined, () => sink?.end(encoder.encode(last)))
  }
  return {
    start(target) {
      sink = target
      body.consume({
        data(chunk) {
          if (ended) return true
          try {
            parser.feed(decoder.decode(chunk, { stream: true }))
          } catch (error) {
            failure ??= error instanceof Error ? error : new Error(String(error))
          }
          if (failure !== undefined) {
            fail(failure)
            body.destroy()
            return true
          }
          if (done) {
            finish()
            return true
          }
          if (out === '') return true
          const bytes = encoder.encode(out)
          out = ''
          return target.write(bytes)
        },
        end() {
          if (ended) return
          try {
            parser.feed(decoder.decode())
            parser.reset({ consume: true })
          } catch (error) {
            failure ??= error instanceof Error ? error : new Error(String(error))
          }
          if (failure !== undefined) fail(failure)
          else finish()
        },
        error: fail,
      })
    },
    resume() {
      body.resume()
    },
    cancel(reason) {
      if (!end('cancel')) return
      options.onCancel?.(reason)
      body.destroy()
    },
  }
}

const encoder = new TextEncoder()

/** Decodes one payload into a chunk, or the error that ends the stream. */
export function decodeChunk(data: string): ChatCompletionChunk | Error {
  const parsed = safeParseJson(data)
  if (!parsed.success || !isJsonObject(parsed.value)) {
    return new UpstreamError('The upstream sent an event that is not a JSON object.', { code: 'upstream_bad_event' })
  }
  const value = parsed.value
  if (value.error !== undefined && value.choices === undefined) {
    const error = isJsonObject(value.error) ? value.error : { message: String(value.error) }
    const message = typeof error.message === 'string' ? error.message : JSON.stringify(error)
    return new UpstreamError(`Upstream error: ${message}`, { code: 'upstream_error' })
  }
  if (!Array.isArray(value.choices)) value.choices = []
  return value as ChatCompletionChunk
}

function mapRelayError(options: RelayOptions, error: unknown): Error {
  return options.mapError !== undefined ? options.mapError(error) : toRelayError(error)
}

function toRelayError(error: unknown): Error {
  if (QueuegateError.isInstance(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  return new UpstreamError(`The upstream stream failed: ${message}`, { cause: error })
}
