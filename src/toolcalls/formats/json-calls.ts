/**
 * Bare JSON calls (weak): `{"name": …, "arguments"|"parameters": {…}}` (Llama 3 JSON, xLAM, stripped
 * Mistral v0.3), lists of them, `{"tool_calls": […]}` and `{"tool_call": {…}}` (OpenAI imitations,
 * llama.cpp generic), several objects separated by `;`; a closer whose opener was lost
 * (`</tool_call>`) or a Llama end token right after is removed with it. Only at message/line start, only as whole
 * lines, and an object with keys beyond the call shape is data.
 * @module
 */
import { jsonCallsAt, jsonWaitFor } from '../json-calls-at.js'
import { NO, PARTIAL, skipSpaces, skipWhitespace, whichLiteralAt } from '../scan.js'
import type { MatchContext, MatchResult, ParsedCall, ToolCallFormat } from './types.js'

const ORPHAN_CLOSERS = ['</tool_call>', '</tool_calls>', '</function_call>', '[/TOOL_CALLS]', '<|eom_id|>', '<|eot_id|>']

const FIRST_KEYS = new Set(['name', 'arguments', 'parameters', 'id', 'type', 'function', 'tool_calls', 'tool_call', 'call_id'])

/**
 * Early verdict on the object at `pos` from its first key (and its name, when `name` comes first):
 * `NO` = data, `PARTIAL` = cannot tell yet, otherwise go on.
 */
export function callObjectHead(text: string, pos: number, context: MatchContext): number {
  let i = skipWhitespace(text, pos + 1)
  if (i >= text.length) return PARTIAL
  const quote = text[i]
  if (quote !== '"' && quote !== "'") return text[i] === '}' ? NO : NO
  const keyEnd = text.indexOf(quote, i + 1)
  if (keyEnd < 0) return text.length - i > 24 ? NO : PARTIAL
  const key = text.slice(i + 1, keyEnd)
  if (!FIRST_KEYS.has(key)) return NO
  if (key !== 'name') return 1
  i = skipWhitespace(text, keyEnd + 1)
  if (i >= text.length) return PARTIAL
  if (text[i] !== ':') return NO
  i = skipWhitespace(text, i + 1)
  if (i >= text.length) return PARTIAL
  const valueQuote = text[i]
  if (valueQuote !== '"' && valueQuote !== "'") return NO
  const nameEnd = text.indexOf(valueQuote, i + 1)
  if (nameEnd < 0) return text.length - i > 256 ? NO : PARTIAL
  return context.tools.resolve(text.slice(i + 1, nameEnd).trim()) === undefined ? NO : 1
}

/** Bare JSON tool calls at the start of the message or a line. */
export const jsonCalls: ToolCallFormat = {
  id: 'json_calls',
  strength: 'weak',
  starts: ['{', '['],
  match(text, context): MatchResult {
    const calls: ParsedCall[] = []
    let pos = 0
    let lastEnd = 0
    for (;;) {
      const open = text[pos]
      const head = open === '{' ? callObjectHead(text, pos, context) : open === '[' ? listHead(text, pos, context) : NO
      if (head === NO) return calls.length > 0 ? { status: 'match', length: lastEnd, calls } : { status: 'reject' }
      if (head === PARTIAL) return context.final ? finish(calls, lastEnd, text) : { status: 'partial' }
      const step = jsonCallsAt(text, pos, context, { requireArguments: true })
      if (typeof step === 'number') {
        if (step === PARTIAL) return context.final ? finish(calls, lastEnd, text) : { status: 'partial', waitFor: jsonWaitFor(text, pos, context.memo) }
        return calls.length > 0 ? { status: 'match', length: lastEnd, calls } : { status: 'reject' }
      }
      if ('invalid' in step) return calls.length > 0 ? { status: 'match', length: lastEnd, calls } : { status: 'reject', length: step.invalid }
      calls.push(...step.calls)
      lastEnd = step.end
      // Llama 3 (SGLang) separates parallel calls with `;`.
      const next = skipSpaces(text, step.end)
      if (next >= text.length) return context.final ? { status: 'match', length: lastEnd, calls } : { status: 'partial' }
      if (text[next] !== ';') {
        // A closer whose opener was lost (`{…}\n</tool_call>`) or an end token goes with the call.
        const closerAt = skipWhitespace(text, step.end)
        const closer = whichLiteralAt(text, closerAt, ORPHAN_CLOSERS)
        if (closer === PARTIAL) return context.final ? { status: 'match', length: lastEnd, calls } : { status: 'partial' }
        if (closer !== NO) return { status: 'match', length: closerAt + ORPHAN_CLOSERS[closer]!.length, calls }
        return { status: 'match', length: lastEnd, calls }
      }
      pos = skipSpaces(text, next + 1)
      if (pos >= text.length) return context.final ? { status: 'match', length: lastEnd, calls } : { status: 'partial' }
    }
  },
}

function finish(calls: ParsedCall[], lastEnd: number, text: string): MatchResult {
  return calls.length > 0 ? { status: 'match', length: lastEnd, calls } : { status: 'reject', length: text.length }
}

function listHead(text: string, pos: number, context: MatchContext): number {
  const i = skipWhitespace(text, pos + 1)
  if (i >= text.length) return PARTIAL
  return text[i] === '{' ? callObjectHead(text, i, context) : NO
}
