/**
 * `matchInvokeXml`: the matcher of the invoke-XML format family (anthropic `<function_calls>`,
 * DeepSeek DSML V3.2 / V4 / V4.1, MiniMax M2, Step-3, MiniCPM5): a block opener, one or more invoke
 * elements naming the tool, parameter elements whose raw values are typed from the tool's schema,
 * the closers. A parameter value ends at its STRUCTURAL closing tag only (one followed by another
 * structural tag or the end), so `</parameter>` inside a value (code, docs) does not end the call.
 * @module
 */
import type { JsonValue } from '../../openai/types.js'
import { isJsonObject, toArguments } from '../call-shape.js'
import { parseFlexibleJson } from '../flexible-json.js'
import { NO, PARTIAL, identifierEnd, jsonValueEnd, skipWhitespace, whichLiteralAt } from '../scan.js'
import { propertySchema, trimFramingNewlines, typeXmlValue } from '../schema-typing.js'
import { jsonWaitFor } from '../json-calls-at.js'
import { CUT_OFF, SectionCalls } from './call-section.js'
import { brokenCallEnd } from './qwen3-coder-xml.js'
import type { JsonObject, MatchContext, MatchResult, ParsedCall } from './types.js'

/** How raw parameter text becomes a JSON value. */
export type InvokeXmlValueMode =
  /** DSML: `string="true"` → the text, `string="false"` → JSON; else typed from the schema. */
  | 'dsml'
  /** Typed from the schema (`typeXmlValue`), one framing newline off each end; untyped → string. */
  | 'typed'
  /** Trimmed; schema strings kept, everything else JSON/Python-literal decoded when it parses (MiniCPM5). */
  | 'trimmed'

/** The tag vocabulary of one invoke-XML dialect. */
export interface InvokeXmlSyntax {
  /** Block openers (the format's `starts`). Empty: the block is one bare invoke element. */
  readonly wrappers: readonly string[]
  /** Block closers (optional at the end of the message). */
  readonly closers: readonly string[]
  /** Invoke-element openers up to the attributes: `<invoke`, `<｜DSML｜invoke`, `<function=`. */
  readonly invokeOpens: readonly string[]
  /** Invoke-element closers: `</invoke>`. Optional before a block closer, another invoke or the end. */
  readonly invokeCloses: readonly string[]
  /** Parameter-element openers up to the attributes: `<parameter`, `<parameter=`. */
  readonly paramOpens: readonly string[]
  /** Parameter-element closers: `</parameter>`. */
  readonly paramCloses: readonly string[]
  /** `attribute`: `<invoke name="N">`; `equals`: `<function=N>` (the opener ends with `=`). */
  readonly nameStyle: 'attribute' | 'equals'
  /** How values are typed. */
  readonly value: InvokeXmlValueMode
  /** Tokens skipped between and inside invokes (Step-3 per-call tokens, MiniCPM5 `<arguments>`). */
  readonly skip?: ((text: string, pos: number) => number) | undefined
  /** Other tags that may follow a structural parameter closer. */
  readonly extraStructural?: readonly string[] | undefined
  /** Cleans an invoke's name attribute before it is resolved (Glimmer: boundary tokens written into it). */
  readonly cleanName?: ((raw: string) => string) | undefined
}

const partial = (waitFor?: readonly string[]): MatchResult => (waitFor === undefined ? { status: 'partial' } : { status: 'partial', waitFor })
const reject = (length?: number): MatchResult => (length === undefined ? { status: 'reject' } : { status: 'reject', length })
const MAX_TAG = 600

/** A parsed opening tag. */
interface OpenTag {
  end: number
  attributes: Record<string, string>
  selfClosing: boolean
}

/**
 * The opening tag starting with one of `opens` at `pos`: attributes (`k="v"`, `k='v'`, `k=v`) up to
 * `>` or `/>`, or with `equals` style the name after the opener up to `>`. `PARTIAL` / `NO` as usual.
 */
