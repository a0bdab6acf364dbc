/**
 * OpenAPI schemas → the JSON Schema of an OpenAI tool's `parameters`, as a model reads it best:
 * every `$ref` inlined (local JSON pointers: `#/components/schemas/…`, `#/$defs/…`), `allOf`
 * merged into one object, `anyOf`/`oneOf` with a `null` branch (pydantic's `Optional[X]`) reduced
 * to `X`, OpenAPI 3.0's `nullable` and 3.1's `type: [X, 'null']` likewise, nested objects, arrays,
 * enums, defaults, formats and bounds kept, `required` kept, titles dropped. A recursive `$ref` is
 * cut where it comes back, with a description saying so. Pure: no I/O.
 * @module
 */
import { isJsonObject } from '../openai/parse-json.js'

type Schema = Record<string, unknown>

/** Keywords copied as they are. */
const PLAIN_KEYWORDS = [
  'type',
  'format',
  'enum',
  'const',
  'default',
  'description',
  'examples',
  'minimum',
  'maximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
] as const

/** Deepest nesting expanded; deeper schemas become an object with a note (a backstop beside the recursion cut). */
const MAX_DEPTH = 24

/** What converting one schema gives: the schema, and whether `null` was one of its options. */
interface Converted {
  schema: Schema
  nullable: boolean
}

interface Context {
  /** The whole document: `$ref`s are JSON pointers into it. */
  root: unknown
  /** The `$ref`s being expanded, outermost first (a ref met again inside itself is recursive). */
  refs: readonly string[]
  depth: number
}

/**
 * Converts one OpenAPI (3.0 or 3.1) schema to plain JSON Schema, resolving `$ref`s against
 * `document` (the whole OpenAPI document).
 * @example toToolSchema({ $ref: '#/components/schemas/Forecast' }, openapiDocument)
 */
export function toToolSchema(schema: unknown, document: unknown): Schema {
  return convert(schema, { root: document, refs: [], depth: 0 }).schema
}

/**
 * Like {@link toToolSchema}, for a schema that must be a tool's `parameters`: the result always
 * has `type: 'object'` and `properties`.
 */
export function toParametersSchema(schema: unknown, document: unknown): Schema {
  const converted = toToolSchema(schema, document)
  return { ...converted, type: 'object', properties: isJsonObject(converted.properties) ? converted.properties : {} }
}

/** Whether the converted schema describes a JSON object (so it can be a tool's `parameters` as is). */
export function isObjectSchema(schema: Schema): boolean {
  return schema.type === 'object' || (schema.type === undefined && isJsonObject(schema.properties))
}

function convert(input: unknown, context: Context): Converted {
  if (!isJsonObject(input)) return { schema: {}, nullable: false }
  if (context.depth > MAX_DEPTH) return { schema: { type: 'object', description: 'Nested too deep to describe here: pass a JSON object.' }, nullable: false }
  const inner: Context = { ...context, depth: context.depth + 1 }

  if (typeof input.$ref === 'string') return convertRef(input.$ref, without(input, '$ref'), inner)

  if (Array.isArray(input.allOf)) {
    let merged: Converted = { schema: {}, nullable: true }
    for (const part of input.allOf) {
      const converted = convert(part, inner)
      merged = { schema: mergeSchemas(merged.schema, converted.schema), nullable: merged.nullable && converted.nullable }
    }
    // The keywords beside `allOf` (a field's own description, default) win over the parts'.
    const rest = convert(without(input, 'allOf'), inner)
    return { schema: mergeSchemas(merged.schema, rest.schema), nullable: (input.allOf.length > 0 && merged.nullable) || rest.nullable }
  }

  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = input[key]
    if (!Array.isArray(branches)) continue
    const options = branches.filter((branch) => !isNullSchema(branch))
    const nullable = options.length < branches.length
    const rest = convert(without(input, key), inner).schema
    if (options.length === 0) return { schema: { ...rest, type: 'null' }, nullable: true }
    if (options.length === 1) {
      const only = convert(options[0], inner)
      return { schema: mergeSchemas(only.schema, rest), nullable: nullable || only.nullable }
    }
    const converted = options.map((option) => convert(option, inner))
    return { schema: { ...rest, anyOf: converted.map((option) => option.schema) }, nullable: nullable || converted.some((option) => option.nullable) }
  }

  const schema: Schema = {}
  let nullable = input.nullable === true
  for (const keyword of PLAIN_KEYWORDS) if (input[keyword] !== undefined) schema[keyword] = input[keyword]
  if (Array.isArray(input.type)) {
    const types = input.type.filter((type) => type !== 'null')
    if (types.length < input.type.length) nullable = true
    if (types.length === 1) schema.type = types[0]
    else if (types.length === 0) schema.type = 'null'
    else schema.type = types
  }
  // OpenAPI 3.0 writes an example as `example`; JSON Schema as `examples`.
  if (schema.examples === undefined && input.example !== undefined) schema.examples = [input.example]
  if (schema.examples !== undefined && !Array.isArray(schema.examples)) delete schema.examples
  // OpenAPI 3.0's boolean exclusive bounds.
  for (const [exclusive, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    const value = input[exclusive]
    if (typeof value === 'number') schema[exclusive] = value
    else if (value === true && typeof schema[bound] === 'number') {
      schema[exclusive] = schema[bound]
      delete schema[bound]
    }
  }
  if (isJsonObject(input.properties)) {
    const required = Array.isArray(input.required) ? input.required.filter((name): name is string => typeof name === 'string') : []
    const properties: Schema = {}
    for (const [name, property] of Object.entries(input.properties)) {
      const converted = convert(property, inner)
      // A required field that may be null (pydantic `x: Optional[int]` with no default) keeps null.
      properties[name] = converted.nullable && required.includes(name) ? allowNull(converted.schema) : converted.schema
    }
    schema.properties = properties
    if (required.length > 0) schema.required = required.filter((name) => name in properties)
    if (schema.type === undefined) schema.type = 'object'
  } else if (Array.isArray(input.required) && input.required.length > 0) {
    schema.required = input.required.filter((name) => typeof name === 'string')
  }
  if (input.additionalProperties !== undefined) {
    schema.additionalProperties = typeof input.additionalProperties === 'boolean' ? input.additionalProperties : convert(input.additionalProperties, inner).schema
  }
  if (input.items !== undefined) {
    // 3.1 tuple `prefixItems` is rare in tool servers; `items` as a list is draft-04's tuple form.
    schema.items = Array.isArray(input.items) ? convert(input.items[0], inner).schema : convert(input.items, inner).schema
  }
  return { schema, nullable }
}

