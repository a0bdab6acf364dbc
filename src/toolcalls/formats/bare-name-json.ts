/**
 * A declared tool name followed by its JSON arguments (weak): `get_weather{"city": "Paris"}` —
 * Mistral v11 with `[TOOL_CALLS]`/`[ARGS]` decoded away (several may be glued on one line), also
 * `get_weather[ARGS]{…}` and the keyword-call form `get_weather(city="Paris")`. Only at message/line
 * start, as whole lines.
 * @module
 */
import { toArguments } from '../call-shape.js'
import { parseFlexibleJson } from '../flexible-json.js'
import { jsonWaitFor } from '../json-calls-at.js'
import { pythonCallAt } from '../python-call.js'
import { NO, PARTIAL, isNameChar, jsonValueEnd, literalAt, skipSpaces, whichLiteralAt } from '../scan.js'
import type { MatchResult, ParsedCall, ToolCallFormat } from './types.js'

/** `name{json}` / `name[ARGS]{json}` / `name(k=v)` for declared names. */
export const bareNameJson: ToolCallFormat = {
  id: 'bare_name_json',
  strength: 'weak',
  starts: (tools) => tools.names,
  match(text, context): MatchResult {
    const names = context.tools.names
    const calls: ParsedCall[] = []
    let pos = 0
    let lastEnd = 0
    const done = (): MatchResult => (calls.length > 0 ? { status: 'match', length: lastEnd, calls } : { status: 'reject', length: context.final ? Math.max(1, text.length) : undefined })
    for (;;) {
      const which = whichLiteralAt(text, pos, names)
      if (which === PARTIAL) return context.final ? done() : { status: 'partial' }
      if (which === NO) return done()
      const name = names[which]!
      const i = pos + name.length
      if (i >= text.length) return context.final ? done() : { status: 'partial' }
      // `search` must not match `searching{`.
      if (isNameChar(text.charCodeAt(i)) && text[i] !== ':' && text[i] !== '/') return calls.length > 0 ? done() : { status: 'reject' }
      let j = skipSpaces(text, i)
      const args = literalAt(text, j, '[ARGS]')
      if (args === PARTIAL) return context.final ? done() : { status: 'partial' }
      if (args !== NO) j = skipSpaces(text, args)
      if (j >= text.length) return context.final ? done() : { status: 'partial' }
      let end: number
      let value
      if (text[j] === '{') {
        end = jsonValueEnd(text, j, context.memo)
        if (end === NO) return done()
        if (end === PARTIAL) return context.final ? done() : { status: 'partial', waitFor: jsonWaitFor(text, j, context.memo) }
        const parsed = parseFlexibleJson(text.slice(j, end))
        value = parsed.ok ? toArguments(parsed.value) : undefined
        if (value === undefined) return calls.length > 0 ? done() : { status: 'reject', length: end }
      } else if (text[j] === '(' && args === NO) {
        const call = pythonCallAt(text, pos)
        if (call === PARTIAL) return context.final ? done() : { status: 'partial' }
        if (typeof call === 'number') return done()
        end = call.end
        value = call.arguments
      } else return done()
      calls.push({ name, arguments: value })
      lastEnd = end
      const k = skipSpaces(text, end)
      if (k >= text.length) return context.final ? done() : { status: 'partial' }
      const code = text.charCodeAt(k)
      if (code === 10 || code === 13) return done()
      pos = k
    }
  },
}
