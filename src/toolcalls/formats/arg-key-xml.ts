/**
 * `matchArgKeyBlock`: the matcher of the arg_key format family (GLM-4.5/4.7, Hy3, Hy4, LongCat XML):
 * a call element holding NAME then `<arg_key>k</arg_key><arg_value>v</arg_value>` pairs, optionally
 * inside a wrapper, tags optionally suffixed (`<arg_key:opensource>`). A value ends at its
 * STRUCTURAL `</arg_value>` only (one followed by another key, a call tag or the end).
 * @module
 */
import { toArguments } from '../call-shape.js'
import { parseFlexibleJson } from '../flexible-json.js'
import { NO, PARTIAL, identifierEnd, jsonValueEnd, literalAt, skipSpaces, skipWhitespace } from '../scan.js'
import { propertySchema, trimFramingNewlines, typeXmlValue } from '../schema-typing.js'
import { jsonWaitFor } from '../json-calls-at.js'
import { matchCallSection, type CallStep } from './call-section.js'
import { brokenCallEnd } from './qwen3-coder-xml.js'
import type { JsonObject, MatchContext, MatchResult } from './types.js'

/** The tag names of one arg_key dialect (without `<`, `/`, `>`). */
export interface ArgKeySyntax {
  /** Outer wrapper holding several calls (Hy3/Hy4 `tool_calls`); none for GLM. */
  readonly wrapper?: string | undefined
  /** The call element: `tool_call`. */
  readonly call: string
  /** The key element: `arg_key`. */
  readonly key: string
  /** The value element: `arg_value`. */
  readonly value: string
  /** A separator element required after the name (Hy3 `tool_sep`). */
  readonly separator?: string | undefined
  /** Tags may carry a `:SUFFIX` before `>` (`<arg_key:opensource>`, Hy3/Hy4 checkpoints). */
  readonly suffix: boolean
  /** A `{…}` JSON call body is accepted instead of NAME + pairs (LongCat). */
  readonly jsonBody?: boolean | undefined
  /** Values with no schema type: decoded as JSON when they parse (`json`) or kept (`string`). */
  readonly untyped: 'json' | 'string'
}

const partial = (waitFor?: readonly string[]): MatchResult => (waitFor === undefined ? { status: 'partial' } : { status: 'partial', waitFor })
const reject = (length?: number): MatchResult => (length === undefined ? { status: 'reject' } : { status: 'reject', length })

/** End of the tag `<name>` / `</name>` (with an optional `:SUFFIX` when allowed) at `pos`, `PARTIAL` or `NO`. */
export function tagAt(text: string, pos: number, name: string, closing: boolean, suffix: boolean): number {
  const head = closing ? `</${name}` : `<${name}`
  const end = literalAt(text, pos, head)
  if (end === PARTIAL || end === NO) return end
  if (end >= text.length) return PARTIAL
  if (text[end] === '>') return end + 1
  if (!suffix || text[end] !== ':') return NO
  let i = end + 1
  while (i < text.length && /[A-Za-z0-9_.-]/.test(text[i]!)) i++
  if (i >= text.length) return i - end > 64 ? NO : PARTIAL
  return text[i] === '>' && i > end + 1 ? i + 1 : NO
}

/** Index of the next tag `</name…>` at or after `from`: `{start, end}`, or `PARTIAL` when none yet. */
function nextTag(text: string, from: number, name: string, closing: boolean, suffix: boolean): { start: number; end: number } | typeof PARTIAL {
  const head = closing ? `</${name}` : `<${name}`
  let cursor = from
  for (;;) {
    const start = text.indexOf(head, cursor)
    if (start < 0) return PARTIAL
    const end = tagAt(text, start, name, closing, suffix)
    if (end === PARTIAL) return PARTIAL
    if (end !== NO) return { start, end }
    cursor = start + 1
  }
}

type Step = CallStep

/** True when one of `tags` (as `[name, closing]`) starts at `pos`; `PARTIAL` when it still may. */
function anyTagAt(text: string, pos: number, tags: readonly (readonly [string, boolean])[], suffix: boolean): number {
  let partialSeen = false
  for (const [name, closing] of tags) {
    const end = tagAt(text, pos, name, closing, suffix)
    if (end === PARTIAL) partialSeen = true
    else if (end !== NO) return end
  }
  return partialSeen ? PARTIAL : NO
}

