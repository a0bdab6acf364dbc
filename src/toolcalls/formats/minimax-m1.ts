/**
 * MiniMax-M1 / MiniMax-Text-01 tool calls: one JSON object per line in a `<tool_calls>` block,
 * `<tool_calls>\n{"name": "f", "arguments": {…}}\n{"name": "g", "arguments": {…}}\n</tool_calls>`.
 * @module
 */
import { matchJsonTag } from './json-tag.js'
import { TOOL_CALLS_TAG } from './tool-calls-array-tag.js'
import type { ToolCallFormat } from './types.js'

/** MiniMax-M1 `<tool_calls>` with one call object per line. */
export const minimaxM1: ToolCallFormat = {
  id: 'minimax_m1',
  strength: 'strong',
  starts: TOOL_CALLS_TAG.openers,
  match: (text, context) => matchJsonTag(text, context, TOOL_CALLS_TAG),
}
