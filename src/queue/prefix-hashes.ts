/**
 * Prefix hashes of a chat request for cache-aware routing: one hash per block of the prompt (each message, long
 * messages in fixed-size chunks), each hash covering everything before it too, so two requests share the first k
 * hashes exactly when they share the first k blocks. Pure; the gateway calls it only when `routing` is
 * `'cache-aware'`.
 * @module
 */

/** What the router knows of a request's prompt: cumulative block hashes and where each block ends. */
export interface PrefixHint {
  /** Hash of blocks 0..i, for each block i (16 hex digits, FNV-1a 64 carried across blocks). */
  readonly hashes: readonly string[]
  /** Characters of the prompt up to the end of block i, for each block i. */
  readonly ends: readonly number[]
  /** Characters of the whole prompt (the last of `ends`, or 0). */
  readonly chars: number
  /**
   * How deep the conversation is: its user and tool messages, each of which asked for a reply (the cache-aware
   * router learns how often a conversation of each depth goes on). Undefined when unknown.
   */
  readonly turns?: number | undefined
}

/** Options of {@link prefixHashesOf}. */
export interface PrefixHashOptions {
  /** A message longer than this is hashed in chunks of this many characters. @default 4096 */
  chunkChars?: number | undefined
  /** Most blocks hashed; the rest of the prompt is left out (it still counts in `chars`). @default 256 */
  maxBlocks?: number | undefined
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))

/**
 * The prefix hashes of `messages` (an OpenAI chat `messages` array; anything else gives no blocks). A block is a
 * message's role and content (text, or the JSON of content parts, tool calls and name); the hash runs over the
 * UTF-16 code units (cheaper than UTF-8 and as good for equality). O(prompt characters).
 * @example prefixHashesOf([{ role: 'system', content: 'You are terse.' }]).hashes.length // 1
 */
export function prefixHashesOf(messages: unknown, options: PrefixHashOptions = {}): PrefixHint {
  const chunkChars = options.chunkChars ?? 4096
  const maxBlocks = options.maxBlocks ?? 256
  const hashes: string[] = []
  const ends: number[] = []
  let chars = 0
  let turns = 0
  if (!Array.isArray(messages)) return { hashes, ends, chars }
  // FNV-1a 64 in four 16-bit limbs (see fnv1a-64.ts), carried from block to block.
  let h0 = 0x2325
  let h1 = 0x8422
  let h2 = 0x9ce4
  let h3 = 0xcbf2
  const mix = (code: number) => {
    h0 ^= code & 0xff
    let t0 = h0 * 0x1b3
    let t1 = h1 * 0x1b3 + (t0 >>> 16)
    let t2 = h2 * 0x1b3 + (t1 >>> 16) + (h0 << 8)
    let t3 = h3 * 0x1b3 + (t2 >>> 16) + (h1 << 8)
    h0 = t0 & 0xffff
    h1 = t1 & 0xffff
    h2 = t2 & 0xffff
    h3 = t3 & 0xffff
    if (code > 0xff) {
      h0 ^= code >>> 8
      t0 = h0 * 0x1b3
      t1 = h1 * 0x1b3 + (t0 >>> 16)
      t2 = h2 * 0x1b3 + (t1 >>> 16) + (h0 << 8)
      t3 = h3 * 0x1b3 + (t2 >>> 16) + (h1 << 8)
      h0 = t0 & 0xffff
      h1 = t1 & 0xffff
      h2 = t2 & 0xffff
      h3 = t3 & 0xffff
    }
  }
  const digest = () => (HEX[h3 >>> 8] as string) + (HEX[h3 & 0xff] as string) + (HEX[h2 >>> 8] as string) + (HEX[h2 & 0xff] as string) + (HEX[h1 >>> 8] as string) + (HEX[h1 & 0xff] as string) + (HEX[h0 >>> 8] as string) + (HEX[h0 & 0xff] as string)
  for (const message of messages) {
    const role = (message as { role?: unknown } | null)?.role
    if (role === 'user' || role === 'tool') turns++
    const text = blockText(message)
    const length = text.length
    let inChunk = 0
    for (let index = 0; index < length; index++) {
      mix(text.charCodeAt(index))
      if (++inChunk === chunkChars && index + 1 < length) {
        inChunk = 0
        if (hashes.length < maxBlocks) {
          hashes.push(digest())
          ends.push(chars + index + 1)
        }
      }
    }
    mix(0) // block separator: ['ab', 'c'] and ['a', 'bc'] differ
    chars += length
    if (hashes.length < maxBlocks) {
      hashes.push(digest())
      ends.push(chars)
    }
  }
  return { hashes, ends, chars, turns }
}

/** The text a message contributes: role, then string content as is, else the JSON of what the prompt is built from. */
function blockText(message: unknown): string {
  if (typeof message !== 'object' || message === null) return JSON.stringify(message) ?? ''
  const record = message as Record<string, unknown>
  const role = typeof record['role'] === 'string' ? record['role'] : ''
  const content = record['content']
  let text = role + '\u0000' + (typeof content === 'string' ? content : (JSON.stringify(content) ?? ''))
  if (record['tool_calls'] !== undefined) text += '\u0000' + JSON.stringify(record['tool_calls'])
  if (typeof record['name'] === 'string') text += '\u0000' + record['name']
  if (typeof record['tool_call_id'] === 'string') text += '\u0000' + record['tool_call_id']
  return text
}
