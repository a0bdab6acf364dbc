/**
 * MiniMax-M2 / M2.1 tool calls:
 * `<minimax:tool_call>\n<invoke name="N">\n<parameter name="k">v</parameter>\n</invoke>\n</minimax:tool_call>`,
 * several invokes per block; values typed from the tool's schema (untyped ones stay strings).
 * @module
 */
import { matchInvokeXml, type InvokeXmlSyntax } from './invoke-xml.js'
import type { ToolCallFormat } from './types.js'

const SYNTAX: InvokeXmlSyntax = {
  wrappers: ['<minimax:tool_call>'],
  closers: ['</minimax:tool_call>'],
  invokeOpens: ['<invoke'],
  invokeCloses: ['</invoke>'],
  paramOpens: ['<parameter'],
  paramCloses: ['</parameter>'],
  nameStyle: 'attribute',
  value: 'typed',
}

/** MiniMax-M2 `<minimax:tool_call>` blocks. */
export const minimaxM2: ToolCallFormat = {
  id: 'minimax_m2',
  strength: 'strong',
  starts: SYNTAX.wrappers,
  match: (text, context) => matchInvokeXml(text, context, SYNTAX),
}
