/**
 * Tencent Hy3 / Hy3-preview tool calls: a `<tool_calls>` wrapper holding
 * `<tool_call>NAME<tool_sep>` + `<arg_key>k</arg_key><arg_value>v</arg_value>` pairs + `</tool_call>`
 * elements. Released checkpoints suffix every tag (`<tool_calls:opensource>`, `<tool_sep:opensource>`, …);
 * both forms are read. Values are typed from the tool's schema; untyped values stay strings.
 * @module
 */
import { matchArgKeyBlock, type ArgKeySyntax } from './arg-key-xml.js'
import type { ToolCallFormat } from './types.js'

const SYNTAX: ArgKeySyntax = { wrapper: 'tool_calls', call: 'tool_call', key: 'arg_key', value: 'arg_value', separator: 'tool_sep', suffix: true, untyped: 'string' }

/** Hy3 `<tool_calls><tool_call>NAME<tool_sep>…</tool_call></tool_calls>`, tags optionally suffixed. */
export const hyV3: ToolCallFormat = {
  id: 'hy_v3',
  strength: 'strong',
  starts: ['<tool_calls>', '<tool_calls:'],
  match: (text, context) => matchArgKeyBlock(text, context, SYNTAX),
}
