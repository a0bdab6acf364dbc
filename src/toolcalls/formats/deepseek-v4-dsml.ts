/**
 * DeepSeek-V4 DSML tool calls: the V3.2 grammar with the wrapper renamed,
 * `<｜DSML｜tool_calls><｜DSML｜invoke name="N"><｜DSML｜parameter name="k" string="true|false">v</｜DSML｜parameter></｜DSML｜invoke></｜DSML｜tool_calls>`.
 * @module
 */
import { matchInvokeXml } from './invoke-xml.js'
import { dsmlSyntax } from './deepseek-v32-dsml.js'
import type { ToolCallFormat } from './types.js'

const SYNTAX = dsmlSyntax('tool_calls', ['｜DSML｜'])

/** DeepSeek-V4 `<｜DSML｜tool_calls>` blocks. */
export const deepseekV4Dsml: ToolCallFormat = {
  id: 'deepseek_v4_dsml',
  strength: 'strong',
  starts: SYNTAX.wrappers,
  match: (text, context) => matchInvokeXml(text, context, SYNTAX),
}
