/**
 * Qwen3-Coder / Qwen3.5 / Qwen3.6 XML tool calls (also Nemotron-3 Nano, Step-3.5):
 * `<tool_call>\n<function=NAME>\n<parameter=KEY>\nVALUE\n</parameter>\n</function>\n</tool_call>`,
 * with or without the outer `<tool_call>`. Values are raw text typed from the tool's schema; the
 * structural `</parameter>` is the one followed by another parameter or `</function>` (so values may
 * contain `</parameter>`), and a missing `</parameter>` before the next `<parameter=` is implied.
 * @module
 */
import type { JsonObject, MatchContext, MatchResult, ParsedCall, ToolCallFormat } from './types.js'
import { propertySchema, trimFramingNewlines, typeXmlValue } from '../schema-typing.js'
import { NO, PARTIAL, findLiteral, identifierEnd, literalAt, skipSpaces, skipWhitespace } from '../scan.js'
import { CUT_OFF, SectionCalls } from './call-section.js'

/** Inside a value nothing can change until one of these arrives. */
const VALUE_WAIT = ['</parameter', '\n<parameter=', '</function>'] as const
/** `valueEnd`: no closer of any kind has arrived yet. */
const NO_CLOSER_YET = -3

/**
 * One parsed piece: where it ended and the call; a broken call (a declared name, a body that is not
 * parameters) for the caller to skip to its closer; or the verdict to return as is.
 */
export type FunctionStep = { end: number; call: ParsedCall } | { broken: { name: string; reason: string } } | { verdict: MatchResult }

/** A call cut off by the end of the message (final only): text, unless it follows a recovered call. */
const cut = (text: string, name: string | undefined): FunctionStep => ({ verdict: { status: 'reject', length: text.length, cut: { name } } })

/**
 * Where a broken call that started at `from` ends: after the first of `consume` (its own closer), or
 * before the first of `stop` (the block's closer, the next call). `PARTIAL` when none has come yet.
 */
export function brokenCallEnd(text: string, from: number, consume: readonly string[], stop: readonly string[], memo: Map<string, unknown>): number {
  let bestIndex = -1
  let bestEnd = PARTIAL
  for (const literal of consume) {
    const index = findLiteral(text, literal, from, memo)
    if (index >= 0 && (bestIndex < 0 || index < bestIndex)) {
      bestIndex = index
      bestEnd = index + literal.length
    }
  }
  for (const literal of stop) {
    const index = findLiteral(text, literal, from, memo)
    if (index >= 0 && (bestIndex < 0 || index < bestIndex)) {
      bestIndex = index
      bestEnd = index
    }
  }
  return bestEnd
}

/**
 * End of the parameter closer at `pos` (`</parameter` seen): `</parameter>`, and the malformed
 * `</parameter/>`, `</parameter1>` models write (SGLang PR #27337). `NO` for `</parameters>` etc.
 */
function parameterCloserEnd(text: string, pos: number): number {
  let i = pos + '</parameter'.length
  while (i < text.length && i - pos < 16 && /[/\d ]/.test(text[i]!)) i++
  if (i >= text.length) return PARTIAL
  return text[i] === '>' ? i + 1 : NO
}

/** After a `</parameter>` at `close`: where parsing resumes if it is structural, else NO (or PARTIAL). */
function structuralAfterParameter(text: string, closeEnd: number, final: boolean): number {
  const after = skipWhitespace(text, closeEnd)
  if (after >= text.length) return final ? after : PARTIAL
  for (const tag of ['<parameter=', '</function>', '</tool_call>', '<function=']) {
    const hit = literalAt(text, after, tag)
    if (hit === PARTIAL) return final ? after : PARTIAL
    if (hit !== NO) return after
  }
  return NO
}

/**
 * A `</function>` at `at` ends a value whose `</parameter>` was dropped only when `</tool_call>` and
 * then the end of the text or another call follow it (values may quote whole call blocks).
 */
function structuralAfterFunction(text: string, at: number, final: boolean): number {
  const after = skipWhitespace(text, at + '</function>'.length)
  if (after >= text.length) return final ? after : PARTIAL
  const outer = literalAt(text, after, '</tool_call>')
  if (outer === PARTIAL) return final ? NO : PARTIAL
  if (outer === NO) return NO
  const next = skipWhitespace(text, outer)
  if (next >= text.length) return final ? next : PARTIAL
  for (const tag of ['<tool_call>', '<function=']) {
    const hit = literalAt(text, next, tag)
    if (hit === PARTIAL) return final ? NO : PARTIAL
    if (hit !== NO) return next
  }
  return NO
}

