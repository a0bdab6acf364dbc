/**
 * MeetKai Functionary v3.2 tool calls: `>>>NAME\n{json}` per call (the next `>>>` or the end closes
 * it); text turns are `>>>all\n…`, whose recipient line is removed.
 * @module
 */
import { toArguments } from '../call-shape.js'
import { parseFlexibleJson } from '../flexible-json.js'
import { NO, PARTIAL, identifierEnd, jsonValueEnd, literalAt, skipSpaces, skipWhitespace } from '../scan.js'
import { jsonWaitFor } from '../json-calls-at.js'
import type { MatchContext, MatchResult, ToolCallFormat } from './types.js'

const OPEN = '>>>'

function matchFunctionary(text: string, context: MatchContext): MatchResult {
  const { final } = context
  const truncated = (): MatchResult => (final ? { status: 'reject', length: text.length } : { status: 'partial' })
  const open = literalAt(text, 0, OPEN)
  if (open === PARTIAL) return { status: 'partial' }
  if (open === NO) return { status: 'reject' }
  const nameEnd = identifierEnd(text, open, '-.')
  if (nameEnd === PARTIAL) return truncated()
  if (nameEnd === NO) return { status: 'reject' }
  const name = text.slice(open, nameEnd)
  const newline = literalAt(text, skipSpaces(text, nameEnd), '\n')
  if (newline === PARTIAL) return truncated()
  if (newline === NO) return { status: 'reject' }
  // `>>>all` introduces text for the user: the recipient line goes, the text stays.
  if (name === 'all') return { status: 'match', length: newline, calls: [] }
  if (context.tools.resolve(name) === undefined) return { status: 'reject' }
  const body = skipWhitespace(text, newline)
  if (body >= text.length) return truncated()
  const end = jsonValueEnd(text, body, context.memo)
  if (end === NO) return { status: 'reject' }
  if (end === PARTIAL) return final ? { status: 'reject', length: text.length } : { status: 'partial', waitFor: jsonWaitFor(text, body) }
  const parsed = parseFlexibleJson(text.slice(body, end))
  const args = parsed.ok ? toArguments(parsed.value) : undefined
  if (args === undefined) return { status: 'reject', length: end }
  return { status: 'match', length: end, calls: [{ name, arguments: args }] }
}

/** Functionary v3.2 `>>>NAME\n{json}`. */
export const functionaryV32: ToolCallFormat = {
  id: 'functionary_v32',
  strength: 'strong',
  starts: [OPEN],
  match: matchFunctionary,
}
