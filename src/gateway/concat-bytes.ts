/**
 * Joining byte chunks: one chunk comes back as it is, none as an empty array.
 * @module
 */

/** The chunks as one `Uint8Array` of `size` bytes (their total). */
export function concatBytes(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 0) return new Uint8Array(0)
  if (parts.length === 1) return parts[0] as Uint8Array
  const all = new Uint8Array(size)
  let offset = 0
  for (const part of parts) {
    all.set(part, offset)
    offset += part.byteLength
  }
  return all
}
