/**
 * IBM Granite 3.0 tool calls: the `<|tool_call|>` token then a JSON array of
 * `{"name", "arguments"}` objects, no closer (Granite 3.1–3.3's `<tool_call>[…]` string prefix is
 * hermes's). A single object and a trailing `<|/tool_call|>` are accepted.
 * @module
 */
import { matchJsonTag, type JsonTagSyntax } from './json-tag.js'
import type { ToolCallFormat } from './types.js'

/** `<|tool_call|>` + JSON array or object(s), optional `<|/tool_call|>` (shared with Phi-4). */
export const TOOL_CALL_TOKEN: JsonTagSyntax = { openers: ['<|tool_call|>'], closers: ['<|/tool_call|>'], several: false }

/** Granite 3.0 `<|tool_call|>[…]`. */
export const granite: ToolCallFormat = {
  id: 'granite',
  strength: 'strong',
  starts: TOOL_CALL_TOKEN.openers,
  match: (text, context) => matchJsonTag(text, context, TOOL_CALL_TOKEN),
}
