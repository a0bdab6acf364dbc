/**
 * FNV-1a 64-bit, a fast non-cryptographic hash, in plain JavaScript (no node:crypto, no BigInt).
 * @module
 */

const encoder = new TextEncoder()

/**
 * The FNV-1a 64-bit hash of the UTF-8 bytes of `text`, as 16 lowercase hex digits.
 *
 * Computed in four 16-bit limbs: the FNV prime 2^40 + 0x1b3 multiplies as `h * 0x1b3 + (h << 40)`, and every
 * intermediate stays below 2^27, so it is exact in doubles. Not for security: it only spreads keys.
 * @example fnv1a64('a') // 'af63dc4c8601ec8c'
 */
export function fnv1a64(text: string): string {
  // Offset basis 0xcbf29ce484222325, lowest limb first.
  let h0 = 0x2325
  let h1 = 0x8422
  let h2 = 0x9ce4
  let h3 = 0xcbf2
  // ASCII text is its own UTF-8: hash the char codes and skip the encoder (the common case).
  let bytes: Uint8Array | undefined
  const length = text.length
  for (let index = 0; index < length; index++) {
    if (text.charCodeAt(index) > 0x7f) {
      bytes = encoder.encode(text)
      break
    }
  }
  const count = bytes === undefined ? length : bytes.length
  for (let index = 0; index < count; index++) {
    h0 ^= bytes === undefined ? text.charCodeAt(index) : (bytes[index] as number)
    const t0 = h0 * 0x1b3
    const t1 = h1 * 0x1b3 + (t0 >>> 16)
    const t2 = h2 * 0x1b3 + (t1 >>> 16) + (h0 << 8)
    const t3 = h3 * 0x1b3 + (t2 >>> 16) + (h1 << 8)
    h0 = t0 & 0xffff
    h1 = t1 & 0xffff
    h2 = t2 & 0xffff
    h3 = t3 & 0xffff
  }
  return hex4(h3) + hex4(h2) + hex4(h1) + hex4(h0)
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))

function hex4(limb: number): string {
  return (HEX[limb >>> 8] as string) + (HEX[limb & 0xff] as string)
}
