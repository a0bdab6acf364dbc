/**
 * A JSON array of calls in `<tool_calls>…</tool_calls>`: AI21 Jamba 1.5/1.6, Tencent Hunyuan-A13B,
 * ServiceNow Apriel 1.5 (`<tool_calls>[{"name": …, "arguments": {…}}]</tool_calls>`). Objects one
 * per line (MiniMax-M1) are read too.
 * @module
 */
import { matchJsonTag, type JsonTagSyntax } from './json-tag.js'
import type { ToolCallFormat } from './types.js'

/** `<tool_calls>` + JSON array or objects + `</tool_calls>`. */
export const TOOL_CALLS_TAG: JsonTagSyntax = { openers: ['<tool_calls>'], closers: ['</tool_calls>'], several: true }

/** `<tool_calls>[{"name", "arguments"}]</tool_calls>`. */
export const toolCallsArrayTag: ToolCallFormat = {
  id: 'tool_calls_array_tag',
  strength: 'strong',
  starts: TOOL_CALLS_TAG.openers,
  match: (text, context) => matchJsonTag(text, context, TOOL_CALLS_TAG),
}
