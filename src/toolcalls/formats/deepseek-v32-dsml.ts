/**
 * DeepSeek-V3.2 DSML tool calls:
 * `<｜DSML｜function_calls><｜DSML｜invoke name="N"><｜DSML｜parameter name="k" string="true">v</｜DSML｜parameter></｜DSML｜invoke></｜DSML｜function_calls>`.
 * `string="true"` values are text, `string="false"` values JSON; an invoke may hold one JSON object
 * instead; a zero-argument invoke may be self-closing. Inner tags without `｜DSML｜` (the "simplified"
 * output SGLang accepts) are read too.
 * @module
 */
import { matchInvokeXml, type InvokeXmlSyntax } from './invoke-xml.js'
import type { ToolCallFormat } from './types.js'

const DSML = '<｜DSML｜'

/** The DSML tag set for a wrapper name (`function_calls`, `tool_calls`) and a tag prefix (`｜DSML｜`, `｜DSML｜ `). */
export function dsmlSyntax(wrapper: string, prefixes: readonly string[]): InvokeXmlSyntax {
  const all = [...prefixes, '']
  return {
    wrappers: prefixes.map((prefix) => `<${prefix}${wrapper}>`),
    closers: prefixes.map((prefix) => `</${prefix}${wrapper}>`),
    invokeOpens: all.map((prefix) => `<${prefix}invoke`),
    invokeCloses: all.map((prefix) => `</${prefix}invoke>`),
    paramOpens: all.map((prefix) => `<${prefix}parameter`),
    paramCloses: all.map((prefix) => `</${prefix}parameter>`),
    nameStyle: 'attribute',
    value: 'dsml',
  }
}

const SYNTAX = dsmlSyntax('function_calls', [DSML.slice(1)])

/** DeepSeek-V3.2 `<｜DSML｜function_calls>` blocks. */
export const deepseekV32Dsml: ToolCallFormat = {
  id: 'deepseek_v32_dsml',
  strength: 'strong',
  starts: SYNTAX.wrappers,
  match: (text, context) => matchInvokeXml(text, context, SYNTAX),
}
