/**
 * Meituan LongCat tool calls: `<longcat_tool_call>{"name": …, "arguments": {…}}</longcat_tool_call>`
 * (LongCat-Flash-Chat) and the XML form of newer checkpoints,
 * `<longcat_tool_call>NAME\n<longcat_arg_key>k</longcat_arg_key>\n<longcat_arg_value>v</longcat_arg_value>\n</longcat_tool_call>`.
 * @module
 */
import { matchArgKeyBlock, type ArgKeySyntax } from './arg-key-xml.js'
import type { ToolCallFormat } from './types.js'

const SYNTAX: ArgKeySyntax = { call: 'longcat_tool_call', key: 'longcat_arg_key', value: 'longcat_arg_value', suffix: false, jsonBody: true, untyped: 'json' }

/** LongCat `<longcat_tool_call>` JSON or arg_key bodies. */
export const longcat: ToolCallFormat = {
  id: 'longcat',
  strength: 'strong',
  starts: ['<longcat_tool_call>'],
  match: (text, context) => matchArgKeyBlock(text, context, SYNTAX),
}