/** A call at `pos` naming a declared tool whose body cannot be read: skipped to its close tag and reported. */
function brokenCall(text: string, pos: number, name: string | undefined, syntax: ArgKeySyntax, context: MatchContext, reason: string): Step {
  const stop = [`<${syntax.call}>`, ...(syntax.wrapper === undefined ? [] : [`</${syntax.wrapper}>`])]
  const end = brokenCallEnd(text, pos + 1, [`</${syntax.call}>`], stop, context.memo)
  if (end === PARTIAL) return context.final ? { verdict: reject(text.length), cut: { name } } : { verdict: partial([`</${syntax.call}>`, ...stop]) }
  return { end, broken: { name, reason } }
}

/** One call element at `pos` (its open tag included). */
function callAt(text: string, pos: number, context: MatchContext, syntax: ArgKeySyntax): Step {
  const { final } = context
  const { suffix } = syntax
  let name: string | undefined
  const truncated = (): Step => (final ? { verdict: reject(text.length), cut: { name } } : { verdict: partial() })
  const open = tagAt(text, pos, syntax.call, false, suffix)
  if (open === PARTIAL) return truncated()
  if (open === NO) return { verdict: reject() }
  let i = skipWhitespace(text, open)
  if (i >= text.length) return truncated()
  if (syntax.jsonBody === true && text[i] === '{') {
    const end = jsonValueEnd(text, i, context.memo)
    if (end === NO) return { verdict: reject() }
    if (end === PARTIAL) return { verdict: final ? reject(text.length) : partial(jsonWaitFor(text, i)) }
    const parsed = parseFlexibleJson(text.slice(i, end))
    const value = parsed.ok ? parsed.value : undefined
    const name = typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value.name === 'string' ? value.name : undefined
    const args = value !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value) ? toArguments(value.arguments ?? value.parameters) : undefined
    if (name === undefined || args === undefined) return { verdict: reject(end) }
    if (context.tools.resolve(name) === undefined) return { verdict: reject(), undeclared: true }
    const j = skipWhitespace(text, end)
    const close = tagAt(text, j, syntax.call, true, suffix)
    if (close === PARTIAL || (j >= text.length && !final)) return final ? { end, call: { name, arguments: args } } : { verdict: partial() }
    return { end: close === NO ? end : close, call: { name, arguments: args } }
  }
  const nameEnd = identifierEnd(text, i, '-.:/')
  if (nameEnd === PARTIAL) return truncated()
  if (nameEnd === NO) return { verdict: reject() }
  const written = text.slice(i, nameEnd)
  if (context.tools.resolve(written) === undefined) return { verdict: reject(), undeclared: true }
  name = written
  i = nameEnd
  if (syntax.separator !== undefined) {
    const sep = tagAt(text, skipSpaces(text, i), syntax.separator, false, suffix)
    if (sep === PARTIAL) return truncated()
    if (sep === NO) return { verdict: reject() }
    i = sep
  } else {
    // The name ends at a newline, `<arg_key>`, the close tag or a JSON body; anything else on its line is not this format.
    const after = skipSpaces(text, i)
    if (after < text.length && text[after] !== '\n' && text[after] !== '\r' && text[after] !== '<' && text[after] !== '{') return { verdict: reject() }
  }
  const args: JsonObject = {}
  const followers: (readonly [string, boolean])[] = [[syntax.key, false], [syntax.call, true], [syntax.call, false]]
  if (syntax.wrapper !== undefined) followers.push([syntax.wrapper, true])
  for (;;) {
    i = skipWhitespace(text, i)
    // At the end of the message, a body with complete pairs is a call even without its close tag
    // (or with it cut off part-way: the engine removes `</tool_` after a call).
    if (i >= text.length) return final && Object.keys(args).length > 0 ? { end: i, call: { name, arguments: args } } : truncated()
    const close = tagAt(text, i, syntax.call, true, suffix)
    if (close === PARTIAL) return final && Object.keys(args).length > 0 ? { end: i, call: { name, arguments: args } } : truncated()
    if (close !== NO) return { end: close, call: { name, arguments: args } }
    // `NAME{json}` / `NAME\n{json}` inside the call element (Ollama accepts it for GLM-style models).
    if (text[i] === '{' && Object.keys(args).length === 0) {
      const end = jsonValueEnd(text, i, context.memo)
      if (end === NO) return brokenCall(text, pos, name, syntax, context, 'the arguments object is not balanced JSON')
      if (end === PARTIAL) return final ? truncated() : { verdict: partial(jsonWaitFor(text, i)) }
      const parsed = parseFlexibleJson(text.slice(i, end))
      const value = parsed.ok ? toArguments(parsed.value) : undefined
      if (value === undefined) return brokenCall(text, pos, name, syntax, context, parsed.ok ? 'the arguments are not a JSON object' : 'the arguments are not valid JSON')
      const j = skipWhitespace(text, end)
      if (j >= text.length) return final ? { end, call: { name, arguments: value } } : { verdict: partial() }
      const after = tagAt(text, j, syntax.call, true, suffix)
      if (after === PARTIAL) return final ? { end, call: { name, arguments: value } } : { verdict: partial() }
      if (after === NO) return { verdict: reject() }
      return { end: after, call: { name, arguments: value } }
    }
    const keyOpen = tagAt(text, i, syntax.key, false, suffix)
    if (keyOpen === PARTIAL) return truncated()
    if (keyOpen === NO) {
      // Missing close tag before the next call or the wrapper's closer.
      const other = anyTagAt(text, i, followers.slice(2), suffix)
      if (other === PARTIAL) return truncated()
      if (other !== NO) return { end: i, call: { name, arguments: args } }
      return brokenCall(text, pos, name, syntax, context, `the call holds text that is not <${syntax.key}>/<${syntax.value}> pairs`)
    }
    const keyClose = nextTag(text, keyOpen, syntax.key, true, suffix)
    if (keyClose === PARTIAL) return text.length - keyOpen > 256 ? brokenCall(text, pos, name, syntax, context, 'an argument key is not closed') : truncated()
    const key = text.slice(keyOpen, keyClose.start).trim()
    if (key === '' || key.length > 256) return brokenCall(text, pos, name, syntax, context, 'an argument key is empty or too long')
    let valueStart = skipWhitespace(text, keyClose.end)
    const valueOpen = tagAt(text, valueStart, syntax.value, false, suffix)
    if (valueOpen === PARTIAL || valueStart >= text.length) return truncated()
    // A dropped `<arg_value>`: the value starts right after the key.
    valueStart = valueOpen === NO ? keyClose.end : valueOpen
    const found = structuralValueEnd(text, valueStart, syntax, followers, final)
    if (found === 'wait-close') {
      if (!final) return { verdict: partial([`</${syntax.value}`]) }
      // At the end: a value never closed inside a closed call is a broken call; else it was cut off.
      return text.indexOf(`</${syntax.call}>`, valueStart) >= 0 ? brokenCall(text, pos, name, syntax, context, 'an argument value is not closed') : truncated()
    }
    if (found === 'wait') return { verdict: partial() }
    const raw = trimFramingNewlines(text.slice(valueStart, found.valueEnd))
    args[key] = typeXmlValue(raw, propertySchema(context.tools, name, key), { untyped: syntax.untyped })
    i = found.next
  }
}

