/**
 * OpenBMB MiniCPM5 tool calls: `<function name="N"><param name="k">v</param></function>`, repeated
 * for parallel calls, no wrapper (older checkpoints nest the params in `<arguments>…</arguments>`).
 * Values are trimmed, may be `<![CDATA[…]]>`, and are typed from the schema (non-strings decoded as
 * JSON or Python literals). `<function name="N">{json}` is hermes's.
 * @module
 */
import { matchInvokeXml, skipTokens, type InvokeXmlSyntax } from './invoke-xml.js'
import type { ToolCallFormat } from './types.js'

const SYNTAX: InvokeXmlSyntax = {
  wrappers: [],
  closers: [],
  invokeOpens: ['<function'],
  invokeCloses: ['</function>'],
  paramOpens: ['<param'],
  paramCloses: ['</param>'],
  nameStyle: 'attribute',
  value: 'trimmed',
  skip: skipTokens(['<arguments>', '</arguments>']),
  extraStructural: ['</arguments>'],
}

/** MiniCPM5 `<function name="…"><param name="…">…</param></function>`. */
export const minicpm5: ToolCallFormat = {
  id: 'minicpm5_xml',
  strength: 'strong',
  starts: ['<function name=', '<function  name='],
  match: (text, context) => matchInvokeXml(text, context, SYNTAX),
}
