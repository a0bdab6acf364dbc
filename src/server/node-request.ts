/**
 * A `Request` for an incoming node:http request that builds the real WHATWG object only when
 * something needs more than the method, URL, headers, signal and body stream. Building an
 * undici `Request` (and its `Headers`) costs several microseconds per request, a visible part
 * of the gateway's overhead; the gateway itself reads only those five. The object is an
 * `instanceof Request`, and every other member works through the lazily built real one. As in
 * `honojs/node-server/src/request.ts`. It also answers the gateway's fast accessors
 * (`gateway/request-access.ts`): header lookups on node's own header object, the body read
 * straight off the node stream, and the raw path.
 * @module
 */
import type { IncomingMessage } from 'node:http'
import { DISCONNECT_LISTENER, HEADER_LOOKUP, RAW_PATH, READ_BODY } from '../gateway/request-access.js'
import type { HeaderLookup } from '../gateway/request-access.js'
import { readBodyStream } from '../gateway/request-body.js'

const real = Symbol('real request')
const state = Symbol('node request state')

interface NodeRequestState {
  incoming: IncomingMessage
  path: string
  url: string
  signal: AbortSignal
  headers: Headers | undefined
  lookup: HeaderLookup | undefined
  body: ReadableStream<Uint8Array> | null | undefined
  request: Request | undefined
}

class NodeRequest {
  readonly [state]: NodeRequestState
  /** Told by the bridge when the client goes away (see `gateway/request-access.ts`). */
  [DISCONNECT_LISTENER]: EventListenerObject | undefined = undefined

  constructor(initial: NodeRequestState) {
    this[state] = initial
  }

  get method(): string {
    return this[state].incoming.method ?? 'GET'
  }

  get url(): string {
    return this[state].url
  }

  get headers(): Headers {
    const current = this[state]
    current.headers ??= toHeaders(current.incoming.rawHeaders)
    return current.headers
  }

  get signal(): AbortSignal {
    return this[state].signal
  }

  get [HEADER_LOOKUP](): HeaderLookup {
    const current = this[state]
    return current.headers ?? (current.lookup ??= nodeHeaderLookup(current.incoming))
  }

  get [RAW_PATH](): string {
    return this[state].path
  }

  /** The whole body off the node stream, or undefined past `maxBytes` (the rest is discarded). */
  [READ_BODY](maxBytes: number): Promise<Uint8Array | undefined> {
    const current = this[state]
    // Someone took the body as a stream already: read it that way.
    if (current.body !== undefined || current.request !== undefined) return readBodyStream(this.body, maxBytes)
    current.body = null
    return readIncoming(current.incoming, maxBytes)
  }

  get body(): ReadableStream<Uint8Array> | null {
    const current = this[state]
    if (current.request !== undefined) return current.request.body
    if (current.body === undefined) current.body = hasBody(current.incoming) ? nodeBody(current.incoming) : null
    return current.body
  }

  /** The real WHATWG Request, built on first need (it takes over the body stream). */
  [real](): Request {
    const current = this[state]
    if (current.request === undefined) {
      const init: RequestInit & { duplex?: 'half' } = { method: this.method, headers: this.headers, signal: current.signal }
      const body = this.body
      if (body !== null) {
        init.body = body
        init.duplex = 'half'
      }
      current.request = new Request(current.url, init)
    }
    return current.request
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

/** Tells the request's disconnect listener, once, that its client went away. */
export function disconnectNodeRequest(request: Request, event: Event): void {
  const fast = request as unknown as { [DISCONNECT_LISTENER]?: EventListenerObject | undefined }
  const listener = fast[DISCONNECT_LISTENER]
  fast[DISCONNECT_LISTENER] = undefined
  listener?.handleEvent(event)
}

/** Wraps an incoming node request as a `Request` (see the module doc). */
export function createNodeRequest(incoming: IncomingMessage, path: string, url: string, signal: AbortSignal): Request {
  return new NodeRequest({ incoming, path, url, signal, headers: undefined, lookup: undefined, body: undefined, request: undefined }) as unknown as Request
}

/** `Headers.get` over node's own header object (names lower-case, repeats joined with `, `). */
function nodeHeaderLookup(incoming: IncomingMessage): HeaderLookup {
  const headers = incoming.headers
  return {
    get(name: string): string | null {
      const value = headers[name.toLowerCase()]
      if (value === undefined) return null
      return Array.isArray(value) ? value.join(', ') : value
    },
  }
}

function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array | undefined> {
  if (incoming.readableEnded || !hasBody(incoming)) return Promise.resolve(new Uint8Array(0))
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

/** The request body as a pull-based stream (read only as fast as the handler reads). */
function nodeBody(incoming: IncomingMessage): ReadableStream<Uint8Array> {
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
