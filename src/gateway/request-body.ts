/**
 * Reading bodies with a cap: the client's request (413 beyond `maxBodyBytes`) and an
 * upstream's non-streamed answer.
 * @module
 */
import { InvalidRequestError, PayloadTooLargeError, UpstreamError } from '../errors.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'

/** Reads the request body as text, failing with 413 as soon as it passes `maxBytes`. */
export async function readRequestText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (Number.isFinite(declared) && declared > maxBytes) throw new PayloadTooLargeError(maxBytes)
  if (request.body === null) return ''
  const reader = request.body.getReader()
  const parts: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw new PayloadTooLargeError(maxBytes)
    }
    parts.push(value)
  }
  return decodeParts(parts, size)
}

/** Reads and parses a JSON object body: 400 for invalid JSON or a non-object, 413 when too large. */
export async function readRequestJson(request: Request, maxBytes: number): Promise<{ text: string; body: Record<string, unknown> }> {
  const text = await readRequestText(request, maxBytes)
  if (text.trim() === '') throw new InvalidRequestError('The request body is empty; expected a JSON object.', { code: 'invalid_json' })
  const parsed = safeParseJson(text)
  if (!parsed.success) {
    throw new InvalidRequestError(`The request body is not valid JSON: ${parsed.error.message}`, { code: 'invalid_json' })
  }
  if (!isJsonObject(parsed.value)) {
    throw new InvalidRequestError('The request body must be a JSON object.', { code: 'invalid_body' })
  }
  return { text, body: parsed.value }
}

/** Reads an upstream body to bytes, failing with 502 past `maxBytes`. */
export async function readUpstreamBytes(body: AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => void }, maxBytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.byteLength
    if (size > maxBytes) {
      body.destroy?.()
      throw new UpstreamError(`The upstream answer is larger than ${maxBytes} bytes.`, { code: 'upstream_response_too_large' })
    }
    parts.push(chunk)
  }
  return concat(parts, size)
}

/** Reads an upstream body to text, failing with 502 past `maxBytes`. */
export async function readUpstreamText(body: AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => void }, maxBytes: number): Promise<string> {
  return new TextDecoder().decode(await readUpstreamBytes(body, maxBytes))
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array
  const all = new Uint8Array(size)
  let offset = 0
  for (const part of parts) {
    all.set(part, offset)
    offset += part.byteLength
  }
  return all
}

function decodeParts(parts: Uint8Array[], size: number): string {
  return new TextDecoder().decode(concat(parts, size))
}
