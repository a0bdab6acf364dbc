/**
 * Server-sent events on the way out: `data:` frames, comments and the error event. (Upstream
 * SSE is read in sse-reframer.ts and gateway/upstream-relay.ts, with eventsource-parser.)
 * @module
 */
import { QueuegateError, UpstreamError } from '../errors.js'

const encoder = new TextEncoder()

/** Encodes one `data:` frame. A payload holds no newline (JSON.stringify output never does). */
export function encodeSseData(data: string): Uint8Array {
  return encoder.encode(`data: ${data}\n\n`)
}

/** Encodes an SSE comment line (invisible to clients; keeps proxies from timing out). */
export function encodeSseComment(text: string): Uint8Array {
  return encoder.encode(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`)
}

/** Encodes an error as the one `data: {"error": …}` event the OpenAI clients understand. */
export function encodeSseError(error: unknown): Uint8Array {
  const body = QueuegateError.isInstance(error)
    ? error.toJSON()
    : new UpstreamError(error instanceof Error ? error.message : 'The stream failed.').toJSON()
  return encodeSseData(JSON.stringify(body))
}
