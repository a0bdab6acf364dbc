/**
 * OLMo 3: `<function_calls>` + one pythonic call per line (JSON literals allowed) + `</function_calls>`.
 * A body starting with `<` is the Anthropic-style `<invoke>` XML, another format.
 * @module
 */
import { NO, PARTIAL, literalAt, skipWhitespace } from '../scan.js'
import { pythonicBody } from './llama4-pythonic.js'
import type { MatchResult, ToolCallFormat } from './types.js'

const OPEN = '<function_calls>'

/** `<function_calls>\nf(a=1)\ng(b=true)\n</function_calls>`. */
export const olmo3: ToolCallFormat = {
  id: 'olmo3',
  strength: 'strong',
  starts: [OPEN],
  match(text, context): MatchResult {
    const open = literalAt(text, 0, OPEN)
    if (open === PARTIAL) return { status: 'partial' }
    if (open === NO) return { status: 'reject' }
    const body = skipWhitespace(text, open)
    if (body >= text.length) return context.final ? { status: 'reject', length: text.length } : { status: 'partial' }
    if (text[body] === '<') return { status: 'reject' }
    return pythonicBody(text, open, '</function_calls>', context.final)
  },
}
