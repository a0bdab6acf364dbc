/**
 * A `Response` that is built only when someone needs it. Building an undici `Response` and its
 * `Headers` (each header validated on the way in, again on every `set`, and once more when the
 * node bridge reads them back out) costs several microseconds per request; the bridge needs only
 * the status, a plain header object and the body. So the gateway answers with this object: an
 * `instanceof Response` whose status, headers and body the node bridge takes as they are (its
 * {@link ResponseParts}, under bridge-protocol.ts's key), and whose every other member works
 * through the real `Response`, made on first use. A {@link ByteSource} body becomes a
 * `ReadableStream` then. As in `honojs/node-server/src/response.ts`.
 * @module
 */
import { byteSourceStream, isByteSource } from './byte-source.js'
import type { ByteSource } from './byte-source.js'
import { BRIDGE_RESPONSE as PARTS, responseParts } from './bridge-protocol.js'
import type { LightBody, ResponseParts } from './bridge-protocol.js'

export { responseParts }
export type { LightBody, ResponseParts }

// Private to this file (the bridge never builds the real Response).
const REAL = Symbol('real response')
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304])

class LightResponse {
  [PARTS]: ResponseParts | undefined
  #real: Response | undefined

  constructor(parts: ResponseParts) {
    this[PARTS] = parts
  }

  get status(): number {
    return this.#real?.status ?? (this[PARTS] as ResponseParts).status
  }

  get ok(): boolean {
    const status = this.status
    return status >= 200 && status < 300
  }

  /** The real Response; from now on the parts are no longer handed out (it may change). */
  [REAL](): Response {
    if (this.#real === undefined) {
      const parts = this[PARTS] as ResponseParts
      let body = parts.body
      if (NULL_BODY_STATUS.has(parts.status) && body !== null) {
        // A Response with this status may not have a body (an upstream's 204 relayed as is).
        if (isByteSource(body)) body.cancel()
        else if (body instanceof ReadableStream) void body.cancel().catch(() => {})
        body = null
      }
      this.#real = new Response((isByteSource(body) ? byteSourceStream(body) : body) as BodyInit | null, { status: parts.status, headers: parts.headers })
      this[PARTS] = undefined
    }
    return this.#real
  }
}

for (const key of ['body', 'bodyUsed', 'headers', 'redirected', 'statusText', 'type', 'url']) {
  Object.defineProperty(LightResponse.prototype, key, {
    get(this: LightResponse) {
      return (this[REAL]() as unknown as Record<string, unknown>)[key]
    },
  })
}
for (const key of ['arrayBuffer', 'blob', 'bytes', 'clone', 'formData', 'json', 'text']) {
  Object.defineProperty(LightResponse.prototype, key, {
    value(this: LightResponse) {
      const response = this[REAL]() as unknown as Record<string, () => unknown>
      return response[key]?.call(response)
    },
  })
}
Object.setPrototypeOf(LightResponse.prototype, Response.prototype)

/**
 * A response with these parts (see the module doc). `headers` keys must be lower-case; the
 * object is owned by the response from now on.
 */
export function lightResponse(body: LightBody, status: number, headers: Record<string, string>): Response {
  // `unrouted` present from the start: every parts object has one shape.
  return new LightResponse({ status, headers, body, unrouted: undefined }) as unknown as Response
}

/** Sets a header on any response, without building a light one's real `Response`. */
export function setResponseHeader(response: Response, name: string, value: string): void {
  const parts = responseParts(response)
  if (parts !== undefined) parts.headers[name.toLowerCase()] = value
  else response.headers.set(name, value)
}
