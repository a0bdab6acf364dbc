/**
 * DeepSeek-V4.1 DSML tool calls: a space after `｜DSML｜` in every tag and the wrapper named `calls`,
 * `<｜DSML｜ calls><｜DSML｜ invoke name="N"><｜DSML｜ parameter name="k" string="true">v</｜DSML｜ parameter></｜DSML｜ invoke></｜DSML｜ calls>`.
 * Unspaced inner tags are accepted too.
 * @module
 */
import { matchInvokeXml } from './invoke-xml.js'
import { dsmlSyntax } from './deepseek-v32-dsml.js'
import type { ToolCallFormat } from './types.js'

const SPACED = dsmlSyntax('calls', ['｜DSML｜ '])
const UNSPACED = dsmlSyntax('calls', ['｜DSML｜'])
const SYNTAX = {
  ...SPACED,
  invokeOpens: [...SPACED.invokeOpens, ...UNSPACED.invokeOpens],
  invokeCloses: [...SPACED.invokeCloses, ...UNSPACED.invokeCloses],
  paramOpens: [...SPACED.paramOpens, ...UNSPACED.paramOpens],
  paramCloses: [...SPACED.paramCloses, ...UNSPACED.paramCloses],
}

/** DeepSeek-V4.1 `<｜DSML｜ calls>` blocks. */
export const deepseekV41Dsml: ToolCallFormat = {
  id: 'deepseek_v41_dsml',
  strength: 'strong',
  starts: SYNTAX.wrappers,
  match: (text, context) => matchInvokeXml(text, context, SYNTAX),
}
