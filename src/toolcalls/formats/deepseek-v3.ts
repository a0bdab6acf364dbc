/**
 * DeepSeek-V3 / R1 tool calls:
 * `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{…}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>`
 * (bars U+FF5C, separators U+2581). R1 distills misspell the tokens (`_`, space or `\_` instead of
 * `▁`, `<｜tool▁calls｜>`), and sometimes drop the outer begin token or a closer; all are read.
 *
 * This file also holds `matchDeepSeekCalls`, shared with V3.1
 * (`<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{…}<｜tool▁call▁end｜>`).
 * @module
 */
import { toArguments } from '../call-shape.js'
import { parseFlexibleJson } from '../flexible-json.js'
import { NO, PARTIAL, identifierEnd, jsonValueEnd, literalAt, skipSpaces, skipWhitespace, whichLiteralAt } from '../scan.js'
import { jsonWaitFor } from '../json-calls-at.js'
import { matchCallSection } from './call-section.js'
import type { CallStep } from './call-section.js'
import type { MatchContext, MatchResult, ToolCallFormat } from './types.js'

const SEPARATORS = ['▁', '_', ' ', '\\_']
const token = (...words: string[]): string[] => SEPARATORS.map((separator) => `<｜${words.join(separator)}｜>`)

/** Openers of a DeepSeek tool-call section (and its misspellings). */
export const DEEPSEEK_CALLS_BEGIN = [...new Set([...token('tool', 'calls', 'begin'), '<｜tool▁calls｜>'])]
/** Opener of one call (also accepted without the section opener). */
export const DEEPSEEK_CALL_BEGIN = [...new Set(token('tool', 'call', 'begin'))]
const CALL_END = [...new Set(token('tool', 'call', 'end'))]
const CALLS_END = [...new Set(token('tool', 'calls', 'end'))]
const SEP = [...new Set(token('tool', 'sep'))]
const FENCE = '```'

const partial = (): MatchResult => ({ status: 'partial' })
const reject = (length?: number): MatchResult => (length === undefined ? { status: 'reject' } : { status: 'reject', length })

type Step = CallStep

/** An optional literal at `pos`: the end after the one present, `PARTIAL`, or `pos` when absent. */
function optionalLiteral(text: string, pos: number, literals: readonly string[]): number {
  const which = whichLiteralAt(text, pos, literals)
  if (which === PARTIAL) return PARTIAL
  return which === NO ? pos : pos + literals[which]!.length
}

/**
 * The JSON arguments at `pos` (optionally in a ```json fence), then the optional call closer. A complete JSON value
 * that cannot be repaired or is not an object makes a broken call (reported, removed with the section).
 */
function argumentsAt(text: string, pos: number, name: string, context: MatchContext, fenced: boolean): Step {
  const { final } = context
  const truncated = (): Step => (final ? { verdict: reject(text.length), cut: { name } } : { verdict: partial() })
  let i = skipWhitespace(text, pos)
  let inFence = false
  if (fenced) {
    const fence = literalAt(text, i, FENCE)
    if (fence === PARTIAL) return truncated()
    if (fence !== NO) {
      const lineEnd = text.indexOf('\n', fence)
      if (lineEnd < 0) return text.length - fence > 20 ? { verdict: reject() } : truncated()
      if (!/^[A-Za-z]*\s*$/.test(text.slice(fence, lineEnd))) return { verdict: reject() }
      inFence = true
      i = skipWhitespace(text, lineEnd)
    }
  }
  if (i >= text.length) return truncated()
  const end = jsonValueEnd(text, i, context.memo)
  // Not JSON at all: not this format's call (Step-3 writes its XML invoke behind the same tokens).
  if (end === NO) return { verdict: reject() }
  if (end === PARTIAL) return final ? truncated() : { verdict: { status: 'partial', waitFor: jsonWaitFor(text, i) } }
  const parsed = parseFlexibleJson(text.slice(i, end))
  const args = parsed.ok ? toArguments(parsed.value) : undefined
  let after = end
  if (inFence) {
    const j = skipWhitespace(text, end)
    const close = literalAt(text, j, FENCE)
    if (close === PARTIAL || (j >= text.length && !final)) return truncated()
    if (close !== NO) after = close
  }
  // The call closer is optional (dropped closers are a known failure): take it when it is there.
  const j = skipWhitespace(text, after)
  let callEnd = after
  if (j >= text.length || whichLiteralAt(text, j, CALL_END) === PARTIAL) {
    if (!final) return { verdict: partial() }
  } else {
    const closer = whichLiteralAt(text, j, CALL_END)
    if (closer !== NO) callEnd = j + CALL_END[closer]!.length
  }
  if (args === undefined) return { end: callEnd, broken: { name, reason: parsed.ok ? 'the arguments are not a JSON object' : 'the arguments are not valid JSON' } }
  return { end: callEnd, call: { name, arguments: args } }
}

