/**
 * Llama 3.x JSON tool calls after `<|python_tag|>`: `{"name": …, "parameters": {…}}` (several
 * separated by `;`), or a built-in style call `brave_search.call(query="…")`. `<|eom_id|>` /
 * `<|eot_id|>` after it are consumed. (Without the tag the JSON is `json_calls`' business.)
 * @module
 */
import { jsonCallsAt, jsonWaitFor } from '../json-calls-at.js'
import { pythonCallAt } from '../python-call.js'
import { NO, PARTIAL, literalAt, skipWhitespace, whichLiteralAt } from '../scan.js'
import type { MatchResult, ParsedCall, ToolCallFormat } from './types.js'

const TAG = '<|python_tag|>'
const ENDS = ['<|eom_id|>', '<|eot_id|>']

/** `<|python_tag|>` + JSON or a pythonic call. */
export const llama3PythonTag: ToolCallFormat = {
  id: 'llama3_json',
  strength: 'strong',
  starts: [TAG],
  match(text, context): MatchResult {
    const open = literalAt(text, 0, TAG)
    if (open === PARTIAL) return { status: 'partial' }
    if (open === NO) return { status: 'reject' }
    const calls: ParsedCall[] = []
    let lastEnd = 0
    let pos = skipWhitespace(text, open)
    const done = (): MatchResult => (calls.length > 0 ? { status: 'match', length: lastEnd, calls } : { status: 'reject', length: context.final ? text.length : undefined })
    for (;;) {
      if (pos >= text.length) return context.final ? done() : { status: 'partial' }
      const char = text[pos]!
      if (char === '{' || char === '[') {
        const step = jsonCallsAt(text, pos, context)
        if (typeof step === 'number') return step === PARTIAL && !context.final ? { status: 'partial', waitFor: jsonWaitFor(text, pos, context.memo) } : done()
        if ('invalid' in step) return calls.length > 0 ? done() : { status: 'reject', length: step.invalid }
        calls.push(...step.calls)
        lastEnd = step.end
      } else {
        const call = pythonCallAt(text, pos)
        if (call === PARTIAL) return context.final ? done() : { status: 'partial' }
        if (typeof call === 'number') return done()
        calls.push({ name: call.name.replace(/\.call$/, ''), arguments: call.arguments })
        lastEnd = call.end
      }
      let k = skipWhitespace(text, lastEnd)
      if (k >= text.length) return context.final ? done() : { status: 'partial' }
      if (text[k] === ';') {
        pos = skipWhitespace(text, k + 1)
        continue
      }
      const end = whichLiteralAt(text, k, ENDS)
      if (end === PARTIAL) return context.final ? done() : { status: 'partial' }
      if (end !== NO) {
        k += ENDS[end]!.length
        return { status: 'match', length: k, calls }
      }
      return done()
    }
  },
}
