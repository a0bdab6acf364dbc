import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fnv1a64 } from '../../src/queue/fnv1a-64.js'

/** Reference FNV-1a 64 with BigInt. */
function reference(text: string): string {
  let hash = 0xcbf29ce484222325n
  for (const byte of new TextEncoder().encode(text)) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn
  return hash.toString(16).padStart(16, '0')
}

describe('fnv1a64', () => {
  it('matches the published test vectors', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325')
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c')
    expect(fnv1a64('foobar')).toBe('85944171f73967e8')
  })

  it('matches a BigInt reference on assorted text', () => {
    for (const text of ['héllo wörld', '🎉'.repeat(7), '{"a":[1,2,3]}', 'x'.repeat(4096)]) expect(fnv1a64(text)).toBe(reference(text))
  })

  it('matches the reference on any text, ASCII or not (the ASCII path skips the encoder)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' })), (text) => {
        expect(fnv1a64(text)).toBe(reference(text))
      }),
      { numRuns: 300 },
    )
  })
})
