/**
 * Reads a response body as text up to a byte cap, then cancels the rest: no tool server answer
 * is held whole in memory beyond its cap.
 * @module
 */

/** What {@link readCapped} read. */
export interface CappedText {
  text: string
  /** The body went on past `maxBytes` (the rest was not read). */
  truncated: boolean
}

/**
 * Reads `body` up to `maxBytes` bytes, decoded as UTF-8 (a character cut at the cap is dropped).
 * @example const { text, truncated } = await readCapped(response.body, 2048)
 */
export async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<CappedText> {
  if (body === null) return { text: '', truncated: false }
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let read = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { text: text + decoder.decode(), truncated: false }
      const room = maxBytes - read
      if (value.byteLength > room) {
        // `stream: true` keeps a character cut at the cap out of the text.
        text += decoder.decode(value.subarray(0, room), { stream: true })
        await reader.cancel().catch(() => {})
        return { text, truncated: true }
      }
      read += value.byteLength
      text += decoder.decode(value, { stream: true })
    }
  } finally {
    reader.releaseLock()
  }
}

/** `text` cut to at most `maxBytes` UTF-8 bytes, on a character boundary. */
export function cutToBytes(text: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(text)
  if (bytes.byteLength <= maxBytes) return text
  return new TextDecoder().decode(bytes.subarray(0, maxBytes), { stream: true })
}

/** Bytes of `text` in UTF-8. */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      bytes += 4
      index++
    } else bytes += 3
  }
  return bytes
}
