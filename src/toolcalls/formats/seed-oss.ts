/**
 * ByteDance Seed-OSS tool calls: Qwen3-Coder's XML body in a `<seed:tool_call>` block,
 * `<seed:tool_call>\n<function=NAME>\n<parameter=k>v</parameter>\n</function>\n</seed:tool_call>`
 * (one or more functions per block; the closer is optional at the end of the message).
 * @module
 */
import { NO, PARTIAL, literalAt, skipWhitespace } from '../scan.js'
import { qwen3FunctionAt } from './qwen3-coder-xml.js'
import type { MatchContext, MatchResult, ParsedCall, ToolCallFormat } from './types.js'

const OPEN = '<seed:tool_call>'
const CLOSE = '</seed:tool_call>'

function matchSeed(text: string, context: MatchContext): MatchResult {
  const { final } = context
  const open = literalAt(text, 0, OPEN)
  if (open === PARTIAL) return { status: 'partial' }
  if (open === NO) return { status: 'reject' }
  const calls: ParsedCall[] = []
  let lastEnd = 0
  let pos = open
  const finish = (): MatchResult => (calls.length > 0 ? { status: 'match', length: lastEnd, calls } : { status: 'reject', length: final ? text.length : undefined })
  for (;;) {
    const i = skipWhitespace(text, pos)
    if (i >= text.length) return final ? finish() : { status: 'partial' }
    const close = literalAt(text, i, CLOSE)
    if (close === PARTIAL) return final ? finish() : { status: 'partial' }
    if (close !== NO) return calls.length > 0 ? { status: 'match', length: close, calls } : { status: 'reject', length: close }
    const start = literalAt(text, i, '<function=')
    if (start === PARTIAL) return final ? finish() : { status: 'partial' }
    if (start === NO) return finish()
    const step = qwen3FunctionAt(text, i, context)
    // A broken call in a Seed block: the block stays text (as before malformed calls were reported).
    if ('broken' in step) return { status: 'reject' }
    if ('verdict' in step) {
      const verdict = step.verdict
      if (verdict.status === 'partial' && final) return { status: 'reject', length: text.length }
      return verdict
    }
    calls.push(step.call)
    lastEnd = step.end
    pos = step.end
  }
}

/** Seed-OSS `<seed:tool_call><function=…>…</function></seed:tool_call>`. */
export const seedOss: ToolCallFormat = {
  id: 'seed_oss',
  strength: 'strong',
  starts: [OPEN],
  match: matchSeed,
}
