/**
 * DeepSeek-V3.1 / V3.1-Terminus tool calls: V3's tokens without `function` and the fence,
 * `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{…}<｜tool▁call▁end｜><｜tool▁calls▁end｜>`.
 * @module
 */
import { DEEPSEEK_CALLS_BEGIN, DEEPSEEK_CALL_BEGIN, matchDeepSeekCalls } from './deepseek-v3.js'
import type { ToolCallFormat } from './types.js'

/** DeepSeek-V3.1 `NAME<｜tool▁sep｜>{json}` calls. */
export const deepseekV31: ToolCallFormat = {
  id: 'deepseek_v31',
  strength: 'strong',
  starts: [...DEEPSEEK_CALLS_BEGIN, ...DEEPSEEK_CALL_BEGIN],
  match: (text, context) => matchDeepSeekCalls(text, context, 'v31'),
}
