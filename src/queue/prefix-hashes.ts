/**
 * Prefix hashes of a chat request for cache-aware routing: one hash per block of the prompt (each message, long
 * messages in fixed-size chunks), each hash covering everything before it too, so two requests share the first k
 * hashes exactly when they share the first k blocks. Pure; the gateway calls it only when `routing` is
 * `'cache-aware'`.
 * @module
 */

/** What the router knows of a request's prompt: cumulative block hashes and where each block ends. */
export interface PrefixHint {
  /** Hash of blocks 0..i, for each block i (16 hex digits; a 64-bit multiplicative hash carried across blocks). */
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

/** The 16-hex-digit digest of the two lanes' state (mixed into 64 bits; the state itself goes on). */
function digest(h1: number, h2: number): string {
  let d1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507)
  d1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  let d2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507)
  d2 ^= Math.imul(d1 ^ (d1 >>> 13), 3266489909)
  return hex8(d2) + hex8(d1)
}

/** 8 lowercase hex digits of a 32-bit word. */
function hex8(word: number): string {
  return (HEX[(word >>> 24) & 0xff] as string) + (HEX[(word >>> 16) & 0xff] as string) + (HEX[(word >>> 8) & 0xff] as string) + (HEX[word & 0xff] as string)
}

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
  // Two 32-bit multiplicative lanes (cyrb53's), carried from block to block; each block's digest mixes both into
  // 64 bits. Locals, not captured by a closure, so that they stay in registers.
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (const message of messages) {
    const role = (message as { role?: unknown } | null)?.role
    if (role === 'user' || role === 'tool') turns++
    const text = blockText(message)
    const length = text.length
    let inChunk = 0
    for (let index = 0; index < length; index++) {
      const code = text.charCodeAt(index)
      h1 = Math.imul(h1 ^ code, 2654435761)
      h2 = Math.imul(h2 ^ code, 1597334677)
      if (++inChunk === chunkChars && index + 1 < length) {
        inChunk = 0
        if (hashes.length < maxBlocks) {
          hashes.push(digest(h1, h2))
          ends.push(chars + index + 1)
        }
      }
    }
    // Block separator: ['ab', 'c'] and ['a', 'bc'] differ.
    h1 = Math.imul(h1, 2654435761)
    h2 = Math.imul(h2, 1597334677)
    chars += length
    if (hashes.length < maxBlocks) {
      hashes.push(digest(h1, h2))
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
