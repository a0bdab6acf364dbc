/**
 * ByteDance Seed-OSS tool calls: Qwen3-Coder's XML body in a `<seed:tool_call>` block,
 * `<seed:tool_call>\n<function=NAME>\n<parameter=k>v</parameter>\n</function>\n</seed:tool_call>`
 * (one or more functions per block; the closer is optional at the end of the message). A broken call in a
 * block is reported and removed with it, as in Qwen3-Coder blocks.
 * @module
 */
import { NO, PARTIAL, literalAt } from '../scan.js'
import { matchFunctionBlock } from './qwen3-coder-xml.js'
import type { MatchContext, MatchResult, ToolCallFormat } from './types.js'

const OPEN = '<seed:tool_call>'
const CLOSE = '</seed:tool_call>'
/** Where a broken `<function=…>` without its `</function>` stops. */
const BROKEN_STOP = [CLOSE, '<function=', OPEN] as const

function matchSeed(text: string, context: MatchContext): MatchResult {
  const open = literalAt(text, 0, OPEN)
  if (open === PARTIAL) return { status: 'partial' }
  if (open === NO) return { status: 'reject' }
  return matchFunctionBlock(text, open, CLOSE, BROKEN_STOP, context)
}

/** Seed-OSS `<seed:tool_call><function=…>…</function></seed:tool_call>`. */
export const seedOss: ToolCallFormat = {
  id: 'seed_oss',
  strength: 'strong',
  starts: [OPEN],
  match: matchSeed,
}
