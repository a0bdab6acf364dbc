/**
 * Turning decoded JSON into calls: which objects are calls (`{name, arguments}`, `parameters`
 * synonym, OpenAI `{type, function}` wrapper, `{"tool_calls": […]}`) and which are just data.
 * @module
 */
import type { JsonValue } from '../openai/types.js'
import { parseFlexibleJson } from './flexible-json.js'
import type { JsonObject, ParsedCall } from './formats/types.js'

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The arguments object from whatever a model wrote: an object as is; a JSON, json5 or Python-repr
 * string decoded (once more if it decodes to a string); `null`, `undefined` or a blank string → `{}`.
 * Anything else (a number, a list, undecodable text) → `undefined`.
 */
export function toArguments(value: unknown): JsonObject | undefined {
  if (value === undefined || value === null) return {}
  if (isJsonObject(value)) return value
  if (typeof value !== 'string') return undefined
  if (value.trim() === '') return {}
  const parsed = parseFlexibleJson(value)
  if (!parsed.ok) return undefined
  if (typeof parsed.value === 'string' && parsed.value !== value) return toArguments(parsed.value)
  return isJsonObject(parsed.value) ? parsed.value : undefined
}

/** Options of `callFromObject` / `callsFromJson`. */
export interface CallShapeOptions {
  /**
   * Require an `arguments`/`parameters` key. Bare JSON outside an envelope should (a lone
   * `{"name": …}` is more often data); inside an envelope (`<tool_call>`) it need not.
   * @default false
   */
  requireArguments?: boolean | undefined
}

const CALL_KEYS = new Set(['name', 'arguments', 'parameters', 'id', 'type', 'function', 'call_id', 'tool_call_id'])

/**
 * A call from one object, or `undefined` when the object is not call-shaped. Accepted:
 * `{name, arguments}` / `{name, parameters}` (arguments object or JSON string), optionally with
 * `id` and `type: "function"`; the OpenAI shape `{id?, type?, function: {name, arguments}}`. Any
 * other key makes it data.
 */
export function callFromObject(value: unknown, options: CallShapeOptions = {}): ParsedCall | undefined {
  const { requireArguments = false } = options
  if (!isJsonObject(value)) return undefined
  for (const key of Object.keys(value)) if (!CALL_KEYS.has(key)) return undefined
  if (value.type !== undefined && value.type !== 'function') return undefined
  const fn = value.function
  if (isJsonObject(fn)) {
    if (value.name !== undefined || value.arguments !== undefined || value.parameters !== undefined) return undefined
    for (const key of Object.keys(fn)) if (key !== 'name' && key !== 'arguments' && key !== 'parameters' && key !== 'description') return undefined
    return fromParts(fn.name, 'arguments' in fn ? fn.arguments : fn.parameters, requireArguments && !('arguments' in fn) && !('parameters' in fn))
  }
  if (fn !== undefined) return undefined
  const hasArguments = 'arguments' in value || 'parameters' in value
  return fromParts(value.name, 'arguments' in value ? value.arguments : value.parameters, requireArguments && !hasArguments)
}

function fromParts(name: JsonValue | undefined, rawArguments: JsonValue | undefined, missing: boolean): ParsedCall | undefined {
  if (missing || typeof name !== 'string') return undefined
  const trimmed = name.trim()
  if (trimmed === '' || trimmed.toLowerCase() === 'none') return undefined
  const args = toArguments(rawArguments)
  return args === undefined ? undefined : { name: trimmed, arguments: args }
}

/**
 * Calls from a decoded JSON value: a call object, a list of them, `{"tool_calls": [...]}` or
 * `{"tool_call": {...}}`. Every item must be a call, else `undefined` (the text is data).
 */
export function callsFromJson(value: JsonValue, options: CallShapeOptions = {}): ParsedCall[] | undefined {
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined
    const calls: ParsedCall[] = []
    for (const item of value) {
      const call = callFromObject(item, options)
      if (call === undefined) return undefined
      calls.push(call)
    }
    return calls
  }
  if (!isJsonObject(value)) return undefined
  const keys = Object.keys(value)
  if (keys.length === 1 && keys[0] === 'tool_calls' && Array.isArray(value.tool_calls)) return callsFromJson(value.tool_calls, options)
  if (keys.length === 1 && keys[0] === 'tool_call' && isJsonObject(value.tool_call)) return callsFromJson(value.tool_call, options)
  const call = callFromObject(value, options)
  return call === undefined ? undefined : [call]
}

/** `callsFromJson` over text: parse leniently first. `undefined` when not JSON or not calls. */
export function callsFromJsonText(text: string, options: CallShapeOptions = {}): ParsedCall[] | undefined {
  const parsed = parseFlexibleJson(text)
  return parsed.ok ? callsFromJson(parsed.value, options) : undefined
}
