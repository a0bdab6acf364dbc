/**
 * The node:http bridge: turns `(incoming, outgoing)` into a web `Request`, calls a
 * `fetch`-style handler, and writes its `Response` back with backpressure. With queuegate's own
 * core it takes the shortcuts of gateway/bridge-protocol.ts; any other handler meets only
 * standard `Request`s and `Response`s. A client that goes away stops the response body and is
 * told to the request once (its watcher, then its signal), so the gateway frees the slot at once.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { NotFoundError, QueuegateError } from '../errors.js'
import { responseParts } from '../gateway/bridge-protocol.js'
import type { LightBody, ResponseParts } from '../gateway/bridge-protocol.js'
import { isByteSource } from '../gateway/byte-source.js'
import type { ByteSink, ByteSource } from '../gateway/byte-source.js'
import { clientGone, createNodeRequest } from './node-request.js'

/** A web-standard request handler, such as `gateway.fetch`. */
export type FetchHandler = (request: Request) => Promise<Response> | Response

/** Options of {@link createRequestListener}. */
export interface RequestListenerOptions {
  /** Called when the handler throws or writing the response fails (the CLI logs it). */
  onError?: ((error: unknown) => void) | undefined
  /**
   * Serve only under this path, the handler seeing paths from there: with `'/llm'`, a request
   * for `/llm/v1/chat/completions` reaches the handler as `/v1/chat/completions`, and one
   * outside `/llm` gets a 404 (inside Express: goes to `next()`). Express's own mount path
   * (`app.use('/llm', listener)`) is honoured without it; `basePath` is relative to it.
   * @default '/'
   * @example http.createServer(createRequestListener(gateway.fetch, { basePath: '/llm' })) // OpenAI base URL: http://host:port/llm/v1
   */
  basePath?: string | undefined
  /**
   * A client that has taken none of the answer bytes waiting for it for this long (ms) is dropped:
   * its connection closed, its job ended and its slot freed, the answer's bytes let go. Only
   * bytes the client does not read count; a client waiting in the queue, or for a slow model,
   * waits as long as it takes. 0: never. @default 60 000
   */
  clientIdleTimeoutMs?: number | undefined
}

/** The listener `http.createServer` and Express (`app.use`) accept. */
export type RequestListener = (incoming: IncomingMessage, outgoing: ServerResponse, next?: ((error?: unknown) => void) | undefined) => void

/**
 * Wraps a `fetch` handler for `http.createServer(listener)` or `app.use(listener)`. Inside
 * Express (a `next` is given), a request outside `basePath`, or one the gateway has no route
 * for, goes on to the next handler; on its own, the listener answers those with 404.
 *
 * @example
 * ```ts
 * http.createServer(createRequestListener(gateway.fetch)).listen(8080)
 * app.use('/llm', createRequestListener(gateway.fetch)) // Express; mount it before express.json()
 * ```
 */
export function createRequestListener(fetch: FetchHandler, options: RequestListenerOptions = {}): RequestListener {
  const { onError, basePath = '/', clientIdleTimeoutMs = 60_000 } = options
  const base = normalizeBasePath(basePath)
  if (typeof clientIdleTimeoutMs !== 'number' || !Number.isInteger(clientIdleTimeoutMs) || clientIdleTimeoutMs < 0) {
    throw new TypeError(`createRequestListener: clientIdleTimeoutMs must be a whole number of ms >= 0; got ${JSON.stringify(clientIdleTimeoutMs)}.`)
  }
  return (incoming, outgoing, next) => {
    // Express has already taken its mount path (`req.baseUrl`) off `url`.
    const url = incoming.url ?? '/'
    const target = base === '' ? url : underBase(url, base)
    const pass = typeof next === 'function' ? next : undefined
    if (target !== undefined) void new Exchange(incoming, outgoing, target, pass, onError, clientIdleTimeoutMs).run(fetch)
    else if (pass !== undefined) pass()
    else writeError(outgoing, new NotFoundError(`No route for ${incoming.method ?? 'GET'} ${url}: this server answers under ${base}.`, 'route_not_found'))
  }
}