function convertRef(ref: string, siblings: Schema, context: Context): Converted {
  const name = ref.slice(ref.lastIndexOf('/') + 1)
  const rest = convert(siblings, context)
  if (context.refs.includes(ref)) {
    const note = `${name}: the same structure again (a recursive reference, not expanded here): pass a JSON object of that shape.`
    return { schema: { ...rest.schema, type: 'object', description: rest.schema.description === undefined ? note : `${String(rest.schema.description)} (${note})` }, nullable: rest.nullable }
  }
  const target = resolvePointer(context.root, ref)
  if (target === undefined) {
    const note = `Unresolved reference ${JSON.stringify(ref)}.`
    return { schema: { ...rest.schema, description: rest.schema.description === undefined ? note : rest.schema.description }, nullable: rest.nullable }
  }
  const resolved = convert(target, { ...context, refs: [...context.refs, ref] })
  return { schema: mergeSchemas(resolved.schema, rest.schema), nullable: resolved.nullable || rest.nullable }
}

/** Resolves a local JSON pointer (`#/components/schemas/Name`); undefined for other refs or missing targets. */
export function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined
  let node: unknown = root
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~')
    if (!isJsonObject(node) && !Array.isArray(node)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}

/**
 * Merges two converted schemas (`allOf` parts, a `$ref`'s target and the keywords beside it):
 * properties merged (recursively where both have one), `required` united, any other keyword of
 * `extra` over `base`'s.
 */
function mergeSchemas(base: Schema, extra: Schema): Schema {
  const merged: Schema = { ...base }
  for (const [key, value] of Object.entries(extra)) {
    if (key === 'properties' && isJsonObject(value) && isJsonObject(base.properties)) {
      const properties: Schema = { ...base.properties }
      for (const [name, property] of Object.entries(value)) {
        const existing = properties[name]
        properties[name] = isJsonObject(existing) && isJsonObject(property) ? mergeSchemas(existing, property) : property
      }
      merged.properties = properties
    } else if (key === 'required' && Array.isArray(value) && Array.isArray(base.required)) {
      merged.required = [...new Set([...base.required, ...value])]
    } else {
      merged[key] = value
    }
  }
  return merged
}

function allowNull(schema: Schema): Schema {
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'], ...(Array.isArray(schema.enum) ? { enum: [...schema.enum, null] } : {}) }
  if (schema.type === undefined && Object.keys(schema).length === 0) return schema
  return { anyOf: [schema, { type: 'null' }] }
}

function isNullSchema(schema: unknown): boolean {
  return isJsonObject(schema) && (schema.type === 'null' || (Array.isArray(schema.enum) && schema.enum.length === 1 && schema.enum[0] === null))
}

function without(schema: Schema, key: string): Schema {
  const { [key]: _dropped, ...rest } = schema
  return rest
}
