/**
 * Swiss AI Apertus tool calls: a JSON array of short-form objects `{"NAME": {args}}` between
 * `<|tools_prefix|>` and `<|tools_suffix|>` (the suffix may be missing at the end).
 * @module
 */
import type { JsonValue } from '../../openai/types.js'
import { isJsonObject, toArguments } from '../call-shape.js'
import { matchJsonTag, type JsonTagSyntax } from './json-tag.js'
import type { ParsedCall, ToolCallFormat } from './types.js'

/** Calls from `[{"NAME": {args}}, …]` (or one such object); anything else is not calls. */
function shortFormCalls(value: JsonValue): ParsedCall[] | undefined {
  const items = Array.isArray(value) ? value : [value]
  const calls: ParsedCall[] = []
  for (const item of items) {
    if (!isJsonObject(item)) return undefined
    const keys = Object.keys(item)
    if (keys.length !== 1) return undefined
    const name = keys[0]!
    const args = toArguments(item[name])
    if (args === undefined || name.trim() === '') return undefined
    calls.push({ name: name.trim(), arguments: args })
  }
  return calls
}

const SYNTAX: JsonTagSyntax = {
  openers: ['<|tools_prefix|>'],
  closers: ['<|tools_suffix|>'],
  several: true,
  toCalls: shortFormCalls,
  leadingName: /\s*\[?\s*\{\s*"([^"\\]*)"\s*:\s*\{/y,
}

/** Apertus `<|tools_prefix|>[{"NAME": {…}}]<|tools_suffix|>`. */
export const apertus: ToolCallFormat = {
  id: 'apertus',
  strength: 'strong',
  starts: SYNTAX.openers,
  match: (text, context) => matchJsonTag(text, context, SYNTAX),
}