/** The first `</arg_value>` followed by a key, a call tag, the wrapper's closer or the end. */
function structuralValueEnd(text: string, from: number, syntax: ArgKeySyntax, followers: readonly (readonly [string, boolean])[], final: boolean): { valueEnd: number; next: number } | 'wait-close' | 'wait' {
  let cursor = from
  for (;;) {
    const close = nextTag(text, cursor, syntax.value, true, syntax.suffix)
    if (close === PARTIAL) return 'wait-close'
    const next = skipWhitespace(text, close.end)
    if (next >= text.length) return final ? { valueEnd: close.start, next: close.end } : 'wait'
    const follower = anyTagAt(text, next, followers, syntax.suffix)
    if (follower === PARTIAL) return final ? { valueEnd: close.start, next: close.end } : 'wait'
    if (follower !== NO) return { valueEnd: close.start, next: close.end }
    cursor = close.start + 1
  }
}

/**
 * Matches an arg_key block at the start of `text`: one call element, or with `syntax.wrapper` a
 * wrapper holding several. Undeclared names reject the whole block; closers are optional at the end.
 */
export function matchArgKeyBlock(text: string, context: MatchContext, syntax: ArgKeySyntax): MatchResult {
  if (syntax.wrapper === undefined) {
    const step = callAt(text, 0, context, syntax)
    if ('verdict' in step) return step.cut !== undefined && step.verdict.status === 'reject' ? { ...step.verdict, cut: step.cut } : step.verdict
    if ('broken' in step) return { status: 'match', length: step.end, calls: [], malformed: [{ ...step.broken, text: text.slice(0, step.end), at: 0 }] }
    return { status: 'match', length: step.end, calls: [step.call] }
  }
  const open = tagAt(text, 0, syntax.wrapper, false, syntax.suffix)
  if (open === PARTIAL) return partial()
  if (open === NO) return reject()
  const wrapper = syntax.wrapper
  return matchCallSection(text, open, context, {
    closerAt: (source, at) => tagAt(source, at, wrapper, true, syntax.suffix),
    callAt: (source, at) => callAt(source, at, context, syntax),
  })
}

