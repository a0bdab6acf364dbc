/**
 * A `Request` for an incoming node:http request that builds the real WHATWG object only when
 * something needs more than the method, URL, headers, signal and body stream. Building an
 * undici `Request` (and its `Headers`) costs several microseconds per request, a visible part
 * of the gateway's overhead; the gateway itself reads only those five. The object is an
 * `instanceof Request`, and every other member works through the lazily built real one. As in
 * `honojs/node-server/src/request.ts`.
 *
 * Its state is also its {@link BridgeRequest} (gateway/bridge-protocol.ts), one object per
 * request: header lookups on node's own header object, the body read straight off the node
 * stream, the raw target, and the client's disconnect told to one watcher. The `AbortSignal`
 * is made only when someone asks for `signal`.
 * @module
 */
import type { IncomingMessage } from 'node:http'
import { InvalidRequestError } from '../errors.js'
import { BRIDGE_REQUEST } from '../gateway/bridge-protocol.js'
import type { BridgeRequest } from '../gateway/bridge-protocol.js'
import { readBodyStream } from '../gateway/request-body.js'

const real = Symbol('real request')

/** One node request's state, and the accessor the gateway reads it through. */
class NodeRequestAccess implements BridgeRequest {
  readonly incoming: IncomingMessage
  readonly target: string
  readonly url: string
  /** Built on the first `request.headers`; lookups use them from then on. */
  headers: Headers | undefined = undefined
  /** The body stream once someone asked for it (null: no body, or read off the socket already). */
  body: ReadableStream<Uint8Array> | null | undefined = undefined
  /** The real WHATWG Request, once something needed it. */
  request: Request | undefined = undefined
  #watcher: EventListenerObject | undefined = undefined
  #controller: AbortController | undefined = undefined
  /** Why the client is gone, once it is. */
  #gone: Error | undefined = undefined

  constructor(incoming: IncomingMessage, target: string, url: string) {
    this.incoming = incoming
    this.target = target
    this.url = url
  }

  /** `Headers.get` over node's own header object (names lower-case, repeats joined with `, `). */
  get(name: string): string | null {
    if (this.headers !== undefined) return this.headers.get(name)
    const value = this.incoming.headers[name.toLowerCase()]
    if (value === undefined) return null
    return Array.isArray(value) ? value.join(', ') : value
  }

  /** The whole body off the node stream, or undefined past `maxBytes` (the rest is discarded). */
  readBody(maxBytes: number): Promise<Uint8Array | undefined> {
    // Someone took the body as a stream already: read it that way.
    if (this.body !== undefined || this.request !== undefined) return readBodyStream(this.bodyStream(), maxBytes)
    this.body = null
    return readIncoming(this.incoming, maxBytes)
  }

  /** What `request.body` gives. */
  bodyStream(): ReadableStream<Uint8Array> | null {
    if (this.request !== undefined) return this.request.body
    if (this.body === undefined) this.body = hasBody(this.incoming) ? nodeBody(this.incoming) : null
    return this.body
  }

  watch(listener: EventListenerObject): void {
    if (this.#gone !== undefined) listener.handleEvent(new Event('abort'))
    else this.#watcher = listener
  }

  unwatch(listener: EventListenerObject): void {
    if (this.#watcher === listener) this.#watcher = undefined
  }

  /** What `request.signal` gives: made on first use, aborted already if the client is gone. */
  signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#gone !== undefined) this.#controller.abort(this.#gone)
    }
    return this.#controller.signal
  }

  /** The client went away: tell the watcher, then abort the signal if anyone holds it (once). */
  clientGone(reason: Error): void {
    if (this.#gone !== undefined) return
    this.#gone = reason
    const watcher = this.#watcher
    this.#watcher = undefined
    watcher?.handleEvent(new Event('abort'))
    this.#controller?.abort(reason)
  }
}

class NodeRequest {
  readonly [BRIDGE_REQUEST]: NodeRequestAccess

  constructor(access: NodeRequestAccess) {
    this[BRIDGE_REQUEST] = access
  }

  get method(): string {
    return this[BRIDGE_REQUEST].incoming.method ?? 'GET'
  }

  get url(): string {
    return this[BRIDGE_REQUEST].url
  }

  get headers(): Headers {
    const access = this[BRIDGE_REQUEST]
    access.headers ??= toHeaders(access.incoming.rawHeaders)
    return access.headers
  }

  get signal(): AbortSignal {
    return this[BRIDGE_REQUEST].signal()
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this[BRIDGE_REQUEST].bodyStream()
  }

