/**
 * The node:http bridge: turns `(incoming, outgoing)` into a web `Request`, calls a
 * `fetch`-style handler, and writes its `Response` back with backpressure. A client that
 * disconnects aborts the Request's signal and cancels the response body, so the gateway
 * frees the slot at once.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createNodeRequest, disconnectNodeRequest } from './node-request.js'
import { isByteSource } from '../gateway/byte-source.js'
import type { ByteSink, ByteSource } from '../gateway/byte-source.js'
import { responseParts } from '../gateway/light-response.js'

/** A web-standard request handler, such as `gateway.fetch`. */
export type FetchHandler = (request: Request) => Promise<Response> | Response

/** Options of {@link createRequestListener}. */
export interface RequestListenerOptions {
  /** Called when the handler throws or writing the response fails (the CLI logs it). */
  onError?: ((error: unknown) => void) | undefined
}

/** The listener `http.createServer` and Express (`app.use`) accept. */
export type RequestListener = (incoming: IncomingMessage, outgoing: ServerResponse, next?: unknown) => void

/**
 * Wraps a `fetch` handler for `http.createServer(listener)` or `app.use(listener)`.
 *
 * @example
 * ```ts
 * http.createServer(createRequestListener(gateway.fetch)).listen(8080)
 * ```
 */
export function createRequestListener(fetch: FetchHandler, options: RequestListenerOptions = {}): RequestListener {
  const { onError } = options
  return (incoming, outgoing) => {
    void handle(fetch, incoming, outgoing).catch((error: unknown) => {
      onError?.(error)
      if (!outgoing.headersSent) {
        outgoing.writeHead(500, { 'content-type': 'application/json' })
        outgoing.end(JSON.stringify({ error: { message: 'Internal error.', type: 'server_error', param: null, code: 'internal_error' } }))
      } else {
        outgoing.destroy()
      }
    })
  }
}

async function handle(fetch: FetchHandler, incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
  const controller = new AbortController()
  // Set once the response body is known: stops it when the client goes away.
  let cancelBody: ((reason: unknown) => void) | undefined
  const request = toRequest(incoming, controller.signal)
  // 'close' comes once per response (on, not once: no wrapper per request).
  outgoing.on('close', () => {
    if (outgoing.writableFinished) return
    const reason = new Error('The client disconnected.')
    // The body first: a source that learns of the abort from the signal must find it cancelled.
    cancelBody?.(reason)
    disconnectNodeRequest(request, new Event('abort'))
    controller.abort(reason)
  })
  const response = await fetch(request)
  const parts = responseParts(response)
  if (parts === undefined) {
    await writeResponse(response, outgoing, controller.signal, (cancel) => (cancelBody = cancel))
    return
  }
  // A light response from the gateway: its parts go out as they are.
  const body = parts.body
  try {
    outgoing.writeHead(parts.status, parts.headers)
  } catch (error) {
    // A body that never starts must still be let go, or its job would never end.
    if (isByteSource(body)) body.cancel(error)
    else if (body instanceof ReadableStream) void body.cancel(error).catch(() => {})
    throw error
  }
  if (body === null || typeof body === 'string' || body instanceof Uint8Array) {
    outgoing.end(body ?? undefined)
  } else if (isByteSource(body)) {
    if (controller.signal.aborted) body.cancel(controller.signal.reason)
    else pushBody(body, outgoing, (cancel) => (cancelBody = cancel))
  } else {
    await writeBody(body, outgoing, controller.signal, (cancel) => (cancelBody = cancel))
  }
}

/** The web Request for a node request; its body streams (never buffered here). */
function toRequest(incoming: IncomingMessage, signal: AbortSignal): Request {
  // Express strips its mount path from `url`; `originalUrl` keeps the full path.
  const path = (incoming as IncomingMessage & { originalUrl?: string }).originalUrl ?? incoming.url ?? '/'
  const host = incoming.headers.host ?? 'localhost'
  return createNodeRequest(incoming, path, `http://${host}${path}`, signal)
}