/**
 * Where a parameter value ends: `{ valueEnd, next }` (next = where parsing resumes), or PARTIAL.
 * The earliest structural event wins (stable as text grows): a `</parameter>` followed by another
 * tag of the call, a `\n<parameter=` (its `</parameter>` was dropped), or a `</function>` followed
 * by `</tool_call>` or the end.
 */
function valueEnd(text: string, from: number, context: MatchContext): { valueEnd: number; next: number } | number {
  let searchFrom = from
  for (;;) {
    const close = findLiteral(text, '</parameter', searchFrom, context.memo)
    const nextParameter = findLiteral(text, '\n<parameter=', searchFrom, context.memo)
    const functionClose = findLiteral(text, '</function>', searchFrom, context.memo)
    const at = Math.min(close < 0 ? Infinity : close, nextParameter < 0 ? Infinity : nextParameter, functionClose < 0 ? Infinity : functionClose)
    // Nothing that could end the value yet (at the end: a truncated value).
    if (at === Infinity) return NO_CLOSER_YET
    if (at === nextParameter) return { valueEnd: nextParameter, next: nextParameter + 1 }
    let found: number
    if (at === close) {
      const closeEnd = parameterCloserEnd(text, close)
      found = closeEnd === PARTIAL || closeEnd === NO ? closeEnd : structuralAfterParameter(text, closeEnd, context.final)
    } else found = structuralAfterFunction(text, functionClose, context.final)
    if (found === PARTIAL) return PARTIAL
    if (found !== NO) return { valueEnd: at, next: at === close ? found : at }
    // A closing tag inside the value: keep looking.
    searchFrom = at + 1
  }
}

/**
 * The block `<function=NAME><parameter=K>V</parameter>…</function>` at `pos` (Qwen3-Coder, Seed-OSS
 * bodies). `</function>` may be missing before `</tool_call>` or at the end of the text.
 */
export function qwen3FunctionAt(text: string, pos: number, context: MatchContext): FunctionStep {
  const open = literalAt(text, pos, '<function=')
  if (open === PARTIAL) return context.final ? cut(text, undefined) : { verdict: { status: 'partial' } }
  if (open === NO) return { verdict: { status: 'reject' } }
  const { final } = context
  const nameEnd = identifierEnd(text, open, '-.:')
  if (nameEnd === PARTIAL) return final ? cut(text, undefined) : { verdict: { status: 'partial' } }
  if (nameEnd === NO) return { verdict: { status: 'reject' } }
  const name = text.slice(open, nameEnd)
  if (context.tools.resolve(name) === undefined) return { verdict: { status: 'reject' } }
  const gt = literalAt(text, skipSpaces(text, nameEnd), '>')
  if (gt === PARTIAL) return final ? cut(text, name) : { verdict: { status: 'partial' } }
  if (gt === NO) return { broken: { name, reason: 'the function tag is not closed with ">"' } }
  const args: JsonObject = {}
  let parameters = 0
  let i = gt
  for (;;) {
    i = skipWhitespace(text, i)
    // At the end of the message a call with parameters is complete; one with none yet was cut off.
    if (i >= text.length) return final ? (parameters > 0 ? { end: i, call: { name, arguments: args } } : cut(text, name)) : { verdict: { status: 'partial' } }
    const parameter = literalAt(text, i, '<parameter=')
    if (parameter !== NO && parameter !== PARTIAL) {
      const keyEnd = text.indexOf('>', parameter)
      if (keyEnd < 0) return final ? cut(text, name) : { verdict: { status: 'partial' } }
      const key = text.slice(parameter, keyEnd).trim()
      if (key === '' || key.includes('<') || key.includes('\n')) return { broken: { name, reason: 'a parameter tag has no usable name' } }
      const end = valueEnd(text, keyEnd + 1, context)
      if (typeof end === 'number') return final ? cut(text, name) : { verdict: end === NO_CLOSER_YET ? { status: 'partial', waitFor: VALUE_WAIT } : { status: 'partial' } }
      const raw = trimFramingNewlines(text.slice(keyEnd + 1, end.valueEnd))
      args[key] = typeXmlValue(raw, propertySchema(context.tools, name, key))
      parameters++
      i = end.next
      continue
    }
    const close = literalAt(text, i, '</function>')
    if (close !== NO && close !== PARTIAL) return { end: close, call: { name, arguments: args } }
    // `</tool_call>` right after the last parameter: `</function>` was dropped.
    const outerClose = literalAt(text, i, '</tool_call>')
    if (outerClose !== NO && outerClose !== PARTIAL) return { end: i, call: { name, arguments: args } }
    if (parameter === PARTIAL || close === PARTIAL || outerClose === PARTIAL) return final ? (parameters > 0 ? { end: i, call: { name, arguments: args } } : cut(text, name)) : { verdict: { status: 'partial' } }
    return { broken: { name, reason: 'the call body is not <parameter=…> elements' } }
  }
}

