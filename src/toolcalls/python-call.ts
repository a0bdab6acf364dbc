/**
 * Python-style calls as pythonic tool-call formats write them: `get_weather(city='Paris', days=3)`,
 * lists of them `[f(a=1), g()]`. Values are Python or JSON literals (strings in any quotes, triple
 * quotes, numbers with leading zeros, `True`/`False`/`None`, `true`/`false`/`null`, lists, tuples,
 * dicts); keyword arguments only. Chunk-safe: `PARTIAL` when the text ends first.
 * @module
 */
import type { JsonValue } from '../openai/types.js'
import type { JsonObject } from './formats/types.js'
import { NO, PARTIAL, skipWhitespace } from './scan.js'

/** A parsed value and where it ended, or `PARTIAL` / `NO`. */
type ValueStep = { value: JsonValue; end: number } | number

const isIdentStart = (code: number): boolean => (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code > 127
const isIdentChar = (code: number): boolean => isIdentStart(code) || (code >= 48 && code <= 57)

function identifierAt(text: string, pos: number, dots: boolean): number {
  if (pos >= text.length) return PARTIAL
  if (!isIdentStart(text.charCodeAt(pos))) return NO
  let i = pos + 1
  while (i < text.length) {
    const code = text.charCodeAt(i)
    if (isIdentChar(code) || (dots && (code === 46 || code === 45))) i++
    else break
  }
  return i === text.length ? PARTIAL : i
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0', '\\': '\\', "'": "'", '"': '"', '\n': '' }

function stringAt(text: string, pos: number): ValueStep {
  const quote = text[pos]!
  const triple = text.startsWith(quote.repeat(3), pos)
  if (!triple && text.length - pos < 3 && (text.slice(pos) === quote || text.slice(pos) === quote + quote)) return PARTIAL
  const close = triple ? quote.repeat(3) : quote
  let i = pos + close.length
  let out = ''
  while (i < text.length) {
    const char = text[i]!
    if (char === '\\') {
      if (i + 1 >= text.length) return PARTIAL
      const next = text[i + 1]!
      if (next === 'u' || next === 'x') {
        const size = next === 'u' ? 4 : 2
        if (i + 2 + size > text.length) return PARTIAL
        const hex = text.slice(i + 2, i + 2 + size)
        if (!/^[0-9a-fA-F]+$/.test(hex)) return NO
        out += String.fromCharCode(Number.parseInt(hex, 16))
        i += 2 + size
        continue
      }
      out += ESCAPES[next] ?? '\\' + next
      i += 2
      continue
    }
    if (text.startsWith(close, i)) return { value: out, end: i + close.length }
    if (triple && text.length - i < 3 && close.startsWith(text.slice(i))) return PARTIAL
    out += char
    i++
  }
  return PARTIAL
}

function numberAt(text: string, pos: number): ValueStep {
  const match = /^[-+]?(?:\d[\d_]*)?(?:\.\d*)?(?:[eE][-+]?\d+)?/.exec(text.slice(pos, pos + 64))
  const literal = match?.[0] ?? ''
  if (literal === '' || literal === '-' || literal === '+' || literal === '.') return text.length - pos <= 1 ? PARTIAL : NO
  const end = pos + literal.length
  if (end >= text.length) return PARTIAL
  const value = Number(literal.replaceAll('_', ''))
  return Number.isFinite(value) ? { value, end } : NO
}

const WORDS: Record<string, JsonValue> = { True: true, False: false, None: null, true: true, false: false, null: null }

function sequenceAt(text: string, pos: number, close: string): ValueStep {
  const items: JsonValue[] = []
  let i = skipWhitespace(text, pos + 1)
  for (;;) {
    if (i >= text.length) return PARTIAL
    if (text[i] === close) return { value: items, end: i + 1 }
    const item = pythonValueAt(text, i)
    if (typeof item === 'number') return item
    items.push(item.value)
    i = skipWhitespace(text, item.end)
    if (i >= text.length) return PARTIAL
    if (text[i] === ',') i = skipWhitespace(text, i + 1)
    else if (text[i] !== close) return NO
  }
}

function dictAt(text: string, pos: number): ValueStep {
  const out: JsonObject = {}
  let i = skipWhitespace(text, pos + 1)
  for (;;) {
    if (i >= text.length) return PARTIAL
    if (text[i] === '}') return { value: out, end: i + 1 }
    let key: string
    const code = text.charCodeAt(i)
    if (code === 34 || code === 39) {
      const step = stringAt(text, i)
      if (typeof step === 'number') return step
      key = step.value as string
      i = step.end
    } else {
      // JS-style bare keys (`{city: "x"}`) and numeric keys.
      const end = identifierAt(text, i, false)
      if (end === PARTIAL || end === NO) {
        const number = numberAt(text, i)
        if (typeof number === 'number') return number
        key = String(number.value)
        i = number.end
      } else {
        key = text.slice(i, end)
        i = end
      }
    }
    i = skipWhitespace(text, i)
    if (i >= text.length) return PARTIAL
    if (text[i] !== ':') return NO
    const value = pythonValueAt(text, skipWhitespace(text, i + 1))
    if (typeof value === 'number') return value
    out[key] = value.value
    i = skipWhitespace(text, value.end)
    if (i >= text.length) return PARTIAL
    if (text[i] === ',') i = skipWhitespace(text, i + 1)
    else if (text[i] !== '}') return NO
  }
}

/** A Python/JSON literal at `pos` (leading whitespace allowed) → `{ value, end }`, `PARTIAL` or `NO`. */
export function pythonValueAt(text: string, pos: number): ValueStep {
  const i = skipWhitespace(text, pos)
  if (i >= text.length) return PARTIAL
  const char = text[i]!
  if (char === '"' || char === "'") return stringAt(text, i)
  if (char === '[') return sequenceAt(text, i, ']')
  if (char === '(') return sequenceAt(text, i, ')')
  if (char === '{') return dictAt(text, i)
  if (char === '-' || char === '+' || char === '.' || (char >= '0' && char <= '9')) return numberAt(text, i)
  const end = identifierAt(text, i, false)
  if (end === PARTIAL) return 'True'.startsWith(text.slice(i)) || 'False'.startsWith(text.slice(i)) || 'None'.startsWith(text.slice(i)) || 'true'.startsWith(text.slice(i)) || 'false'.startsWith(text.slice(i)) || 'null'.startsWith(text.slice(i)) ? PARTIAL : NO
  if (end === NO) return NO
  const word = text.slice(i, end)
  return word in WORDS ? { value: WORDS[word]!, end } : NO
}

/** One parsed call. */
export interface PythonCall {
  name: string
  arguments: JsonObject
  /** Index just after the closing `)`. */
  end: number
}

/**
 * The call `name(key=value, …)` at `pos` (no leading whitespace). Names may contain `.` and `-`.
 * Positional arguments are not supported (`NO`). A lone `name` with no `(` is `NO`.
 * @example pythonCallAt("get_weather(city='Paris')", 0) // { name: 'get_weather', arguments: { city: 'Paris' }, end: 25 }
 */
export function pythonCallAt(text: string, pos: number): PythonCall | number {
  const nameEnd = identifierAt(text, pos, true)
  if (nameEnd === PARTIAL || nameEnd === NO) return nameEnd
  const name = text.slice(pos, nameEnd)
  let i = skipWhitespace(text, nameEnd)
  if (i >= text.length) return PARTIAL
  if (text[i] !== '(') return NO
  i = skipWhitespace(text, i + 1)
  const args: JsonObject = {}
  for (;;) {
    if (i >= text.length) return PARTIAL
    if (text[i] === ')') return { name, arguments: args, end: i + 1 }
    const keyEnd = identifierAt(text, i, false)
    if (keyEnd === PARTIAL || keyEnd === NO) return keyEnd
    const key = text.slice(i, keyEnd)
    i = skipWhitespace(text, keyEnd)
    if (i >= text.length) return PARTIAL
    if (text[i] !== '=' || text[i + 1] === '=') return i + 1 >= text.length ? PARTIAL : NO
    const value = pythonValueAt(text, i + 1)
    if (typeof value === 'number') return value
    args[key] = value.value
    i = skipWhitespace(text, value.end)
    if (i >= text.length) return PARTIAL
    if (text[i] === ',') i = skipWhitespace(text, i + 1)
    else if (text[i] !== ')') return NO
  }
}

/**
 * A list of calls `[f(a=1), g()]` at `pos` (which must be `[`) → `{ calls, end }`, `PARTIAL` or `NO`.
 * Items are separated by commas (newlines allowed); an empty list is `NO`.
 */
export function pythonCallListAt(text: string, pos: number): { calls: PythonCall[]; end: number } | number {
  if (pos >= text.length) return PARTIAL
  if (text[pos] !== '[') return NO
  const calls: PythonCall[] = []
  let i = skipWhitespace(text, pos + 1)
  for (;;) {
    if (i >= text.length) return PARTIAL
    if (text[i] === ']') return calls.length > 0 ? { calls, end: i + 1 } : NO
    const call = pythonCallAt(text, i)
    if (typeof call === 'number') return call
    calls.push(call)
    i = skipWhitespace(text, call.end)
    if (i >= text.length) return PARTIAL
    if (text[i] === ',') i = skipWhitespace(text, i + 1)
    else if (text[i] !== ']') return NO
  }
}
