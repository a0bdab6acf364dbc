/**
 * Gemma 4: `<|tool_call>call:NAME{key:<|"|>text<|"|>,n:3}<tool_call|>` — unquoted keys, strings
 * between `<|"|>` delimiters, bare numbers and booleans, nested `{}`/`[]`. Also the stripped form
 * (special tokens decoded away) `call:NAME{city:Austin}` (weak) and FunctionGemma's
 * `<start_function_call>call:NAME{…}<end_function_call>` with `<escape>` string delimiters.
 * @module
 */
import type { JsonValue } from '../../openai/types.js'
import { pythonValueAt } from '../python-call.js'
import { NO, PARTIAL, identifierEnd, literalAt, skipWhitespace } from '../scan.js'
import type { JsonObject, MatchContext, MatchResult, ParsedCall, ToolCallFormat } from './types.js'

type ValueStep = { value: JsonValue; end: number } | number

function bareValue(text: string, pos: number): ValueStep {
  let i = pos
  while (i < text.length && text[i] !== ',' && text[i] !== '}' && text[i] !== ']') i++
  if (i >= text.length) return PARTIAL
  const raw = text.slice(pos, i).trim()
  if (raw === '') return NO
  if (raw === 'true' || raw === 'True') return { value: true, end: i }
  if (raw === 'false' || raw === 'False') return { value: false, end: i }
  if (raw === 'null' || raw === 'None') return { value: null, end: i }
  if (/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(raw)) return { value: Number(raw), end: i }
  return { value: raw, end: i }
}

/** A Gemma value at `pos`: delimited string, JSON string, object, array or bare token. */
export function gemmaValueAt(text: string, pos: number, delimiter: string): ValueStep {
  const i = skipWhitespace(text, pos)
  if (i >= text.length) return PARTIAL
  const open = literalAt(text, i, delimiter)
  if (open === PARTIAL) return PARTIAL
  if (open !== NO) {
    const close = text.indexOf(delimiter, open)
    return close < 0 ? PARTIAL : { value: text.slice(open, close), end: close + delimiter.length }
  }
  const char = text[i]
  if (char === '"' || char === "'") return pythonValueAt(text, i)
  if (char === '{') return gemmaObjectAt(text, i, delimiter)
  if (char === '[') {
    const items: JsonValue[] = []
    let k = skipWhitespace(text, i + 1)
    for (;;) {
      if (k >= text.length) return PARTIAL
      if (text[k] === ']') return { value: items, end: k + 1 }
      const item = gemmaValueAt(text, k, delimiter)
      if (typeof item === 'number') return item
      items.push(item.value)
      k = skipWhitespace(text, item.end)
      if (k >= text.length) return PARTIAL
      if (text[k] === ',') k = skipWhitespace(text, k + 1)
      else if (text[k] !== ']') return NO
    }
  }
  return bareValue(text, i)
}

/** A Gemma object `{key:value,…}` at `pos` (which must be `{`). */
export function gemmaObjectAt(text: string, pos: number, delimiter: string): { value: JsonObject; end: number } | number {
  const out: JsonObject = {}
  let i = skipWhitespace(text, pos + 1)
  for (;;) {
    if (i >= text.length) return PARTIAL
    if (text[i] === '}') return { value: out, end: i + 1 }
    let key: string
    const delimited = literalAt(text, i, delimiter)
    if (delimited === PARTIAL) return PARTIAL
    if (delimited !== NO || text[i] === '"' || text[i] === "'") {
      const step = gemmaValueAt(text, i, delimiter)
      if (typeof step === 'number') return step
      if (typeof step.value !== 'string') return NO
      key = step.value
      i = step.end
    } else {
      const end = identifierEnd(text, i, '-.')
      if (end === PARTIAL || end === NO) return end
      key = text.slice(i, end)
      i = end
    }
    i = skipWhitespace(text, i)
    if (i >= text.length) return PARTIAL
    if (text[i] !== ':' && text[i] !== '=') return NO
    const value = gemmaValueAt(text, i + 1, delimiter)
    if (typeof value === 'number') return value
    out[key] = value.value
    i = skipWhitespace(text, value.end)
    if (i >= text.length) return PARTIAL
    if (text[i] === ',') i = skipWhitespace(text, i + 1)
    else if (text[i] !== '}') return NO
  }
}

