/**
 * Calls in a Markdown fence (weak, must end the message): ```` ```json ```` with a JSON call object,
 * list or `{"tool_calls": […]}` (Ollama llama3.2, xLAM), or ```` ```tool_code ```` / ```` ```python ````
 * with pythonic calls, one per line (Gemma 2/3 recipes). A fenced example followed by explanation
 * is content.
 * @module
 */
import { jsonCallsAt, jsonWaitFor } from '../json-calls-at.js'
import { pythonCallAt, pythonCallListAt } from '../python-call.js'
import { NO, PARTIAL, literalAt, skipWhitespace } from '../scan.js'
import type { MatchResult, ParsedCall, ToolCallFormat } from './types.js'

const LANGUAGES = new Set(['', 'json', 'json5', 'jsonc', 'tool_code', 'tool_call', 'tool_calls', 'python', 'py', 'tool'])
const FENCE = '```'

/** Calls in a fenced block that ends the message. */
export const fencedCalls: ToolCallFormat = {
  id: 'fenced_calls',
  strength: 'weak',
  position: 'end',
  starts: [FENCE],
  match(text, context): MatchResult {
    const open = literalAt(text, 0, FENCE)
    if (open === PARTIAL) return { status: 'partial' }
    if (open === NO) return { status: 'reject' }
    const lineEnd = text.indexOf('\n', open)
    if (lineEnd < 0) return context.final || text.length - open > 24 ? { status: 'reject' } : { status: 'partial' }
    if (!LANGUAGES.has(text.slice(open, lineEnd).trim().toLowerCase())) return { status: 'reject' }
    const calls: ParsedCall[] = []
    let pos = skipWhitespace(text, lineEnd + 1)
    let lastEnd = pos
    const truncated = (): MatchResult => (context.final ? (calls.length > 0 ? { status: 'match', length: lastEnd, calls } : { status: 'reject', length: text.length }) : { status: 'partial' })
    for (;;) {
      if (pos >= text.length) return truncated()
      const closed = literalAt(text, pos, FENCE)
      if (closed === PARTIAL) return truncated()
      if (closed !== NO) return calls.length > 0 ? { status: 'match', length: closed, calls } : { status: 'reject' }
      const char = text[pos]!
      if (char === '{' || (char === '[' && /^\[\s*(?:\{|$)/.test(text.slice(pos, pos + 32)))) {
        const step = jsonCallsAt(text, pos, context, { requireArguments: true })
        if (typeof step === 'number') return step === PARTIAL ? (context.final ? truncated() : { status: 'partial', waitFor: jsonWaitFor(text, pos, context.memo) }) : { status: 'reject' }
        if ('invalid' in step) return { status: 'reject' }
        calls.push(...step.calls)
        lastEnd = step.end
      } else if (char === '[') {
        const list = pythonCallListAt(text, pos)
        if (list === PARTIAL) return truncated()
        if (typeof list === 'number') return { status: 'reject' }
        for (const call of list.calls) calls.push({ name: call.name, arguments: call.arguments })
        lastEnd = list.end
      } else {
        // `print(get_weather(...))` in tool_code recipes: look inside print().
        const printed = literalAt(text, pos, 'print(')
        const start = printed > 0 ? printed : pos
        const call = pythonCallAt(text, start)
        if (call === PARTIAL || (printed === PARTIAL)) return truncated()
        if (typeof call === 'number') return { status: 'reject' }
        if (context.tools.resolve(call.name) === undefined) return { status: 'reject' }
        calls.push({ name: call.name, arguments: call.arguments })
        lastEnd = call.end
        if (printed > 0) {
          const close = skipWhitespace(text, call.end)
          if (close >= text.length) return truncated()
          if (text[close] !== ')') return { status: 'reject' }
          lastEnd = close + 1
        }
      }
      pos = skipWhitespace(text, lastEnd)
      if (text[pos] === ',' || text[pos] === ';') pos = skipWhitespace(text, pos + 1)
    }
  },
}
