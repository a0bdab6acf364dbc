/**
 * Pythonic call lists (weak): `[get_weather(city='Paris'), get_time()]` at the start of the message or
 * a line (Llama 3.2/4 pythonic templates, ToolACE, prompted Gemma 3, Granite pythonic).
 * @module
 */
import { pythonCallListAt } from '../python-call.js'
import { NO, PARTIAL, identifierEnd, skipWhitespace } from '../scan.js'
import type { MatchResult, ToolCallFormat } from './types.js'

/** `[f(a=1), g()]` as a whole line. */
export const pythonic: ToolCallFormat = {
  id: 'pythonic',
  strength: 'weak',
  starts: ['['],
  match(text, context): MatchResult {
    const i = skipWhitespace(text, 1)
    if (i >= text.length) return context.final ? { status: 'reject', length: text.length } : { status: 'partial' }
    // Say no early: the first name must be a declared tool.
    const nameEnd = identifierEnd(text, i, '-.')
    if (nameEnd === NO) return { status: 'reject' }
    if (nameEnd === PARTIAL) return context.final ? { status: 'reject', length: text.length } : { status: 'partial' }
    if (context.tools.resolve(text.slice(i, nameEnd)) === undefined) return { status: 'reject' }
    const list = pythonCallListAt(text, 0)
    if (list === PARTIAL) return context.final ? { status: 'reject', length: text.length } : { status: 'partial' }
    if (typeof list === 'number') return { status: 'reject' }
    return { status: 'match', length: list.end, calls: list.calls.map((call) => ({ name: call.name, arguments: call.arguments })) }
  },
}
