/**
 * Chunk-safe scanning helpers for tool-call formats. Every function looks at a text that may
 * still grow and answers with an end index, `PARTIAL` (the text ended before the answer is known)
 * or `NO` (certainly not). Resumable scans keep their progress in the candidate's `memo`.
 * @module
 */

/** The text ended before the answer is known: wait for more (or, at the end, give up). */
export const PARTIAL = -1
/** Certainly not: the text here does not have the expected shape. */
export const NO = -2

/**
 * End index of `literal` at `pos`, `PARTIAL` when the text ends inside a prefix of it, else `NO`.
 * @example literalAt('<tool_ca', 0, '<tool_call>') // PARTIAL
 */
export function literalAt(text: string, pos: number, literal: string): number {
  if (text.length - pos >= literal.length) return text.startsWith(literal, pos) ? pos + literal.length : NO
  for (let i = pos; i < text.length; i++) if (text.charCodeAt(i) !== literal.charCodeAt(i - pos)) return NO
  return PARTIAL
}

/**
 * Which of `literals` is at `pos`: the index into `literals` of the longest one present, `PARTIAL`
 * when a longer one could still follow (or the text ends inside a prefix), else `NO`.
 */
export function whichLiteralAt(text: string, pos: number, literals: readonly string[]): number {
  let best = NO
  let bestLength = -1
  let partial = false
  for (let index = 0; index < literals.length; index++) {
    const literal = literals[index]!
    const end = literalAt(text, pos, literal)
    if (end === PARTIAL) partial = true
    else if (end !== NO && literal.length > bestLength) {
      best = index
      bestLength = literal.length
    }
  }
  // A longer literal still partial could replace the best one: wait (verdicts must be stable).
  if (partial) {
    for (const literal of literals) if (literal.length > bestLength && literalAt(text, pos, literal) === PARTIAL) return PARTIAL
  }
  return best
}

/** Index of the first character at or after `pos` that is not whitespace (space, tab, CR, LF, FF). */
export function skipWhitespace(text: string, pos: number): number {
  let i = pos
  while (i < text.length) {
    const code = text.charCodeAt(i)
    if (code === 32 || code === 9 || code === 10 || code === 13 || code === 12) i++
    else break
  }
  return i
}

/** Index of the first character at or after `pos` that is not a space or tab. */
export function skipSpaces(text: string, pos: number): number {
  let i = pos
  while (i < text.length) {
    const code = text.charCodeAt(i)
    if (code === 32 || code === 9) i++
    else break
  }
  return i
}

/** True when `code` may appear in a tool name (letters, digits, `_`, `-`, `.`, `:`, `/`, non-ASCII letters). */
export function isNameChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 45 || code === 46 || code === 58 || code === 47 || code > 127
}

/**
 * End of a tool name starting at `pos` (see `isNameChar`; `:` and `/` excluded unless `extra`
 * contains them). `PARTIAL` when the text ends inside the name, `NO` when no name starts here.
 */
export function identifierEnd(text: string, pos: number, extra = '-.'): number {
  let i = pos
  while (i < text.length) {
    const code = text.charCodeAt(i)
    const simple = (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code > 127
    if (simple || extra.includes(text[i]!)) i++
    else break
  }
  if (i === text.length) return PARTIAL
  return i === pos ? NO : i
}

interface JsonScanState {
  i: number
  stack: string
  quote: number
  escape: boolean
}

const OPEN_BRACE = 123
const OPEN_BRACKET = 91

/**
 * End index (exclusive) of the balanced JSON object or array starting at `pos`, string-aware
 * (double- and single-quoted strings, backslash escapes), so `}` or `</tool_call>` inside a string
 * never ends it. Lenient about what is inside (json5, Python literals): it only balances brackets.
 * `PARTIAL` when the text ends first, `NO` when `pos` is not `{`/`[` or a bracket is mismatched.
 * With `memo` the scan resumes where the previous call stopped (the text must only have grown).
 */
export function jsonValueEnd(text: string, pos: number, memo?: Map<string, unknown>): number {
  const first = text.charCodeAt(pos)
  if (Number.isNaN(first)) return PARTIAL
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) return NO
  const key = `json@${pos}`
  const saved = memo?.get(key) as JsonScanState | undefined
  let i = saved?.i ?? pos + 1
  let stack = saved?.stack ?? (first === OPEN_BRACE ? '}' : ']')
  let quote = saved?.quote ?? 0
  let escape = saved?.escape ?? false
  const length = text.length
  while (i < length) {
    const code = text.charCodeAt(i)
    if (quote !== 0) {
      if (escape) escape = false
      else if (code === 92) escape = true
      else if (code === quote) quote = 0
      i++
      continue
    }
    if (code === 34 || code === 39) quote = code
    else if (code === OPEN_BRACE) stack += '}'
    else if (code === OPEN_BRACKET) stack += ']'
    else if (code === 125 || code === 93) {
      if (stack.charCodeAt(stack.length - 1) !== code) return NO
      stack = stack.slice(0, -1)
      if (stack.length === 0) {
        memo?.delete(key)
        return i + 1
      }
    }
    i++
  }
  memo?.set(key, { i, stack, quote, escape } satisfies JsonScanState)
  return PARTIAL
}

/**
 * The quote char code the resumable scan of the JSON value at `pos` stopped inside (0 when outside a
 * string, or when there is no saved scan).
 */
export function jsonScanQuote(pos: number, memo?: Map<string, unknown>): number {
  const saved = memo?.get(`json@${pos}`) as JsonScanState | undefined
  return saved === undefined || saved.escape ? 0 : saved.quote
}

/**
 * Index of the first `literal` at or after `from`, or `PARTIAL` when it has not arrived yet.
 * With `memo` a repeated search on the grown text starts where the previous one left off.
 */
export function findLiteral(text: string, literal: string, from: number, memo?: Map<string, unknown>): number {
  const key = `find@${from}:${literal}`
  const start = Math.max(from, (memo?.get(key) as number | undefined) ?? from)
  const index = text.indexOf(literal, start)
  if (index >= 0) return index
  memo?.set(key, Math.max(from, text.length - literal.length + 1))
  return PARTIAL
}
