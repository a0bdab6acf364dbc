/**
 * Claude-style invoke XML, as Claude-distilled fine-tunes and DeepSeek-V3.2's "simplified" output
 * write it: `<function_calls><invoke name="N"><parameter name="k">v</parameter></invoke></function_calls>`.
 * Values are typed from the tool's schema; `</parameter>` inside a value does not end it.
 * @module
 */
import { matchInvokeXml, type InvokeXmlSyntax } from './invoke-xml.js'
import type { ToolCallFormat } from './types.js'

const SYNTAX: InvokeXmlSyntax = {
  wrappers: ['<function_calls>'],
  closers: ['</function_calls>'],
  invokeOpens: ['<invoke'],
  invokeCloses: ['</invoke>'],
  paramOpens: ['<parameter'],
  paramCloses: ['</parameter>'],
  nameStyle: 'attribute',
  value: 'typed',
}

/** Claude-style `<function_calls><invoke name="…"><parameter name="…">…</parameter></invoke></function_calls>`. */
export const anthropicInvokeXml: ToolCallFormat = {
  id: 'anthropic_invoke_xml',
  strength: 'strong',
  starts: SYNTAX.wrappers,
  match: (text, context) => matchInvokeXml(text, context, SYNTAX),
}