export function openTagAt(text: string, pos: number, opens: readonly string[], style: 'attribute' | 'equals'): OpenTag | typeof PARTIAL | typeof NO {
  const which = whichLiteralAt(text, pos, opens)
  if (which === PARTIAL || which === NO) return which
  let i = pos + opens[which]!.length
  const attributes: Record<string, string> = {}
  if (style === 'equals') {
    const close = text.indexOf('>', i)
    const limit = close < 0 ? text.length : close
    const raw = text.slice(i, limit)
    if (raw.length > MAX_TAG || /[\n<]/.test(raw)) return NO
    if (close < 0) return PARTIAL
    let name = raw.trim()
    if (name.endsWith('/')) return NO
    if ((name.startsWith('"') && name.endsWith('"')) || (name.startsWith("'") && name.endsWith("'"))) name = name.slice(1, -1)
    if (name === '') return NO
    attributes.name = name
    return { end: close + 1, attributes, selfClosing: false }
  }
  if (i >= text.length) return PARTIAL
  if (!/[\s>/]/.test(text[i]!)) return NO
  for (;;) {
    i = skipWhitespace(text, i)
    if (i >= text.length) return PARTIAL
    if (i - pos > MAX_TAG) return NO
    const char = text[i]!
    if (char === '>') return { end: i + 1, attributes, selfClosing: false }
    if (char === '/') {
      if (i + 1 >= text.length) return PARTIAL
      return text[i + 1] === '>' ? { end: i + 2, attributes, selfClosing: true } : NO
    }
    const keyEnd = identifierEnd(text, i, '-:')
    if (keyEnd === PARTIAL || keyEnd === NO) return keyEnd
    const key = text.slice(i, keyEnd)
    i = skipWhitespace(text, keyEnd)
    if (i >= text.length) return PARTIAL
    if (text[i] !== '=') return NO
    i = skipWhitespace(text, i + 1)
    if (i >= text.length) return PARTIAL
    const quote = text[i]!
    if (quote === '"' || quote === "'") {
      const close = text.indexOf(quote, i + 1)
      if (close < 0) return text.length - i > MAX_TAG ? NO : PARTIAL
      attributes[key] = text.slice(i + 1, close)
      i = close + 1
    } else {
      let end = i
      while (end < text.length && !/[\s>/]/.test(text[end]!)) end++
      if (end >= text.length) return PARTIAL
      attributes[key] = text.slice(i, end)
      i = end
    }
  }
}

/**
 * Skips `tokens` (and whitespace around them) from `pos`: the new position, or `PARTIAL` when the
 * text ends inside a prefix of one.
 */
export function skipTokens(tokens: readonly string[]): (text: string, pos: number) => number {
  return (text, pos) => {
    let i = pos
    for (;;) {
      i = skipWhitespace(text, i)
      if (i >= text.length) return i
      const which = whichLiteralAt(text, i, tokens)
      if (which === PARTIAL) return PARTIAL
      if (which === NO) return i
      i += tokens[which]!.length
    }
  }
}

type ValueEnd = { valueEnd: number; next: number } | 'wait-close' | 'wait'

/**
 * The structural end of a raw value starting at `from`: the first of `closes` followed (after
 * whitespace) by one of `followers` or by the end of the message. A value missing its closer ends
 * where `implicit` (the next parameter opener) starts, when that comes before any closer.
 */
function structuralEnd(text: string, from: number, closes: readonly string[], followers: readonly string[], implicit: readonly string[], final: boolean): ValueEnd {
  let cursor = from
  let first = true
  for (;;) {
    let best = -1
    let bestLength = 0
    for (const close of closes) {
      const index = text.indexOf(close, cursor)
      if (index >= 0 && (best < 0 || index < best)) {
        best = index
        bestLength = close.length
      }
    }
    if (first) {
      first = false
      for (const open of implicit) {
        const index = text.indexOf(open, from)
        if (index >= 0 && (best < 0 || index < best)) return { valueEnd: index, next: index }
      }
    }
    if (best < 0) return 'wait-close'
    const after = best + bestLength
    const next = skipWhitespace(text, after)
    if (next >= text.length) return final ? { valueEnd: best, next: after } : 'wait'
    const follower = whichLiteralAt(text, next, followers)
    if (follower === PARTIAL) return final ? { valueEnd: best, next: after } : 'wait'
    if (follower !== NO) return { valueEnd: best, next: after }
    cursor = best + 1
  }
}

const CDATA = /^\s*<!\[CDATA\[([\s\S]*)\]\]>\s*$/

