/**
 * Byte-level helpers for SSE bodies of the simple form every OpenAI-compatible server writes
 * (`data: <payload>\n\n`), shared by the re-framer (sse-reframer.ts), the gated relay and the
 * reasoning trigger: they scan bytes without decoding them.
 * @module
 */

export const LF = 10
export const CR = 13
/** `data: ` */
export const DATA_PREFIX: readonly number[] = [100, 97, 116, 97, 58, 32]
/** `[DONE]` */
export const DONE_PAYLOAD: readonly number[] = [91, 68, 79, 78, 69, 93]

/** `data: ` starts at `position`. */
export function startsWithDataPrefix(buffer: Uint8Array, position: number): boolean {
  return (
    buffer[position] === 100 &&
    buffer[position + 1] === 97 &&
    buffer[position + 2] === 116 &&
    buffer[position + 3] === 97 &&
    buffer[position + 4] === 58 &&
    buffer[position + 5] === 32
  )
}

/** The bytes from `position` to the end are the start of `data: `. */
export function isPrefixOfData(buffer: Uint8Array, position: number): boolean {
  for (let index = position; index < buffer.length; index++) if (buffer[index] !== DATA_PREFIX[index - position]) return false
  return true
}

/** `expected` stands at `position`. */
export function matches(buffer: Uint8Array, position: number, expected: readonly number[]): boolean {
  for (let index = 0; index < expected.length; index++) if (buffer[position + index] !== expected[index]) return false
  return true
}

/** The first index from `from` on (before `end`) that is not JSON whitespace. */
export function skipSpace(payload: Uint8Array, from: number, end = payload.length): number {
  let index = from
  while (index < end) {
    const byte = payload[index]
    if (byte !== 32 && byte !== 9 && byte !== 10 && byte !== 13) break
    index++
  }
  return index
}

/** `a` then `b` (either itself when the other is empty). */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b
  if (b.length === 0) return a
  const all = new Uint8Array(a.length + b.length)
  all.set(a, 0)
  all.set(b, a.length)
  return all
}