/**
 * A broken call at `at`: skipped to its closer and recorded in `section`; the position after it, or
 * the verdict while its end has not come (or, at the end, when it was cut off with nothing before it).
 */
function skipBroken(text: string, at: number, broken: { name: string; reason: string }, stop: readonly string[], context: MatchContext, section: SectionCalls): number | MatchResult {
  const end = brokenCallEnd(text, at + 1, BROKEN_CONSUME, stop, context.memo)
  if (end === PARTIAL && !context.final) return { status: 'partial', waitFor: [...BROKEN_CONSUME, ...stop] }
  // Cut off by the end: the block's when calls came before it, else text (unless it follows a call).
  if (end === PARTIAL && !section.found) return { status: 'reject', length: text.length, cut: { name: broken.name } }
  const stopAt = end === PARTIAL ? text.length : end
  section.broken({ name: broken.name, text: text.slice(at, stopAt), reason: broken.reason })
  return stopAt
}

/** Closers after which a broken `<function=…>` resumes (consumed), and tags it stops before. */
const BROKEN_CONSUME = ['</function>'] as const
const BROKEN_STOP = ['</tool_call>', '<function=', '<tool_call>'] as const

/**
 * The `<function=…>` calls of a block that opened at `0` and whose body starts at `start`, up to its `closer`
 * (optional at the end of the message; text after complete calls that is not another call also ends it). Broken
 * calls are skipped to their `</function>` (or to the next of `stop`) and reported; a call cut off by the end after
 * complete ones goes with the block, reported when named. Shared with Seed-OSS (`<seed:tool_call>`).
 */
export function matchFunctionBlock(text: string, start: number, closer: string, stop: readonly string[], context: MatchContext): MatchResult {
  const { final } = context
  const section = new SectionCalls()
  let pos = skipWhitespace(text, start)
  let lastEnd = start
  for (;;) {
    if (pos >= text.length) {
      if (!final) return { status: 'partial' }
      return section.found ? section.match(lastEnd) : { status: 'reject', length: text.length, cut: { name: undefined } }
    }
    const close = literalAt(text, pos, closer)
    if (close !== NO && close !== PARTIAL) return section.found ? section.match(close) : { status: 'reject' }
    if (close === PARTIAL) {
      if (!final) return { status: 'partial' }
      // The closer cut off by the end (`</tool_`): the block's.
      return section.found ? section.match(text.length) : { status: 'reject', length: text.length }
    }
    const step = qwen3FunctionAt(text, pos, context)
    if ('broken' in step) {
      const end = skipBroken(text, pos, step.broken, stop, context, section)
      if (typeof end !== 'number') return end
      lastEnd = end
      pos = skipWhitespace(text, end)
      continue
    }
    if ('verdict' in step) {
      if (step.verdict.status === 'reject' && section.found) {
        if (step.verdict.cut === undefined) return section.match(lastEnd)
        // Cut off by the end after complete calls in the block: the rest is the block's (reported when named).
        const { name } = step.verdict.cut
        if (name !== undefined) section.broken({ name, text: text.slice(pos), reason: CUT_OFF })
        return section.match(text.length)
      }
      return step.verdict
    }
    section.calls.push(step.call)
    lastEnd = step.end
    pos = skipWhitespace(text, step.end)
  }
}

/** Qwen3-Coder XML: `<tool_call><function=NAME><parameter=K>V</parameter></function></tool_call>`. */
export const qwen3CoderXml: ToolCallFormat = {
  id: 'qwen3_coder_xml',
  strength: 'strong',
  starts: ['<tool_call>', '<function='],
  match(text, context) {
    const outer = literalAt(text, 0, '<tool_call>')
    if (outer === PARTIAL) return { status: 'partial' }
    if (outer !== NO) return matchFunctionBlock(text, outer, '</tool_call>', BROKEN_STOP, context)
    const step = qwen3FunctionAt(text, 0, context)
    if ('verdict' in step) return step.verdict
    if ('call' in step) return { status: 'match', length: step.end, calls: [step.call] }
    const section = new SectionCalls()
    const end = skipBroken(text, 0, step.broken, [], context, section)
    return typeof end === 'number' ? section.match(end) : end
  },
}
