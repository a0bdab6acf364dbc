/**
 * GLM-4.5 / 4.6 / 4.7 / GLM-5 tool calls (and Poolside Laguna, which writes the same):
 * `<tool_call>NAME\n<arg_key>k</arg_key>\n<arg_value>v</arg_value>\n</tool_call>`, the 4.7 inline
 * form without newlines, and zero-argument `<tool_call>NAME</tool_call>`. Values are raw text:
 * JSON-decoded unless the tool's schema says string. A dropped `<arg_value>` (vLLM PR #49249) is
 * tolerated. `<tool_call>{json}` bodies are hermes's, `<tool_call><function=…>` Qwen3-Coder's.
 * @module
 */
import { matchArgKeyBlock, type ArgKeySyntax } from './arg-key-xml.js'
import type { ToolCallFormat } from './types.js'

const SYNTAX: ArgKeySyntax = { call: 'tool_call', key: 'arg_key', value: 'arg_value', suffix: false, untyped: 'json' }

/** GLM-4.5 / 4.7 `<tool_call>NAME<arg_key>…</arg_key><arg_value>…</arg_value></tool_call>`. */
export const glm45: ToolCallFormat = {
  id: 'glm45',
  strength: 'strong',
  starts: ['<tool_call>'],
  match: (text, context) => matchArgKeyBlock(text, context, SYNTAX),
}
