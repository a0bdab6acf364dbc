/**
 * The bracket form some Qwen3 MLX builds write: `[Calling tool: NAME({"city": "Paris"})]`, one call
 * per bracket (vllm-mlx PR #15). `()` is a zero-argument call.
 * @module
 */
import { toArguments } from '../call-shape.js'
import { parseFlexibleJson } from '../flexible-json.js'
import { NO, PARTIAL, identifierEnd, jsonValueEnd, literalAt, skipSpaces, skipWhitespace } from '../scan.js'
import { jsonWaitFor } from '../json-calls-at.js'
import type { MatchContext, MatchResult, ToolCallFormat } from './types.js'

const OPEN = '[Calling tool: '

function matchBracket(text: string, context: MatchContext): MatchResult {
  const { final } = context
  const truncated = (): MatchResult => (final ? { status: 'reject', length: text.length } : { status: 'partial' })
  const open = literalAt(text, 0, OPEN)
  if (open === PARTIAL) return { status: 'partial' }
  if (open === NO) return { status: 'reject' }
  const nameStart = skipSpaces(text, open)
  const nameEnd = identifierEnd(text, nameStart, '-.')
  if (nameEnd === PARTIAL) return truncated()
  if (nameEnd === NO) return { status: 'reject' }
  const name = text.slice(nameStart, nameEnd)
  const paren = literalAt(text, skipSpaces(text, nameEnd), '(')
  if (paren === PARTIAL) return truncated()
  if (paren === NO) return { status: 'reject' }
  if (context.tools.resolve(name) === undefined) return { status: 'reject' }
  let i = skipWhitespace(text, paren)
  if (i >= text.length) return truncated()
  let args = {}
  if (text[i] !== ')') {
    const end = jsonValueEnd(text, i, context.memo)
    if (end === NO) return { status: 'reject' }
    if (end === PARTIAL) return final ? { status: 'reject', length: text.length } : { status: 'partial', waitFor: jsonWaitFor(text, i) }
    const parsed = parseFlexibleJson(text.slice(i, end))
    const value = parsed.ok ? toArguments(parsed.value) : undefined
    if (value === undefined) return { status: 'reject', length: end }
    args = value
    i = skipWhitespace(text, end)
  }
  const close = literalAt(text, i, ')')
  if (close === PARTIAL) return truncated()
  if (close === NO) return { status: 'reject' }
  const bracket = literalAt(text, skipSpaces(text, close), ']')
  if (bracket === PARTIAL) return final ? { status: 'match', length: close, calls: [{ name, arguments: args }] } : { status: 'partial' }
  return { status: 'match', length: bracket === NO ? close : bracket, calls: [{ name, arguments: args }] }
}

/** `[Calling tool: NAME({json})]`. */
export const bracketCallingTool: ToolCallFormat = {
  id: 'bracket_calling_tool',
  strength: 'strong',
  starts: [OPEN],
  match: matchBracket,
}
