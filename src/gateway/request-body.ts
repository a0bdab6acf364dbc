/**
 * Reading the client's request body with a cap (413 beyond `maxBodyBytes`).
 * @module
 */
import { InvalidRequestError, PayloadTooLargeError } from '../errors.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'
import { headerLookup, READ_BODY } from './request-access.js'
import type { FastRequest } from './request-access.js'

const textDecoder = new TextDecoder()

/** Reads the request body as text, failing with 413 as soon as it passes `maxBytes`. */
export async function readRequestText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(headerLookup(request).get('content-length') ?? Number.NaN)
  if (Number.isFinite(declared) && declared > maxBytes) throw new PayloadTooLargeError(maxBytes)
  const readBody = (request as Partial<FastRequest>)[READ_BODY]
  if (readBody !== undefined) {
    const bytes = await readBody.call(request, maxBytes)
    if (bytes === undefined) throw new PayloadTooLargeError(maxBytes)
    return textDecoder.decode(bytes)
  }
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
  return textDecoder.decode(concat(parts, size))
}
