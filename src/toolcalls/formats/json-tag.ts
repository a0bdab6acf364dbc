/**
 * `matchJsonTag`: the matcher of the JSON-in-a-tag format family (Granite `<|tool_call|>[…]`,
 * Phi-4 `functools[…]` and `<|tool_call|>…<|/tool_call|>`, InternLM `<|action_start|><|plugin|>{…}<|action_end|>`,
 * `<tool_calls>[…]</tool_calls>`, MiniMax-M1, Nemotron `<TOOLCALL>`, Command R, Apertus, GigaChat 3,
 * LM Studio `[TOOL_REQUEST]`): an opener, one or more JSON values (string-aware, so a closing
 * marker inside a string does not end the call), an optional closer. The families differ only in
 * key names, decoded by the syntax's `toCalls`.
 * @module
 */
import type { JsonValue } from '../../openai/types.js'
import { callsFromJson } from '../call-shape.js'
import { parseFlexibleJson } from '../flexible-json.js'
import { NO, PARTIAL, jsonValueEnd, skipWhitespace, whichLiteralAt } from '../scan.js'
import { jsonWaitFor } from '../json-calls-at.js'
import { CUT_OFF, SectionCalls } from './call-section.js'
import type { MalformedCall, MatchContext, MatchResult, ParsedCall } from './types.js'

/** One JSON-in-a-tag dialect. */
export interface JsonTagSyntax {
  /** Openers (the format's `starts`). */
  readonly openers: readonly string[]
  /** What must follow an opener before the JSON: the position after it, `PARTIAL` or `NO`. */
  readonly after?: ((text: string, pos: number, opener: number) => number) | undefined
  /** Closers, optional at the end of the message or when other text follows a complete body. */
  readonly closers: readonly string[]
  /** The JSON starts inside the opener (`functools[`): how many of its last characters belong to it. @default 0 */
  readonly overlap?: number | undefined
  /** Several JSON values may follow each other in one block (separated by whitespace, `,` or `;`). */
  readonly several: boolean
  /** The calls a decoded value holds, or `undefined` when it is not calls. @default callsFromJson */
  readonly toCalls?: ((value: JsonValue) => ParsedCall[] | undefined) | undefined
  /**
   * Sticky pattern for the tool name written first in a value (group 1), so an undeclared name is
   * rejected before the whole value arrives. @default a leading `"name"` / `"tool_name"` key
   */
  readonly leadingName?: RegExp | undefined
}

const LEADING_NAME = /\s*\[?\s*\{\s*"(?:name|tool_name)"\s*:\s*"([^"\\]*)"/y

const partial = (waitFor?: readonly string[]): MatchResult => (waitFor === undefined ? { status: 'partial' } : { status: 'partial', waitFor })
const reject = (length?: number): MatchResult => (length === undefined ? { status: 'reject' } : { status: 'reject', length })

/** The `"name"` (or `"tool_name"`) written in a possibly broken JSON call. */
const WRITTEN_NAME = /"(?:name|tool_name)"\s*:\s*"([^"\\]{1,256})"/

/**
 * The top-level elements of the JSON list starting at `pos` (string-aware), up to its `]` or the end
 * of the text: `[start, end)` pairs, and whether the list was closed.
 */
function listElements(text: string, pos: number, end: number): { elements: [number, number][]; closed: boolean } {
  const elements: [number, number][] = []
  let depth = 0
  let quote = 0
  let escape = false
  let start = pos + 1
  for (let i = pos + 1; i < end; i++) {
    const code = text.charCodeAt(i)
    if (quote !== 0) {
      if (escape) escape = false
      else if (code === 92) escape = true
      else if (code === quote) quote = 0
      continue
    }
    if (code === 34 || code === 39) quote = code
    else if (code === 123 || code === 91) depth++
    else if (code === 125 || code === 93) {
      if (depth === 0) {
        if (text.slice(start, i).trim() !== '') elements.push([start, i])
        return { elements, closed: true }
      }
      depth--
    } else if (code === 44 && depth === 0) {
      elements.push([start, i])
      start = i + 1
    }
  }
  if (text.slice(start, end).trim() !== '') elements.push([start, end])
  return { elements, closed: false }
}

/**
 * A JSON value at `[pos, end)` that did not parse (or, with `cut`, was cut off by the end): read
 * element by element when it is a list. Elements that are calls count, elements naming a declared
 * tool that do not parse are malformed, the cut last element is malformed when named. `undefined`
 * when any element is neither (not a call list: data).
 */
/** A call or a malformed call, in text order. */
type Item = ParsedCall | Omit<MalformedCall, 'at'>