function convertValue(raw: string, attributes: Record<string, string>, name: string, key: string, syntax: InvokeXmlSyntax, context: MatchContext): JsonValue {
  const schema = propertySchema(context.tools, name, key)
  const cdata = CDATA.exec(raw)
  const text = cdata === null ? raw : cdata[1]!
  if (syntax.value === 'trimmed') return typeXmlValue(text.trim(), schema, { untyped: 'json' })
  if (syntax.value === 'dsml') {
    const flag = attributes.string?.toLowerCase()
    if (flag === 'true') return trimFramingNewlines(text)
    if (flag === 'false') {
      const parsed = parseFlexibleJson(text.trim())
      if (parsed.ok) return parsed.value
      return typeXmlValue(trimFramingNewlines(text), schema, { untyped: 'json' })
    }
  }
  return typeXmlValue(trimFramingNewlines(text), schema)
}

/** A lone `arguments` / `input` parameter holding the real arguments object is unwrapped (vLLM does). */
function unwrapArguments(args: JsonObject, name: string, context: MatchContext): JsonObject {
  const keys = Object.keys(args)
  if (keys.length !== 1 || (keys[0] !== 'arguments' && keys[0] !== 'input')) return args
  if (propertySchema(context.tools, name, keys[0]) !== undefined) return args
  const inner = args[keys[0]]
  if (isJsonObject(inner)) return inner
  if (typeof inner === 'string') return toArguments(inner) ?? args
  return args
}

/**
 * An invoke read at a position: the call; a broken invoke naming a declared tool (skipped to its
 * closer and reported); or the verdict, with `cut` when the end of the message cut the invoke off.
 */
type InvokeStep =
  | { end: number; call: ParsedCall }
  | { broken: { name: string; reason: string } }
  | { verdict: MatchResult; notInvoke?: boolean | undefined; cut?: { name: string | undefined } | undefined }

function invokeAt(text: string, pos: number, context: MatchContext, syntax: InvokeXmlSyntax): InvokeStep {
  const { final } = context
  let name: string | undefined
  const truncated = (): InvokeStep => (final ? { verdict: reject(text.length), cut: { name } } : { verdict: partial() })
  const tag = openTagAt(text, pos, syntax.invokeOpens, syntax.nameStyle)
  if (tag === PARTIAL) return truncated()
  if (tag === NO) return { verdict: reject(), notInvoke: true }
  const rawName = tag.attributes.name === undefined || syntax.cleanName === undefined ? tag.attributes.name : syntax.cleanName(tag.attributes.name)
  if (rawName === undefined || rawName.trim() === '') return { verdict: reject() }
  const declared = rawName.trim()
  if (context.tools.resolve(declared) === undefined) return { verdict: reject() }
  name = declared
  if (tag.selfClosing) return { end: tag.end, call: { name, arguments: {} } }
  const skip = syntax.skip ?? skipWhitespace
  const followers = [...syntax.paramOpens, ...syntax.invokeCloses, ...syntax.closers, ...syntax.invokeOpens, ...(syntax.extraStructural ?? [])]
  const ends = [...syntax.invokeCloses, ...syntax.closers, ...syntax.invokeOpens, ...(syntax.extraStructural ?? [])]
  let args: JsonObject = {}
  let sawParam = false
  let i = tag.end
  for (;;) {
    const at = skip(text, skipWhitespace(text, i))
    if (at === PARTIAL) return truncated()
    // A complete invoke whose closing tag never came (end of message).
    if (at >= text.length) return final && sawParam ? { end: at, call: { name, arguments: unwrapArguments(args, name, context) } } : truncated()
    if (!sawParam && text[at] === '{') {
      const end = jsonValueEnd(text, at, context.memo)
      if (end === NO) return { broken: { name, reason: 'the arguments object is not balanced JSON' } }
      if (end === PARTIAL) return final ? truncated() : { verdict: partial(jsonWaitFor(text, at)) }
      const parsed = parseFlexibleJson(text.slice(at, end))
      const value = parsed.ok ? toArguments(parsed.value) : undefined
      if (value === undefined) return { broken: { name, reason: parsed.ok ? 'the arguments are not a JSON object' : 'the arguments are not valid JSON' } }
      args = value
      sawParam = true
      i = end
      continue
    }
    const closeWhich = whichLiteralAt(text, at, syntax.invokeCloses)
    if (closeWhich === PARTIAL) return truncated()
    if (closeWhich !== NO) return { end: at + syntax.invokeCloses[closeWhich]!.length, call: { name, arguments: unwrapArguments(args, name, context) } }
    const param = openTagAt(text, at, syntax.paramOpens, syntax.nameStyle)
    if (param === PARTIAL) return truncated()
    if (param === NO) {
      // Missing `</invoke>` before the block closer or the next invoke: the invoke ends here.
      const other = whichLiteralAt(text, at, ends)
      if (other === PARTIAL) return truncated()
      if (other !== NO) return { end: at, call: { name, arguments: unwrapArguments(args, name, context) } }
      return { broken: { name, reason: 'the invoke holds text that is not a parameter element' } }
    }
    const key = param.attributes.name?.trim()
    if (key === undefined || key === '') return { broken: { name, reason: 'a parameter element has no name' } }
    sawParam = true
    if (param.selfClosing) {
      args[key] = ''
      i = param.end
      continue
    }
    const implicit = syntax.nameStyle === 'equals' ? syntax.paramOpens : syntax.paramOpens.map((open) => `${open} name=`)
    const found = structuralEnd(text, param.end, syntax.paramCloses, followers, implicit, final)
    if (found === 'wait-close') return final ? truncated() : { verdict: partial([...syntax.paramCloses, ...implicit]) }
    if (found === 'wait') return { verdict: partial() }
    args[key] = convertValue(text.slice(param.end, found.valueEnd), param.attributes, name, key, syntax, context)
    i = found.next
  }
}

