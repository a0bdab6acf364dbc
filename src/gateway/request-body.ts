/**
 * Reading the client's request body with a cap (413 beyond `maxBodyBytes`).
 * @module
 */
import { InvalidRequestError, PayloadTooLargeError, QueuegateError } from '../errors.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'
import { bridgeRequestOf } from './bridge-protocol.js'
import { concatBytes } from './concat-bytes.js'

const textDecoder = new TextDecoder()
/** Empty or only whitespace (a test that stops at the first other character, unlike `trim()`'s copy). */
const BLANK = /^\s*$/

/**
 * The request body's bytes, or undefined past `maxBytes` (413 as soon as it passes the cap, or
 * at once when the declared length does). A request from the node bridge hands them over off
 * the socket (bridge-protocol.ts); any other is read from its body stream.
 */
function readRequestBytes(request: Request, maxBytes: number): Promise<Uint8Array | undefined> {
  const bridge = bridgeRequestOf(request)
  const declared = Number((bridge ?? request.headers).get('content-length') ?? Number.NaN)
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(undefined)
  return bridge !== undefined ? bridge.readBody(maxBytes) : readBodyStream(request.body, maxBytes)
}

/** Reads a body stream whole, or undefined (and the stream cancelled) past `maxBytes`. */
export async function readBodyStream(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array | undefined> {
  if (body === null) return new Uint8Array(0)
  const reader = body.getReader()
  const parts: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      return undefined
    }
    parts.push(value)
  }
  return concatBytes(parts, size)
}

/**
 * Reads and parses a JSON object body: 400 for invalid JSON or a non-object, 413 when too large;
 * with `requireJsonType`, 415 before reading unless the `Content-Type` is JSON (see {@link checkJsonContentType}).
 */
export async function readRequestJson(request: Request, maxBytes: number, requireJsonType = false): Promise<{ text: string; body: Record<string, unknown> }> {
  if (requireJsonType) checkJsonContentType((bridgeRequestOf(request) ?? request.headers).get('content-type'))
  const bytes = await readRequestBytes(request, maxBytes)
  if (bytes === undefined) throw new PayloadTooLargeError(maxBytes)
  const text = textDecoder.decode(bytes)
  if (BLANK.test(text)) throw new InvalidRequestError('The request body is empty; expected a JSON object.', { code: 'invalid_json' })
  const parsed = safeParseJson(text)
  if (!parsed.success) {
    throw new InvalidRequestError(`The request body is not valid JSON: ${parsed.error.message}`, { code: 'invalid_json' })
  }
  if (!isJsonObject(parsed.value)) {
    throw new InvalidRequestError('The request body must be a JSON object.', { code: 'invalid_body' })
  }
  return { text, body: parsed.value }
}


/** `application/json`, or any `application/…+json`, parameters allowed; case does not matter. */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i

/**
 * 415 unless the body says it is JSON. A web page can post `text/plain`, a form or an untyped
 * blob to any address without a CORS preflight (that is how it reaches a service on localhost);
 * a JSON body it cannot send without asking first.
 */
export function checkJsonContentType(contentType: string | null): void {
  if (contentType !== null && JSON_TYPE.test(contentType.trimStart())) return
  throw new QueuegateError(
    `The request body must be sent as Content-Type: application/json${contentType === null ? ' (none was given)' : `, not ${JSON.stringify(contentType.slice(0, 100))}`}. Other types are refused so that a web page cannot post to this gateway without CORS.`,
    { status: 415, type: 'invalid_request_error', code: 'unsupported_media_type' },
  )
}
