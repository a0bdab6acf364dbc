/**
 * Lenient JSON for model-written tool-call arguments: strict JSON first, then json5 (single quotes,
 * trailing commas, unquoted keys, comments), then repairs models need (Python `True`/`False`/`None`,
 * raw newlines inside strings, HTML entities, a surrounding Markdown fence).
 * @module
 */
import JSON5 from 'json5'
import type { JsonValue } from '../openai/types.js'

/** Result of `parseFlexibleJson`. Never throws, never echoes the input. */
export type FlexibleJsonResult = { ok: true; value: JsonValue } | { ok: false }

const ENTITY = /&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|(quot|apos|amp|lt|gt|nbsp));/g
const NAMED: Record<string, string> = { quot: '"', apos: "'", amp: '&', lt: '<', gt: '>', nbsp: '\u00a0' }

/** Decodes the HTML entities models write (`&quot;`, `&#39;`, `&amp;`, `&lt;`, `&gt;`, numeric ones). */
export function decodeHtmlEntities(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(ENTITY, (whole, decimal: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (name !== undefined) return NAMED[name] ?? whole
    const code = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex ?? '', 16)
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole
  })
}

/**
 * Rewrites Python literals outside strings (`True`→`true`, `False`→`false`, `None`→`null`), turns
 * and escapes raw control characters inside strings, so json5
 * can read a Python-repr value.
 */
export function repairPythonish(text: string): string {
  let out = ''
  let quote = 0
  let escape = false
  let i = 0
  while (i < text.length) {
    const code = text.charCodeAt(i)
    const char = text[i]!
    if (quote !== 0) {
      if (escape) escape = false
      else if (code === 92) escape = true
      else if (code === quote) quote = 0
      if (code === 10) out += '\\n'
      else if (code === 13) out += '\\r'
      else if (code === 9) out += '\\t'
      else out += char
      i++
      continue
    }
    if (code === 34 || code === 39) {
      quote = code
      out += char
      i++
      continue
    }
    if (isWordStart(code) && (i === 0 || !isWordChar(text.charCodeAt(i - 1)))) {
      let end = i + 1
      while (end < text.length && isWordChar(text.charCodeAt(end))) end++
      const word = text.slice(i, end)
      out += word === 'True' ? 'true' : word === 'False' ? 'false' : word === 'None' ? 'null' : word
      i = end
      continue
    }
    out += char
    i++
  }
  return out
}

function isWordStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95
}

function isWordChar(code: number): boolean {
  return isWordStart(code) || (code >= 48 && code <= 57) || code === 36
}

function tryJson(text: string): FlexibleJsonResult {
  try {
    return { ok: true, value: JSON.parse(text) as JsonValue }
  } catch {
    return { ok: false }
  }
}

function tryJson5(text: string): FlexibleJsonResult {
  try {
    const value = JSON5.parse<JsonValue>(text)
    return value === undefined ? { ok: false } : { ok: true, value }
  } catch {
    return { ok: false }
  }
}

/** Removes one surrounding Markdown code fence (```` ```json … ``` ````), if the text has one. */
export function stripFence(text: string): string {
  const trimmed = text.trim()
  if (!trimmed.startsWith('```')) return trimmed
  const firstLine = trimmed.indexOf('\n')
  if (firstLine < 0) return trimmed
  let body = trimmed.slice(firstLine + 1)
  if (body.trimEnd().endsWith('```')) body = body.trimEnd().slice(0, -3)
  return body.trim()
}

/**
 * Parses model-written JSON leniently. Tries, in order: strict JSON, json5, Python-literal and
 * control-character repair, then the same after decoding HTML entities and removing a fence.
 * @example parseFlexibleJson("{'a': True, 'b': [1, 2,],}") // { ok: true, value: { a: true, b: [1, 2] } }
 */
export function parseFlexibleJson(text: string): FlexibleJsonResult {
  const strict = tryJson(text)
  if (strict.ok) return strict
  const trimmed = stripFence(text)
  if (trimmed === '') return { ok: false }
  const attempts = [trimmed]
  const decoded = decodeHtmlEntities(trimmed)
  if (decoded !== trimmed) attempts.push(decoded)
  for (const attempt of attempts) {
    const loose = tryJson5(attempt)
    if (loose.ok) return loose
    const repaired = tryJson5(repairPythonish(attempt))
    if (repaired.ok) return repaired
  }
  return { ok: false }
}