/** `basePath` without its trailing slashes (`''` for the root); throws on one that is not a path. */
function normalizeBasePath(basePath: string): string {
  if (typeof basePath !== 'string' || !basePath.startsWith('/') || /[?#\s]/.test(basePath)) {
    throw new TypeError(`createRequestListener: basePath must be a path starting with "/", without query or spaces; got ${JSON.stringify(basePath)}.`)
  }
  return basePath.replace(/\/+$/, '')
}

/** `url` from `base` on (`/llm/v1/x?y` → `/v1/x?y`, `/llm` → `/`), or undefined outside it (`/llmx`). */
function underBase(url: string, base: string): string | undefined {
  if (!url.startsWith(base)) return undefined
  const rest = url.slice(base.length)
  if (rest === '') return '/'
  const first = rest.charCodeAt(0)
  if (first === SLASH) return rest
  if (first === QUESTION_MARK) return `/${rest}`
  return undefined
}

const SLASH = 0x2f
const QUESTION_MARK = 0x3f

/**
 * One request and its response: the request the handler gets, the body being written, and the
 * response as the push body's {@link ByteSink} (its methods the callbacks, no closure each).
 */
class Exchange implements ByteSink {
  readonly #outgoing: ServerResponse
  readonly #request: Request
  readonly #next: ((error?: unknown) => void) | undefined
  readonly #onError: ((error: unknown) => void) | undefined
  readonly #onClose: () => void
  /** Why the client is gone, once it is (before the response finished). */
  #gone: Error | undefined
  /** The push body while it writes into this sink (until it ends or is cancelled). */
  #source: ByteSource | undefined
  /** The reader of a stream body while it is written. */
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  #onDrain: (() => void) | undefined
  /** ms a client may leave answer bytes unread (0: no limit), and the timer while it does. */
  readonly #idleMs: number
  #idleTimer: ReturnType<typeof setTimeout> | undefined

  constructor(incoming: IncomingMessage, outgoing: ServerResponse, target: string, next: ((error?: unknown) => void) | undefined, onError: ((error: unknown) => void) | undefined, idleMs: number) {
    this.#outgoing = outgoing
    this.#idleMs = idleMs
    this.#request = createNodeRequest(incoming, target, `http://${incoming.headers.host ?? 'localhost'}${target}`)
    this.#next = next
    this.#onError = onError
    // 'close' comes once per response (on, not once: no wrapper per request).
    this.#onClose = () => this.#closed()
    outgoing.on('close', this.#onClose)
  }

  async run(fetch: FetchHandler): Promise<void> {
    try {
      const response = await fetch(this.#request)
      const parts = responseParts(response)
      if (parts === undefined) await this.#writeResponse(response)
      else if (parts.unrouted === true && this.#next !== undefined) this.#passOn(parts.body)
      else {
        // A promise only for a stream body (no await, so no extra turn, for the others).
        const writing = this.#writeParts(parts)
        if (writing !== undefined) await writing
      }
    } catch (error) {
      this.#onError?.(error)
      if (!this.#outgoing.headersSent) writeError(this.#outgoing, new QueuegateError('Internal error.', { status: 500, code: 'internal_error' }))
      else this.#outgoing.destroy()
    }
  }

  // The client's reading: bytes it leaves unread start the idle timer (see clientIdleTimeoutMs).

  /** Bytes wait for the client (a write returned false): it has `#idleMs` to take them. */
  #unread(): void {
    if (this.#idleMs === 0 || this.#idleTimer !== undefined) return
    this.#idleTimer = setTimeout(() => this.#dropIdle(), this.#idleMs)
    this.#idleTimer.unref()
  }

  /** The client took the bytes ('drain', or the response's 'finish'). */
  #read(): void {
    if (this.#idleTimer === undefined) return
    clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
  }

  /** The response ended; its last bytes may still wait for the client (a large whole answer). */
  #ended(): void {
    if (this.#idleMs === 0 || this.#outgoing.writableLength === 0) return
    this.#unread()
    this.#outgoing.once('finish', () => this.#read())
  }

  /** The client read nothing for `#idleMs`: drop it (the 'close' that follows ends its job). */
  #dropIdle(): void {
    this.#idleTimer = undefined
    this.#gone ??= new Error(`The client read nothing for ${this.#idleMs} ms: dropped.`)
    this.#outgoing.destroy()
  }

  /** The response closed: if before its end, the client went away. */
  #closed(): void {
    this.#read()
    if (this.#outgoing.writableFinished) return
    const reason = this.#gone ?? new Error('The client disconnected.')
    this.#gone = reason
    // The body first: a source told of the disconnect through its request finds itself cancelled.
    const source = this.#source
    this.#source = undefined
    source?.cancel(reason)
    this.#reader?.cancel(reason).catch(ignore)
    clientGone(this.#request, reason)
  }

  /** The gateway has no route for it: Express's next handler answers; this body is let go. */
  #passOn(body: LightBody): void {
    this.#outgoing.off('close', this.#onClose)
    release(body)
    ;(this.#next as (error?: unknown) => void)()
  }

  /** A light response from the gateway: its parts go out as they are. */
  #writeParts(parts: ResponseParts): Promise<void> | undefined {
    const body = parts.body
    try {
      // A whole body goes out with its length: no chunked framing, and the client knows the size up front.
      const whole = typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.byteLength : undefined
      this.#outgoing.writeHead(parts.status, whole === undefined || parts.headers['content-length'] !== undefined ? parts.headers : { ...parts.headers, 'content-length': whole })
    } catch (error) {
      // A body that never starts must still be let go, or its job would never end.
      release(body, error)
      throw error
    }
    if (body === null || typeof body === 'string' || body instanceof Uint8Array) {
      this.#outgoing.end(body ?? undefined)
      this.#ended()
    } else if (isByteSource(body)) {
      if (this.#gone !== undefined) {
        body.cancel(this.#gone)
      } else {
        // Written through this object's ByteSink methods: `write` false waits for 'drain', `end`
        // carries the last bytes with the end of the response.
        this.#source = body
        body.start(this)
      }
    } else {
      return this.#writeBody(body)
    }
    return undefined
  }

  /** Any other `Response`, through its standard members. */
  async #writeResponse(response: Response): Promise<void> {
    const headers: Record<string, string | string[]> = {}
    let cookies: string[] | undefined
    response.headers.forEach((value, name) => {
      // Iteration yields each Set-Cookie on its own (the one header that is never combined).
      if (name === 'set-cookie') (cookies ??= []).push(value)
      else headers[name] = value
    })
    if (cookies !== undefined) headers['set-cookie'] = cookies
    this.#outgoing.writeHead(response.status, response.statusText || undefined, headers)
    if (response.body === null) {
      this.#outgoing.end()
      this.#ended()
    } else await this.#writeBody(response.body)
  }

  /** Pumps a web stream into the response, waiting for `drain`. */
  async #writeBody(body: ReadableStream<Uint8Array>): Promise<void> {
    const outgoing = this.#outgoing
    // Headers go out with the first body bytes (a waiting SSE job sends a notice or comment at once).
    const reader = body.getReader()
    if (this.#gone !== undefined) {
      await reader.cancel(this.#gone).catch(ignore)
      return
    }
    this.#reader = reader
    try {
      let next = reader.read()
      for (;;) {
        const { done, value } = await next
        if (done) {
          outgoing.end()
          this.#ended()
          return
        }
        if (outgoing.destroyed) {
          await reader.cancel().catch(ignore)
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
          this.#ended()
          return
        }
        if (!outgoing.write(value)) {
          this.#unread()
          await drained(outgoing)
          this.#read()
        }
      }
    } catch (error) {
      // The client went away or the body failed mid-way: nothing more can be said on this socket.
      outgoing.destroy(this.#gone !== undefined ? undefined : (error as Error))
    } finally {
      this.#reader = undefined
    }
  }

  // ByteSink, for a push body (see #writeParts).

  write(chunk: Uint8Array): boolean {
    if (this.#source === undefined) return false
    if (this.#outgoing.write(chunk)) return true
    this.#onDrain ??= () => {
      this.#read()
      this.#source?.resume()
    }
    this.#outgoing.once('drain', this.#onDrain)
    this.#unread()
    return false
  }

  end(chunk?: Uint8Array): void {
    if (this.#source === undefined) return
    this.#source = undefined
    this.#outgoing.end(chunk)
    this.#ended()
  }

  error(error: Error): void {
    if (this.#source === undefined) return
    this.#source = undefined
    // The headers are out: nothing more can be said on this response.
    this.#outgoing.destroy(error)
  }
}

/** Lets go of a body nobody will write. */
function release(body: LightBody, reason?: unknown): void {
  if (isByteSource(body)) body.cancel(reason)
  else if (body instanceof ReadableStream) body.cancel(reason).catch(ignore)
}

/** An OpenAI-shaped error answer written by the bridge itself. */
function writeError(outgoing: ServerResponse, error: QueuegateError): void {
  outgoing.writeHead(error.status, { 'content-type': 'application/json' })
  outgoing.end(JSON.stringify(error.toJSON()))
}

function ignore(): void {}

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
