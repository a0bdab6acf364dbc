/**
 * A `Request` for an incoming node:http request that builds the real WHATWG object only when
 * something needs more than the method, URL, headers, signal and body stream. Building an
 * undici `Request` (and its `Headers`) costs several microseconds per request, a visible part
 * of the gateway's overhead; the gateway itself reads only those five. The object is an
 * `instanceof Request`, and every other member works through the lazily built real one. As in
 * `honojs/node-server/src/request.ts`.
 * @module
 */
import type { IncomingMessage } from 'node:http'

const real = Symbol('real request')
const state = Symbol('node request state')

interface NodeRequestState {
  incoming: IncomingMessage
  url: string
  signal: AbortSignal
  headers: Headers | undefined
  body: ReadableStream<Uint8Array> | null | undefined
  request: Request | undefined
}

class NodeRequest {
  readonly [state]: NodeRequestState

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

/** Wraps an incoming node request as a `Request` (see the module doc). */
export function createNodeRequest(incoming: IncomingMessage, url: string, signal: AbortSignal): Request {
  return new NodeRequest({ incoming, url, signal, headers: undefined, body: undefined, request: undefined }) as unknown as Request
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
