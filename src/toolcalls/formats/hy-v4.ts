/**
 * Tencent Hy4-preview tool calls: Hy3 without `<tool_sep>`, tags back to back and suffixed,
 * `<tool_calls:SFX><tool_call:SFX>NAME<arg_key:SFX>k</arg_key:SFX><arg_value:SFX>v</arg_value:SFX></tool_call:SFX></tool_calls:SFX>`
 * (the name ends at the first `<arg_key…>` or `</tool_call…>`). Unsuffixed tags are read too.
 * @module
 */
import { matchArgKeyBlock, type ArgKeySyntax } from './arg-key-xml.js'
import type { ToolCallFormat } from './types.js'

const SYNTAX: ArgKeySyntax = { wrapper: 'tool_calls', call: 'tool_call', key: 'arg_key', value: 'arg_value', suffix: true, untyped: 'string' }

/** Hy4 `<tool_calls:SFX><tool_call:SFX>NAME<arg_key:SFX>…</tool_call:SFX></tool_calls:SFX>`. */
export const hyV4: ToolCallFormat = {
  id: 'hy_v4',
  strength: 'strong',
  starts: ['<tool_calls>', '<tool_calls:'],
  match: (text, context) => matchArgKeyBlock(text, context, SYNTAX),
}
