/**
 * `jsonCallsAt()`: the JSON call value (object, list, `{"tool_calls": […]}`) at a position, for
 * formats whose body is JSON. Chunk-safe and resumable through the candidate's memo.
 * @module
 */
import { callsFromJsonText, type CallShapeOptions } from './call-shape.js'
import type { MatchContext, ParsedCall } from './formats/types.js'
import { NO, PARTIAL, jsonScanQuote, jsonValueEnd } from './scan.js'

/** `{ calls, end }`; `{ invalid: end }` for a complete value that is not calls; or `PARTIAL` / `NO`. */
export type JsonCallsStep = { calls: ParsedCall[]; end: number } | { invalid: number } | number

/**
 * Reads the balanced JSON value at `pos` (`{` or `[`) and turns it into calls (`callsFromJson`).
 * `PARTIAL` while the value is incomplete, `NO` when no value starts here.
 */
export function jsonCallsAt(text: string, pos: number, context: MatchContext, options: CallShapeOptions = {}): JsonCallsStep {
  const end = jsonValueEnd(text, pos, context.memo)
  if (end === PARTIAL || end === NO) return end
  const calls = callsFromJsonText(text.slice(pos, end), options)
  return calls === undefined ? { invalid: end } : { calls, end }
}

const CLOSERS = ['}', ']'] as const
const DOUBLE_QUOTE = ['"'] as const
const SINGLE_QUOTE = ["'"] as const

/**
 * The `waitFor` hint while the JSON value at `pos` is incomplete: inside a string only its closing
 * quote can change anything; outside, only a closing bracket (the end, or a mismatch). Pass the
 * candidate's memo (after `jsonValueEnd`/`jsonCallsAt` ran on the same text) to get the in-string
 * hint; without it the answer is the two closers (always safe).
 */
export function jsonWaitFor(_text: string, pos: number, memo?: Map<string, unknown>): readonly string[] {
  const quote = jsonScanQuote(pos, memo)
  return quote === 34 ? DOUBLE_QUOTE : quote === 39 ? SINGLE_QUOTE : CLOSERS
}
