/**
 * gpt-oss harmony tool calls decoded with special tokens skipped: the channel words glue onto the
 * text, `commentary to=functions.get_weather json{"city":"Tokyo"}` (often `assistantcommentary …`,
 * Rapid-MLX #444 / #480). The call ends with its JSON (or a surviving `<|call|>`).
 * @module
 */
import { NO, PARTIAL, identifierEnd, literalAt, skipSpaces, skipWhitespace, whichLiteralAt } from '../scan.js'
import { HARMONY_CONSTRAIN, HARMONY_MESSAGE, harmonyArguments } from './harmony.js'
import type { MatchContext, MatchResult, ToolCallFormat } from './types.js'

// The glued `assistantcommentary` form needs its own opener: letter openers only count at a word boundary.
const OPENERS = ['assistantcommentary to=functions.', 'commentary to=functions.']

function matchStripped(text: string, context: MatchContext): MatchResult {
  const which = whichLiteralAt(text, 0, OPENERS)
  if (which === PARTIAL) return { status: 'partial' }
  if (which === NO) return { status: 'reject' }
  const nameStart = OPENERS[which]!.length
  const nameEnd = identifierEnd(text, nameStart, '-.')
  if (nameEnd === PARTIAL) return context.final ? { status: 'reject', length: text.length } : { status: 'partial' }
  if (nameEnd === NO) return { status: 'reject' }
  const name = text.slice(nameStart, nameEnd)
  if (context.tools.resolve(name) === undefined) return { status: 'reject' }
  // Optional leftovers of the header: `<|constrain|>`, the content type `json`, `<|message|>`.
  let i = skipSpaces(text, nameEnd)
  for (const token of [HARMONY_CONSTRAIN, 'json', HARMONY_MESSAGE]) {
    const end = literalAt(text, i, token)
    if (end === PARTIAL) return context.final ? { status: 'reject', length: text.length } : { status: 'partial' }
    if (end !== NO) i = skipSpaces(text, end)
  }
  const body = skipWhitespace(text, i)
  if (body < text.length && text[body] !== '{') return { status: 'reject' }
  return harmonyArguments(text, body, name, context)
}

/** Stripped harmony `commentary to=functions.NAME json{…}`. */
export const harmonyStripped: ToolCallFormat = {
  id: 'harmony_stripped',
  strength: 'strong',
  starts: OPENERS,
  match: matchStripped,
}