/** One call at `pos` in the V3 (`function<｜tool▁sep｜>NAME\n```json …`) or V3.1 (`NAME<｜tool▁sep｜>{…}`) style. */
function callAt(text: string, pos: number, context: MatchContext, style: 'v3' | 'v31'): Step {
  const { final } = context
  const truncated = (): Step => ({ verdict: final ? reject(text.length) : partial() })
  let i = optionalLiteral(text, skipWhitespace(text, pos), DEEPSEEK_CALL_BEGIN)
  if (i === PARTIAL) return truncated()
  i = skipWhitespace(text, i)
  if (style === 'v3') {
    const type = literalAt(text, i, 'function')
    if (type === PARTIAL) return truncated()
    if (type === NO) return { verdict: reject() }
    const sep = whichLiteralAt(text, type, SEP)
    if (sep === PARTIAL) return truncated()
    if (sep === NO) return { verdict: reject() }
    const nameStart = skipSpaces(text, type + SEP[sep]!.length)
    const nameEnd = identifierEnd(text, nameStart, '-.:')
    if (nameEnd === PARTIAL) return truncated()
    if (nameEnd === NO) return { verdict: reject() }
    const name = text.slice(nameStart, nameEnd)
    if (context.tools.resolve(name) === undefined) return { verdict: reject(), undeclared: true }
    return argumentsAt(text, nameEnd, name, context, true)
  }
  const nameEnd = identifierEnd(text, i, '-.:')
  if (nameEnd === PARTIAL) return truncated()
  if (nameEnd === NO) return { verdict: reject() }
  const name = text.slice(i, nameEnd)
  const sep = whichLiteralAt(text, skipSpaces(text, nameEnd), SEP)
  if (sep === PARTIAL) return truncated()
  if (sep === NO) return { verdict: reject() }
  if (context.tools.resolve(name) === undefined) return { verdict: reject(), undeclared: true }
  return argumentsAt(text, skipSpaces(text, nameEnd) + SEP[sep]!.length, name, context, true)
}

/**
 * Matches a DeepSeek tool-call section (or a lone call whose section opener is missing) at the start
 * of `text`, with calls in the given style. Closers are optional at the end of the message.
 */
export function matchDeepSeekCalls(text: string, context: MatchContext, style: 'v3' | 'v31'): MatchResult {
  const section = whichLiteralAt(text, 0, DEEPSEEK_CALLS_BEGIN)
  if (section === PARTIAL) return partial()
  let pos = 0
  if (section !== NO) pos = DEEPSEEK_CALLS_BEGIN[section]!.length
  else {
    const call = whichLiteralAt(text, 0, DEEPSEEK_CALL_BEGIN)
    if (call === PARTIAL) return partial()
    if (call === NO) return reject()
  }
  return matchCallSection(text, pos, context, {
    closerAt: (source, at) => {
      const closer = whichLiteralAt(source, at, CALLS_END)
      return closer < 0 ? closer : at + CALLS_END[closer]!.length
    },
    callAt: (source, at) => callAt(source, at, context, style),
  })
}

/** DeepSeek-V3 / R1 `<｜tool▁calls▁begin｜>` sections with `function<｜tool▁sep｜>NAME` + fenced JSON calls. */
export const deepseekV3: ToolCallFormat = {
  id: 'deepseek_v3',
  strength: 'strong',
  starts: [...DEEPSEEK_CALLS_BEGIN, ...DEEPSEEK_CALL_BEGIN],
  match: (text, context) => matchDeepSeekCalls(text, context, 'v3'),
}