  /** The real WHATWG Request, built on first need (it takes over the body stream). */
  [real](): Request {
    const access = this[BRIDGE_REQUEST]
    if (access.request === undefined) {
      const init: RequestInit & { duplex?: 'half' } = { method: this.method, headers: this.headers, signal: this.signal }
      const body = this.body
      if (body !== null) {
        init.body = body
        init.duplex = 'half'
      }
      access.request = new Request(access.url, init)
    }
    return access.request
  }
}

for (const key of ['bodyUsed', 'cache', 'credentials', 'destination', 'integrity', 'mode', 'redirect', 'referrer', 'referrerPolicy', 'keepalive', 'duplex']) {
  Object.defineProperty(NodeRequest.prototype, key, {
    get(this: NodeRequest) {
      return (this[real]() as unknown as Record<string, unknown>)[key]
    },
  })
}
for (const key of ['arrayBuffer', 'blob', 'bytes', 'clone', 'formData', 'json', 'text']) {
  Object.defineProperty(NodeRequest.prototype, key, {
    value(this: NodeRequest) {
      const request = this[real]() as unknown as Record<string, () => unknown>
      return request[key]?.call(request)
    },
  })
}
Object.setPrototypeOf(NodeRequest.prototype, Request.prototype)

/**
 * Wraps an incoming node request as a `Request` (see the module doc). `target` is the request
 * target from where the gateway is mounted (`/v1/models?x=1`), `url` the absolute URL for it.
 */
export function createNodeRequest(incoming: IncomingMessage, target: string, url: string): Request {
  return new NodeRequest(new NodeRequestAccess(incoming, target, url)) as unknown as Request
}

/** Tells a request from {@link createNodeRequest} that its client went away (once). */
export function clientGone(request: Request, reason: Error): void {
  ;(request as unknown as NodeRequest)[BRIDGE_REQUEST].clientGone(reason)
}

/**
 * The error for a body that a body parser in front of the bridge read already: body-parser
 * (express.json() and its kin) leaves the stream ended and the parsed value on `incoming.body`
 * (version 1 also sets `_body`). Undefined when the body is still there to read.
 */
function consumedBodyError(incoming: IncomingMessage): InvalidRequestError | undefined {
  if (!incoming.readableEnded) return undefined
  const parsed = incoming as IncomingMessage & { body?: unknown; _body?: unknown }
  if (parsed._body !== true && parsed.body === undefined) return undefined
  return new InvalidRequestError(
    'The request body was already read by a body parser mounted before queuegate (such as express.json()), so there is nothing left to forward. ' +
      'Mount queuegate before express.json(), or mount the body parser only on the paths of your own routes.',
    { code: 'body_consumed' },
  )
}

function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array | undefined> {
  if (!hasBody(incoming)) return Promise.resolve(new Uint8Array(0))
  if (incoming.readableEnded) {
    const consumed = consumedBodyError(incoming)
    return consumed === undefined ? Promise.resolve(new Uint8Array(0)) : Promise.reject(consumed)
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('error', onError)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength
      if (size <= maxBytes) {
        parts.push(chunk)
        return
      }
      // Too large: answer now, and let the rest of the upload drain unread (as node does for
      // any body a handler leaves), so the client still gets its 413 on a live connection.
      cleanup()
      incoming.resume()
      resolve(undefined)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size))
    }
    const onError = (error: Error): void => {
      cleanup()
      reject(error)
    }
    incoming.on('data', onData)
    incoming.on('end', onEnd)
    incoming.on('error', onError)
  })
}

function hasBody(incoming: IncomingMessage): boolean {
  return incoming.method !== 'GET' && incoming.method !== 'HEAD'
}

function toHeaders(raw: string[]): Headers {
  const headers = new Headers()
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index] as string
    if (name.startsWith(':')) continue
    headers.append(name, raw[index + 1] as string)
  }
  return headers
}

/**
 * The request body as a pull-based stream (read only as fast as the handler reads); one that
 * errors at once when a body parser took the body (see {@link consumedBodyError}).
 */
function nodeBody(incoming: IncomingMessage): ReadableStream<Uint8Array> {
  const consumed = consumedBodyError(incoming)
  if (consumed !== undefined) {
    return new ReadableStream<Uint8Array>({
      start(controller) {
        controller.error(consumed)
      },
    })
  }
  const iterator = incoming[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await iterator.next()
        if (next.done) controller.close()
        else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength))
      },
      async cancel() {
        await iterator.return?.()
      },
    },
    { highWaterMark: 0 },
  )
}