function brokenCalls(text: string, pos: number, end: number, cut: boolean, context: MatchContext, toCalls: (value: JsonValue) => ParsedCall[] | undefined): Item[] | undefined {
  const items: Item[] = []
  const pieces = text[pos] === '[' ? listElements(text, pos, end).elements : [[pos, end] as [number, number]]
  for (const [index, [from, to]] of pieces.entries()) {
    const piece = text.slice(from, to).trim()
    const last = index === pieces.length - 1
    const parsed = parseFlexibleJson(piece)
    const found = parsed.ok ? toCalls(parsed.value) : undefined
    if (found !== undefined && found.length > 0 && !(cut && last)) {
      items.push(...found)
      continue
    }
    if (parsed.ok && !(cut && last)) return undefined
    const name = WRITTEN_NAME.exec(piece)?.[1]?.trim()
    if (name === undefined || context.tools.resolve(name) === undefined) {
      if (cut && last) continue
      return undefined
    }
    items.push({ name, text: piece, reason: cut && last ? CUT_OFF : 'the call is not valid JSON' })
  }
  return items.length > 0 ? items : undefined
}

/** Adds what `brokenCalls` read; false when an undeclared name makes the block text. */
function take(section: SectionCalls, read: Item[], context: MatchContext): boolean {
  for (const item of read) if (!('reason' in item) && context.tools.resolve(item.name) === undefined) return false
  for (const item of read) {
    if ('reason' in item) section.broken(item)
    else section.calls.push(item)
  }
  return true
}

/** Matches one JSON-in-a-tag block at the start of `text`. Any undeclared name rejects the whole block. */
export function matchJsonTag(text: string, context: MatchContext, syntax: JsonTagSyntax): MatchResult {
  const { final } = context
  const opener = whichLiteralAt(text, 0, syntax.openers)
  if (opener === PARTIAL) return partial()
  if (opener === NO) return reject()
  let pos = syntax.openers[opener]!.length - (syntax.overlap ?? 0)
  if (syntax.after !== undefined) {
    const after = syntax.after(text, pos, opener)
    if (after === PARTIAL) return final ? reject(text.length) : partial()
    if (after === NO) return reject()
    pos = after
  }
  const toCalls = syntax.toCalls ?? ((value: JsonValue) => callsFromJson(value))
  const section = new SectionCalls()
  const { calls } = section
  let lastEnd = 0
  const finish = (): MatchResult => (section.found ? section.match(lastEnd) : reject(final ? text.length : undefined))
  for (;;) {
    const i = skipWhitespace(text, pos)
    if (i >= text.length) return final ? finish() : partial()
    const closer = whichLiteralAt(text, i, syntax.closers)
    if (closer === PARTIAL) return final ? finish() : partial()
    if (closer !== NO) {
      const end = i + syntax.closers[closer]!.length
      return section.found ? section.match(end) : reject(end)
    }
    const char = text[i]
    if ((section.found && !syntax.several) || (char !== '{' && char !== '[')) return finish()
    // Checked before completeness, so the verdict is the same however the text was split.
    const pattern = syntax.leadingName ?? LEADING_NAME
    pattern.lastIndex = i
    const written = pattern.exec(text)?.[1]
    if (written !== undefined && context.tools.resolve(written.trim()) === undefined) return reject()
    const end = jsonValueEnd(text, i, context.memo)
    if (end === NO) return section.found ? finish() : reject()
    // Until the leading name is known its arrival may change the verdict: no `waitFor` then.
    if (end === PARTIAL) {
      if (!final) return partial(written === undefined ? undefined : jsonWaitFor(text, i))
      // Cut off by the end: complete list elements before the cut count; the cut one is reported.
      const read = brokenCalls(text, i, text.length, true, context, toCalls)
      if (read === undefined || read.every((item) => 'reason' in item)) {
        const name = read?.[0]?.name
        if (!section.found) return { status: 'reject', length: text.length, cut: { name } }
        if (name !== undefined) section.broken({ name, text: text.slice(i), reason: CUT_OFF })
        return section.match(text.length)
      }
      if (!take(section, read, context)) return reject()
      return section.match(text.length)
    }
    const parsed = parseFlexibleJson(text.slice(i, end))
    const read = parsed.ok ? toCalls(parsed.value) : undefined
    if (read === undefined || read.length === 0) {
      // JSON that cannot be repaired, naming declared tools: broken calls (good list elements still count).
      const broken = parsed.ok ? undefined : brokenCalls(text, i, end, false, context, toCalls)
      if (broken === undefined) return section.found ? finish() : reject(end)
      if (!take(section, broken, context)) return reject()
      lastEnd = end
      pos = skipWhitespace(text, end)
      if (text[pos] === ',' || text[pos] === ';') pos++
      continue
    }
    // An undeclared name anywhere: the whole block is content.
    if (read.some((call) => context.tools.resolve(call.name) === undefined)) return reject()
    calls.push(...read)
    lastEnd = end
    pos = skipWhitespace(text, end)
    if (text[pos] === ',' || text[pos] === ';') pos++
  }
}