async function writeResponse(response: Response, outgoing: ServerResponse, signal: AbortSignal, onCancel: (cancel: (reason: unknown) => void) => void): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  let cookies: string[] | undefined
  response.headers.forEach((value, name) => {
    // Iteration yields each Set-Cookie on its own (the one header that is never combined).
    if (name === 'set-cookie') (cookies ??= []).push(value)
    else headers[name] = value
  })
  if (cookies !== undefined) headers['set-cookie'] = cookies
  outgoing.writeHead(response.status, response.statusText || undefined, headers)
  if (response.body === null) {
    outgoing.end()
    return
  }
  await writeBody(response.body, outgoing, signal, onCancel)
}

/** Pumps a web stream into the response, waiting for `drain`. */
async function writeBody(body: ReadableStream<Uint8Array>, outgoing: ServerResponse, signal: AbortSignal, onCancel: (cancel: (reason: unknown) => void) => void): Promise<void> {
  // Headers go out with the first body bytes (a waiting SSE job sends a notice or comment at once).
  const reader = body.getReader()
  if (signal.aborted) void reader.cancel(signal.reason).catch(() => {})
  onCancel((reason) => void reader.cancel(reason).catch(() => {}))
  try {
    let next = reader.read()
    for (;;) {
      const { done, value } = await next
      if (done) {
        outgoing.end()
        return
      }
      if (outgoing.destroyed) {
        await reader.cancel().catch(() => {})
        return
      }
      // Look one read ahead without waiting: when the body is already over (a JSON answer, or a
      // stream whose last event came with [DONE]), the last bytes and the end of the response
      // leave in one write. (Corking would do the same, but Node 24 loses bytes written while
      // an http response is corked and end() follows.)
      next = reader.read()
      const peek = await Promise.race([next, NOT_YET])
      if (peek !== NOT_YET_VALUE && peek.done) {
        outgoing.end(value)
        return
      }
      if (!outgoing.write(value)) await drained(outgoing)
    }
  } catch (error) {
    // The client went away or the body failed mid-way: nothing more can be said on this socket.
    outgoing.destroy(signal.aborted ? undefined : (error as Error))
  }
}

/**
 * Lets a push source write into the response: `write` returning false waits for `'drain'`, the
 * source's `end` carries its last bytes with the end of the response, and a failure mid-way
 * ends the socket (the headers are out; nothing more can be said).
 */
function pushBody(source: ByteSource, outgoing: ServerResponse, onCancel: (cancel: (reason: unknown) => void) => void): void {
  const sink = new ResponseSink(source, outgoing)
  onCancel((reason) => sink.cancel(reason))
  source.start(sink)
}

/** The response as a {@link ByteSink} (one object per response, its methods the callbacks). */
class ResponseSink implements ByteSink {
  readonly #source: ByteSource
  readonly #outgoing: ServerResponse
  #open = true
  #onDrain: (() => void) | undefined

  constructor(source: ByteSource, outgoing: ServerResponse) {
    this.#source = source
    this.#outgoing = outgoing
  }

  write(chunk: Uint8Array): boolean {
    if (!this.#open) return false
    if (this.#outgoing.write(chunk)) return true
    this.#onDrain ??= () => {
      if (this.#open) this.#source.resume()
    }
    this.#outgoing.once('drain', this.#onDrain)
    return false
  }

  end(chunk?: Uint8Array): void {
    if (!this.#open) return
    this.#open = false
    this.#outgoing.end(chunk)
  }

  error(error: Error): void {
    if (!this.#open) return
    this.#open = false
    this.#outgoing.destroy(error)
  }

  /** The client went away: stop the source (once, and not after the body ended). */
  cancel(reason: unknown): void {
    if (!this.#open) return
    this.#open = false
    this.#source.cancel(reason)
  }
}

const NOT_YET_VALUE = Symbol('not yet')
const NOT_YET: Promise<typeof NOT_YET_VALUE> = Promise.resolve(NOT_YET_VALUE)

function drained(outgoing: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      outgoing.off('drain', done)
      outgoing.off('close', done)
      resolve()
    }
    outgoing.on('drain', done)
    outgoing.on('close', done)
  })
}
