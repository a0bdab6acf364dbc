/**
 * Typing raw XML parameter values (`<parameter=days>3</parameter>`) from the tool's JSON schema,
 * as Qwen3-Coder, GLM, MiniMax, DSML and similar formats need.
 * @module
 */
import type { JsonValue } from '../openai/types.js'
import { parseFlexibleJson } from './flexible-json.js'
import type { DeclaredTools } from './formats/types.js'

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The schema of property `key` of tool `toolName`'s arguments, if declared. */
export function propertySchema(tools: DeclaredTools, toolName: string, key: string): Record<string, unknown> | undefined {
  const resolved = tools.resolve(toolName)
  if (resolved === undefined) return undefined
  const properties = tools.schema(resolved)?.properties
  if (!isRecord(properties)) return undefined
  const property = properties[key]
  return isRecord(property) ? property : undefined
}

/** Removes one framing newline (LF or CRLF) at each end of an XML value. */
export function trimFramingNewlines(raw: string): string {
  let value = raw
  if (value.startsWith('\r\n')) value = value.slice(2)
  else if (value.startsWith('\n')) value = value.slice(1)
  if (value.endsWith('\r\n')) value = value.slice(0, -2)
  else if (value.endsWith('\n')) value = value.slice(0, -1)
  return value
}

function normaliseType(type: string): string {
  const t = type.toLowerCase()
  if (t === 'str' || t === 'text' || t === 'varchar' || t === 'enum' || t === 'char' || t === 'string') return 'string'
  if (t.startsWith('int') || t.startsWith('uint') || t.startsWith('long') || t === 'short') return 'integer'
  if (t.startsWith('num') || t.startsWith('float') || t === 'double' || t === 'decimal') return 'number'
  if (t.startsWith('bool')) return 'boolean'
  if (t === 'list' || t === 'array' || t === 'tuple') return 'array'
  if (t === 'dict' || t === 'map' || t === 'object') return 'object'
  if (t === 'null' || t === 'none') return 'null'
  return t
}

/** The JSON-schema types a property allows (`type`, a `type` list, `anyOf`/`oneOf` members, `enum` values). */
export function schemaTypes(schema: Record<string, unknown> | undefined): string[] {
  if (schema === undefined) return []
  const types: string[] = []
  const add = (value: unknown): void => {
    if (typeof value === 'string') types.push(normaliseType(value))
    else if (Array.isArray(value)) for (const item of value) add(item)
  }
  add(schema.type)
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const members = schema[key]
    if (Array.isArray(members)) for (const member of members) if (isRecord(member)) add(member.type)
  }
  if (types.length === 0 && Array.isArray(schema.enum)) {
    for (const value of schema.enum) types.push(value === null ? 'null' : typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string')
  }
  if (types.length === 0 && isRecord(schema.properties)) types.push('object')
  if (types.length === 0 && isRecord(schema.items)) types.push('array')
  return [...new Set(types)]
}

function asInteger(text: string): JsonValue | undefined {
  return /^[-+]?\d+$/.test(text) ? Number.parseInt(text, 10) : undefined
}

function asNumber(text: string): JsonValue | undefined {
  if (!/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(text)) return undefined
  const value = Number(text)
  return Number.isFinite(value) ? value : undefined
}

function asBoolean(text: string): JsonValue | undefined {
  const t = text.toLowerCase()
  return t === 'true' ? true : t === 'false' ? false : undefined
}

function asJson(text: string, want: 'object' | 'array' | 'any'): JsonValue | undefined {
  const parsed = parseFlexibleJson(text)
  if (!parsed.ok) return undefined
  const value = parsed.value
  if (want === 'object') return isRecord(value) ? value : undefined
  if (want === 'array') return Array.isArray(value) ? value : undefined
  return value
}

/** Options of `typeXmlValue`. */
export interface TypeXmlValueOptions {
  /**
   * What a value with no schema type becomes: `'string'` keeps the text (Qwen3-Coder); `'json'`
   * decodes it when it is JSON and keeps the text otherwise (GLM, DSML `string="false"`).
   * @default 'string'
   */
  untyped?: 'string' | 'json' | undefined
}

/**
 * Types a raw XML value from its property schema: integer, number, boolean, object and array
 * values are decoded (JSON, then json5/Python literals), `null`/`None` becomes null when the
 * schema allows it; a value that does not fit its type stays the raw string. Union types are tried
 * in the order boolean, integer, number, object/array, string.
 * Call `trimFramingNewlines` first for formats that put the value on its own lines.
 * @example typeXmlValue('3', { type: 'integer' }) // 3
 */
export function typeXmlValue(raw: string, schema: Record<string, unknown> | undefined, options: TypeXmlValueOptions = {}): JsonValue {
  const { untyped = 'string' } = options
  const types = schemaTypes(schema)
  const text = raw.trim()
  if (types.length === 0) {
    if (untyped === 'string') return raw
    return asJson(text, 'any') ?? raw
  }
  if (types.includes('null') && (text === 'null' || text === 'None')) return null
  if (types.length === 1 && types[0] === 'string') return raw
  const order = ['boolean', 'integer', 'number', 'object', 'array']
  for (const type of order) {
    if (!types.includes(type)) continue
    const value =
      type === 'boolean' ? asBoolean(text)
      : type === 'integer' ? asInteger(text) ?? (types.includes('number') ? undefined : integralNumber(text))
      : type === 'number' ? asNumber(text)
      : asJson(text, type === 'object' ? 'object' : 'array')
    if (value !== undefined) return value
  }
  return raw
}

function integralNumber(text: string): JsonValue | undefined {
  const value = asNumber(text)
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined
}
