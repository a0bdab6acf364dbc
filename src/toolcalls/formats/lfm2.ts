/**
 * Liquid LFM2 / LFM2.5: `<|tool_call_start|>[f(x="…")]<|tool_call_end|>`, or a JSON list/object
 * of `{"name", "arguments"}` between the same tokens. The closer is optional.
 * @module
 */
import { jsonCallsAt } from '../json-calls-at.js'
import { NO, PARTIAL, literalAt, skipWhitespace } from '../scan.js'
import { pythonicBody } from './llama4-pythonic.js'
import type { MatchResult, ToolCallFormat } from './types.js'

const OPEN = '<|tool_call_start|>'
const CLOSE = '<|tool_call_end|>'

/** LFM2 `<|tool_call_start|>…<|tool_call_end|>`. */
export const lfm2: ToolCallFormat = {
  id: 'lfm2',
  strength: 'strong',
  starts: [OPEN],
  match(text, context): MatchResult {
    const open = literalAt(text, 0, OPEN)
    if (open === PARTIAL) return { status: 'partial' }
    if (open === NO) return { status: 'reject' }
    const body = skipWhitespace(text, open)
    if (body >= text.length) return context.final ? { status: 'reject', length: text.length } : { status: 'partial' }
    const isJson = text[body] === '{' || (text[body] === '[' && /^\[\s*\{/.test(text.slice(body, body + 64)))
    if (!isJson && text[body] === '[' && skipWhitespace(text, body + 1) >= text.length) return context.final ? { status: 'reject', length: text.length } : { status: 'partial' }
    if (!isJson) return pythonicBody(text, open, CLOSE, context.final)
    const step = jsonCallsAt(text, body, context)
    if (typeof step === 'number') return step === PARTIAL && !context.final ? { status: 'partial' } : { status: 'reject', length: context.final ? text.length : undefined }
    if ('invalid' in step) return { status: 'reject', length: step.invalid }
    const after = skipWhitespace(text, step.end)
    const close = literalAt(text, after, CLOSE)
    if (close === PARTIAL) return context.final ? { status: 'match', length: step.end, calls: step.calls } : { status: 'partial' }
    return { status: 'match', length: close === NO ? step.end : close, calls: step.calls }
  },
}
