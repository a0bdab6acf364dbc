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
import type { MatchContext, MatchResult, ParsedCall } from './types.js'

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
  const calls: ParsedCall[] = []
  let lastEnd = 0
  const finish = (): MatchResult => (calls.length > 0 ? { status: 'match', length: lastEnd, calls } : reject(final ? text.length : undefined))
  for (;;) {
    const i = skipWhitespace(text, pos)
    if (i >= text.length) return final ? finish() : partial()
    const closer = whichLiteralAt(text, i, syntax.closers)
    if (closer === PARTIAL) return final ? finish() : partial()
    if (closer !== NO) {
      const end = i + syntax.closers[closer]!.length
      return calls.length > 0 ? { status: 'match', length: end, calls } : reject(end)
    }
    const char = text[i]
    if ((calls.length > 0 && !syntax.several) || (char !== '{' && char !== '[')) return finish()
    // Checked before completeness, so the verdict is the same however the text was split.
    const pattern = syntax.leadingName ?? LEADING_NAME
    pattern.lastIndex = i
    const written = pattern.exec(text)?.[1]
    if (written !== undefined && context.tools.resolve(written.trim()) === undefined) return reject()
    const end = jsonValueEnd(text, i, context.memo)
    if (end === NO) return calls.length > 0 ? finish() : reject()
    // Until the leading name is known its arrival may change the verdict: no `waitFor` then.
    if (end === PARTIAL) return final ? reject(text.length) : partial(written === undefined ? undefined : jsonWaitFor(text, i))
    const parsed = parseFlexibleJson(text.slice(i, end))
    const found = parsed.ok ? toCalls(parsed.value) : undefined
    if (found === undefined || found.length === 0) return calls.length > 0 ? finish() : reject(end)
    // An undeclared name anywhere: the whole block is content.
    if (found.some((call) => context.tools.resolve(call.name) === undefined)) return reject()
    calls.push(...found)
    lastEnd = end
    pos = skipWhitespace(text, end)
    if (text[pos] === ',' || text[pos] === ';') pos++
  }
}
