/**
 * Mistral `[TOOL_CALLS]`: the v0.3 array `[TOOL_CALLS] [{"name": …, "arguments": {…}}]`, the v11+
 * form `[TOOL_CALLS]NAME[ARGS]{…}` (repeated per call; `[CALL_ID]id` may precede `[ARGS]`), and
 * `[TOOL_CALLS]NAME{…}` when `[ARGS]`
 * was decoded away. The optional `[/TOOL_CALLS]` closer is consumed.
 * @module
 */
import { toArguments } from '../call-shape.js'
import { parseFlexibleJson } from '../flexible-json.js'
import { jsonCallsAt, jsonWaitFor } from '../json-calls-at.js'
import { NO, PARTIAL, identifierEnd, jsonValueEnd, literalAt, skipSpaces, skipWhitespace, whichLiteralAt } from '../scan.js'
import type { MatchResult, ParsedCall, ToolCallFormat } from './types.js'

const OPENERS = ['[TOOL_CALLS]', '[tool_calls]']
const CLOSER = '[/TOOL_CALLS]'

/** Mistral `[TOOL_CALLS]` tool calls (v0.3 and v11+). */
export const mistral: ToolCallFormat = {
  id: 'mistral',
  strength: 'strong',
  starts: OPENERS,
  match(text, context): MatchResult {
    const calls: ParsedCall[] = []
    let pos = 0
    let lastEnd = 0
    const done = (): MatchResult => (calls.length > 0 ? { status: 'match', length: lastEnd, calls } : { status: 'reject', length: context.final ? text.length : undefined })
    for (;;) {
      const which = whichLiteralAt(text, pos, OPENERS)
      if (which === PARTIAL) return context.final ? done() : { status: 'partial' }
      if (which === NO) return done()
      const i = skipWhitespace(text, pos + OPENERS[which]!.length)
      if (i >= text.length) return context.final ? done() : { status: 'partial' }
      const char = text[i]!
      if (char === '[' || char === '{') {
        const step = jsonCallsAt(text, i, context)
        if (typeof step === 'number') {
          if (step === PARTIAL) return context.final ? done() : { status: 'partial', waitFor: jsonWaitFor(text, i, context.memo) }
          return done()
        }
        if ('invalid' in step) return calls.length > 0 ? done() : { status: 'reject', length: step.invalid }
        calls.push(...step.calls)
        lastEnd = step.end
      } else {
        const nameEnd = identifierEnd(text, i, '-.')
        if (nameEnd === PARTIAL) return context.final ? done() : { status: 'partial' }
        if (nameEnd === NO) return done()
        const name = text.slice(i, nameEnd)
        if (context.tools.resolve(name) === undefined) return done()
        let j = skipSpaces(text, nameEnd)
        // Newer tokenizers put `[CALL_ID]abc123xyz` between the name and `[ARGS]`.
        const callId = literalAt(text, j, '[CALL_ID]')
        if (callId === PARTIAL) return context.final ? done() : { status: 'partial' }
        if (callId !== NO) {
          const idEnd = identifierEnd(text, callId, '-')
          if (idEnd === PARTIAL) return context.final ? done() : { status: 'partial' }
          if (idEnd === NO) return done()
          j = skipSpaces(text, idEnd)
        }
        const args = literalAt(text, j, '[ARGS]')
        if (args === PARTIAL) return context.final ? done() : { status: 'partial' }
        if (args !== NO) j = skipSpaces(text, args)
        if (j >= text.length) return context.final ? done() : { status: 'partial' }
        const end = jsonValueEnd(text, j, context.memo)
        if (end === NO) return done()
        if (end === PARTIAL) return context.final ? done() : { status: 'partial', waitFor: jsonWaitFor(text, j, context.memo) }
        const parsed = parseFlexibleJson(text.slice(j, end))
        const value = parsed.ok ? toArguments(parsed.value) : undefined
        if (value === undefined) return calls.length > 0 ? done() : { status: 'reject', length: end }
        calls.push({ name, arguments: value })
        lastEnd = end
      }
      const k = skipWhitespace(text, lastEnd)
      if (k >= text.length) return context.final ? done() : { status: 'partial' }
      const closer = literalAt(text, k, CLOSER)
      if (closer === PARTIAL) return context.final ? done() : { status: 'partial' }
      if (closer !== NO) return { status: 'match', length: closer, calls }
      pos = k
    }
  },
}
