/**
 * `leftoverAt()`: the marker debris models write right after a tool call, which the engine removes
 * with the call: a repeated or stray closing tag (`</tool_call></tool_call>`, `</function>`,
 * `<tool_call|>`, `[/TOOL_CALLS]`), an end-of-turn or response token (`<|im_end|>`, `<|eot_id|>`,
 * `<|call|>`, `<｜end▁of▁sentence｜>`, `<tool_response>`); and `cutLeftoverAt()`, the same cut off
 * by the end of the message (`</tool_`). Chunk-safe like the helpers in `scan.ts`.
 * @module
 */
import { NO, PARTIAL } from './scan.js'

/** Longest closing tag read (longer text of the same shape is content). */
const MAX_TAG = 48

/** End-of-turn and response tokens (special tokens that open nothing). */
const TOKENS = [
  '<|im_end|>',
  '<|eot_id|>',
  '<|eom_id|>',
  '<|end|>',
  '<|eot|>',
  '<|eom|>',
  '<|call|>',
  '<|return|>',
  '<|endoftext|>',
  '<|end_of_text|>',
  '<|end_of_turn|>',
  '<|tool_response|>',
  '<tool_response>',
  '<｜end▁of▁sentence｜>',
  '<｜tool▁calls▁end｜>',
  '<｜tool▁call▁end｜>',
  '<|tool_calls_section_end|>',
  '<|tool_call_end|>',
  '[/TOOL_CALLS]',
  '[END_TOOL_REQUEST]',
]

/** Tag name characters: ASCII letters, digits, `_-.:`, `▁`, the DSML bars `｜` and spaces (`</｜DSML｜ calls>`). */
function isTagNameCode(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 45 || code === 46 || code === 58 || code === 0x2581 || code === 0xff5c || code === 32
}

/** `</NAME>` or `<NAME|>` at `pos` (`open` is `</` or `<`, `close` is `>` or `|>`): its end, `PARTIAL`, or `NO`. */
function tagAt(text: string, pos: number, open: string, close: string): number {
  let i = pos
  for (let k = 0; k < open.length; k++, i++) {
    if (i >= text.length) return PARTIAL
    if (text.charCodeAt(i) !== open.charCodeAt(k)) return NO
  }
  const nameStart = i
  while (i < text.length && i - pos <= MAX_TAG && isTagNameCode(text.charCodeAt(i))) i++
  if (i - pos > MAX_TAG) return NO
  const empty = i === nameStart || text.charCodeAt(nameStart) === 32
  for (let k = 0; k < close.length; k++, i++) {
    if (i >= text.length) return empty && i === nameStart ? PARTIAL : empty ? NO : PARTIAL
    if (text.charCodeAt(i) !== close.charCodeAt(k)) return NO
  }
  return empty ? NO : i
}

/** `literal` at `pos`: its end, `PARTIAL` for a prefix cut off by the end of the text, else `NO`. */
function literalPrefixAt(text: string, pos: number, literal: string): number {
  for (let k = 0; k < literal.length; k++) {
    if (pos + k >= text.length) return PARTIAL
    if (text.charCodeAt(pos + k) !== literal.charCodeAt(k)) return NO
  }
  return pos + literal.length
}

/**
 * End of the leftover at `pos`, `PARTIAL` while the text could still become one, else `NO`.
 * Never a call opener: `isOpener(pos)` is asked before a leftover is taken (the engine checks the
 * strong formats' openers), so a next call is read as a call.
 * @example leftoverAt('</tool_call> Done', 0, () => false) // 12
 */
export function leftoverAt(text: string, pos: number, isOpener: (pos: number) => boolean): number {
  if (pos >= text.length) return PARTIAL
  const first = text.charCodeAt(pos)
  if (first !== 60 && first !== 91) return NO
  let partial = false
  const consider = (end: number): number => {
    if (end === PARTIAL) partial = true
    return end >= 0 && !isOpener(pos) ? end : NO
  }
  if (first === 60) {
    const closing = consider(tagAt(text, pos, '</', '>'))
    if (closing >= 0) return closing
    const gemmaStyle = consider(tagAt(text, pos, '<', '|>'))
    if (gemmaStyle >= 0) return gemmaStyle
  }
  for (const token of TOKENS) {
    const end = consider(literalPrefixAt(text, pos, token))
    if (end >= 0) return end
  }
  return partial ? PARTIAL : NO
}

/**
 * Whether the text from `pos` to its end is a leftover cut off by the end of the message: a closing
 * tag with at least one name character (`</tool_`), or at least six characters of a listed special
 * token (`<|im_en`). Shorter pieces (`<`, `<|`, `<tool`) may be prose and stay text.
 */
export function cutLeftoverAt(text: string, pos: number): boolean {
  const rest = text.length - pos
  if (rest >= 3 && tagAt(text, pos, '</', '>') === PARTIAL) return true
  if (rest < 6) return false
  for (const token of TOKENS) if (token !== '<tool_response>' && literalPrefixAt(text, pos, token) === PARTIAL) return true
  return false
}