/**
 * Matches one invoke-XML block at the start of `text` (see `InvokeXmlSyntax`). Every invoke must
 * name a declared tool, else the whole block is rejected (it stays content, verbatim). A block whose
 * closer is missing is a call when its invokes are complete (at the end of the message, or when
 * other text follows).
 */
export function matchInvokeXml(text: string, context: MatchContext, syntax: InvokeXmlSyntax): MatchResult {
  const { final } = context
  const bare = syntax.wrappers.length === 0
  let pos = 0
  if (!bare) {
    const which = whichLiteralAt(text, 0, syntax.wrappers)
    if (which === PARTIAL) return partial()
    if (which === NO) return reject()
    pos = syntax.wrappers[which]!.length
  }
  const section = new SectionCalls()
  const { calls } = section
  let lastEnd = 0
  const finish = (): MatchResult => (section.found ? section.match(lastEnd) : reject(final ? text.length : undefined))
  const skip = syntax.skip ?? skipWhitespace
  for (;;) {
    if (bare && section.found) return section.match(lastEnd)
    const at = skip(text, skipWhitespace(text, pos))
    if (at === PARTIAL) return final ? (section.found ? finish() : reject(text.length)) : partial()
    if (at >= text.length) return final ? finish() : partial()
    if (!bare) {
      const closer = whichLiteralAt(text, at, syntax.closers)
      if (closer === PARTIAL) return final ? finish() : partial()
      if (closer !== NO) {
        const end = at + syntax.closers[closer]!.length
        return section.found ? section.match(end) : reject(end)
      }
    }
    const step = invokeAt(text, at, context, syntax)
    if ('broken' in step) {
      // Skipped to its `</invoke>` (or to the block closer / next invoke) and reported.
      const stop = bare ? [] : [...syntax.closers, ...syntax.invokeOpens]
      const end = brokenCallEnd(text, at + 1, syntax.invokeCloses, stop, context.memo)
      if (end === PARTIAL && !final) return partial([...syntax.invokeCloses, ...stop])
      if (end === PARTIAL && !section.found) return { status: 'reject', length: text.length, cut: { name: step.broken.name } }
      const stopAt = end === PARTIAL ? text.length : end
      ;section.broken({ name: step.broken.name, text: text.slice(at, stopAt), reason: step.broken.reason })
      lastEnd = stopAt
      pos = stopAt
      continue
    }
    if ('verdict' in step) {
      // Text after complete invokes that is not another invoke: the block ended without its closer.
      if (step.notInvoke === true && section.found) return finish()
      if (step.cut !== undefined) {
        // Cut off by the end: after complete invokes the rest is the block's (reported when named).
        if (!section.found) return { ...step.verdict, status: 'reject', cut: step.cut }
        if (step.cut.name !== undefined) section.broken({ name: step.cut.name, text: text.slice(at), reason: CUT_OFF })
        return section.match(text.length)
      }
      return step.verdict
    }
    calls.push(step.call)
    lastEnd = step.end
    pos = step.end
  }
}