/** `call:NAME{…}` calls from `pos` (separated by whitespace or commas), then an optional `close`. */
function gemmaCalls(text: string, start: number, close: string | undefined, delimiter: string, context: MatchContext): MatchResult {
  const calls: ParsedCall[] = []
  let lastEnd = start
  let pos = skipWhitespace(text, start)
  const done = (): MatchResult => (calls.length > 0 ? { status: 'match', length: lastEnd, calls } : { status: 'reject', length: context.final ? text.length : undefined })
  for (;;) {
    if (pos >= text.length) return context.final ? done() : { status: 'partial' }
    if (close !== undefined) {
      const closed = literalAt(text, pos, close)
      if (closed === PARTIAL) return context.final ? done() : { status: 'partial' }
      if (closed !== NO) return calls.length > 0 ? { status: 'match', length: closed, calls } : { status: 'reject', length: closed }
    }
    const call = literalAt(text, pos, 'call:')
    if (call === PARTIAL) return context.final ? done() : { status: 'partial' }
    if (call === NO) return done()
    const nameEnd = identifierEnd(text, call, '-.')
    if (nameEnd === PARTIAL) return context.final ? done() : { status: 'partial' }
    if (nameEnd === NO) return done()
    const name = text.slice(call, nameEnd)
    if (context.tools.resolve(name) === undefined) return calls.length > 0 ? done() : { status: 'reject' }
    const brace = skipWhitespace(text, nameEnd)
    if (brace >= text.length) return context.final ? done() : { status: 'partial' }
    if (text[brace] !== '{') return done()
    const object = gemmaObjectAt(text, brace, delimiter)
    if (object === PARTIAL) return context.final ? done() : { status: 'partial' }
    if (typeof object === 'number') return calls.length > 0 ? done() : { status: 'reject' }
    calls.push({ name, arguments: object.value })
    lastEnd = object.end
    pos = skipWhitespace(text, object.end)
    if (text[pos] === ',') pos = skipWhitespace(text, pos + 1)
    if (close === undefined) {
      // Stripped form: another `call:` may follow on the same line; anything else ends it.
      const next = literalAt(text, pos, 'call:')
      if (next === NO) return done()
    }
  }
}

function envelope(open: string, close: string, delimiter: string): ToolCallFormat['match'] {
  return (text, context) => {
    const start = literalAt(text, 0, open)
    if (start === PARTIAL) return { status: 'partial' }
    if (start === NO) return { status: 'reject' }
    return gemmaCalls(text, start, close, delimiter, context)
  }
}

/** Gemma 4 `<|tool_call>call:NAME{…}<tool_call|>`. */
export const gemma4: ToolCallFormat = {
  id: 'gemma4',
  strength: 'strong',
  starts: ['<|tool_call>'],
  match: envelope('<|tool_call>', '<tool_call|>', '<|"|>'),
}

/** Gemma 4 with special tokens stripped: `call:NAME{city:Austin}` at a line start. */
export const gemma4Stripped: ToolCallFormat = {
  id: 'gemma4_stripped',
  strength: 'weak',
  starts: ['call:'],
  match: (text, context) => gemmaCalls(text, 0, undefined, '<|"|>', context),
}

/** FunctionGemma `<start_function_call>call:NAME{k:<escape>v<escape>}<end_function_call>`. */
export const functionGemma: ToolCallFormat = {
  id: 'functiongemma',
  strength: 'strong',
  starts: ['<start_function_call>'],
  match: envelope('<start_function_call>', '<end_function_call>', '<escape>'),
}
