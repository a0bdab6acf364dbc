/**
 * Llama 4 pythonic calls inside `<|python_start|>` … `<|python_end|>`: a list `[f(a=1), g()]` or bare
 * calls separated by commas, `;` or newlines. The closer is optional.
 * @module
 */
import { pythonCallAt, pythonCallListAt } from '../python-call.js'
import { NO, PARTIAL, literalAt, skipWhitespace } from '../scan.js'
import type { MatchResult, ParsedCall, ToolCallFormat } from './types.js'

const OPEN = '<|python_start|>'
const CLOSE = '<|python_end|>'

/** `<|python_start|>[f(a=1)]<|python_end|>`. */
export const llama4Pythonic: ToolCallFormat = {
  id: 'pythonic_llama4',
  strength: 'strong',
  starts: [OPEN],
  match(text, context): MatchResult {
    const open = literalAt(text, 0, OPEN)
    if (open === PARTIAL) return { status: 'partial' }
    if (open === NO) return { status: 'reject' }
    return pythonicBody(text, open, CLOSE, context.final)
  },
}

/**
 * Pythonic calls from `start` up to an optional `close` literal: a list or bare calls separated by
 * `,`, `;` or whitespace. Shared by the Llama 4, OLMo 3 and LFM2 formats.
 */
export function pythonicBody(text: string, start: number, close: string, final: boolean): MatchResult {
  const calls: ParsedCall[] = []
  let lastEnd = start
  let pos = skipWhitespace(text, start)
  const done = (): MatchResult => (calls.length > 0 ? { status: 'match', length: lastEnd, calls } : { status: 'reject', length: final ? text.length : undefined })
  for (;;) {
    if (pos >= text.length) return final ? done() : { status: 'partial' }
    const closed = literalAt(text, pos, close)
    if (closed === PARTIAL) return final ? done() : { status: 'partial' }
    if (closed !== NO) return calls.length > 0 ? { status: 'match', length: closed, calls } : { status: 'reject', length: closed }
    if (text[pos] === '[') {
      const list = pythonCallListAt(text, pos)
      if (list === PARTIAL) return final ? done() : { status: 'partial' }
      if (typeof list === 'number') return done()
      for (const call of list.calls) calls.push({ name: call.name, arguments: call.arguments })
      lastEnd = list.end
    } else {
      const call = pythonCallAt(text, pos)
      if (call === PARTIAL) return final ? done() : { status: 'partial' }
      if (typeof call === 'number') return done()
      calls.push({ name: call.name, arguments: call.arguments })
      lastEnd = call.end
    }
    pos = skipWhitespace(text, lastEnd)
    if (text[pos] === ',' || text[pos] === ';') pos = skipWhitespace(text, pos + 1)
  }
}
