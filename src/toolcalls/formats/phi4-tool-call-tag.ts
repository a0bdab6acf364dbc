/**
 * Phi-4 family tool calls in `<|tool_call|>…<|/tool_call|>` (SGLang `Phi4Detector`): a JSON object
 * or array of `{"name", "arguments"}`. Same opener as Granite 3.0; the closer is optional.
 * @module
 */
import { TOOL_CALL_TOKEN } from './granite.js'
import { matchJsonTag } from './json-tag.js'
import type { ToolCallFormat } from './types.js'

/** Phi-4 `<|tool_call|>{…}<|/tool_call|>`. */
export const phi4ToolCallTag: ToolCallFormat = {
  id: 'phi4_tool_call_tag',
  strength: 'strong',
  starts: TOOL_CALL_TOKEN.openers,
  match: (text, context) => matchJsonTag(text, context, TOOL_CALL_TOKEN),
}
