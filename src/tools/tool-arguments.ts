/**
 * A tool call's arguments checked against the tool's schema with ajv before anything is sent:
 * what is wrong becomes a {@link ToolError} the model can act on (`missing_required_args` with
 * the required fields and an example value for each, `invalid_args` naming the field). ajv is
 * loaded when the first registry needs it, and each schema compiled at its tool's first call.
 * @module
 */
import type { Ajv as AjvInstance, ErrorObject, ValidateFunction } from 'ajv'
import { isJsonObject } from '../openai/parse-json.js'
import type { ToolError } from './types.js'

type Schema = Record<string, unknown>

/** Checks a tool's arguments; undefined when they are fine. */
export type ArgumentCheck = (args: Record<string, unknown>) => ToolError | undefined

/** Compiles argument checks, caching one per distinct schema text. */
export interface ArgumentChecker {
  /** The check for `schema` (compiled once per distinct schema); a schema ajv cannot compile checks nothing (`onSchemaError` says so). */
  checkFor(toolName: string, schema: Schema): Promise<ArgumentCheck>
  /** Forgets compiled schemas no longer in `keep` (their text, as `JSON.stringify` gives it). */
  retain(keep: ReadonlySet<string>): void
}

/** Creates a checker; ajv is imported on its first use. */
export function createArgumentChecker(options: { onSchemaError?: ((toolName: string, message: string) => void) | undefined } = {}): ArgumentChecker {
  let ajv: Promise<AjvInstance> | undefined
  const compiled = new Map<string, { schema: Schema; validate: ValidateFunction | undefined }>()
  const load = (): Promise<AjvInstance> =>
    (ajv ??= import('ajv').then(({ Ajv }) => new Ajv({ allErrors: true, strict: false, validateFormats: false, validateSchema: false })))
  return {
    async checkFor(toolName, schema) {
      const key = JSON.stringify(schema)
      let entry = compiled.get(key)
      if (entry === undefined) {
        const instance = await load()
        let validate: ValidateFunction | undefined
        try {
          validate = instance.compile(schema)
        } catch (error) {
          options.onSchemaError?.(toolName, error instanceof Error ? error.message : String(error))
        }
        entry = { schema, validate }
        compiled.set(key, entry)
      }
      const { validate } = entry
      return (args) => {
        if (validate === undefined || validate(args)) return undefined
        return describeErrors(toolName, schema, validate.errors ?? [])
      }
    },
    retain(keep) {
      for (const [key, entry] of compiled) {
        if (keep.has(key)) continue
        compiled.delete(key)
        // ajv caches compiled schemas by object: drop it, or every refresh would add one.
        if (entry.validate !== undefined) void ajv?.then((instance) => instance.removeSchema(entry.schema))
      }
    },
  }
}

/** The model-facing error for ajv's errors: missing fields first (they are what a model forgets most), else the first other problem. */
function describeErrors(toolName: string, schema: Schema, errors: ErrorObject[]): ToolError {
  const missing = errors.filter((error) => error.keyword === 'required')
  if (missing.length > 0) {
    const fields = missing.map((error) => joinPath(error.instancePath, String((error.params as { missingProperty?: unknown }).missingProperty)))
    const required = Array.isArray(schema.required) ? schema.required.filter((field): field is string => typeof field === 'string') : []
    const example = exampleArguments(schema)
    return {
      code: 'missing_required_args',
      message: `${toolName}: missing required argument${fields.length > 1 ? 's' : ''} ${fields.join(', ')}. Call it again with every required argument, for example ${JSON.stringify(example)}.`,
      tool: toolName,
      missing: fields,
      required,
      example,
    }
  }
  const first = errors[0]
  if (first === undefined) return { code: 'invalid_args', message: `${toolName}: the arguments do not match the tool's schema`, tool: toolName, field: '' }
  const params = first.params as { additionalProperty?: unknown; allowedValues?: unknown; allowedValue?: unknown }
  const field = first.keyword === 'additionalProperties' ? joinPath(first.instancePath, String(params.additionalProperty)) : joinPath(first.instancePath, '')
  const allowed = Array.isArray(params.allowedValues) ? params.allowedValues : params.allowedValue !== undefined ? [params.allowedValue] : undefined
  const what = first.keyword === 'additionalProperties' ? 'is not an argument of this tool' : (first.message ?? 'is not valid')
  return {
    code: 'invalid_args',
    message: `${toolName}: ${field === '' ? 'the arguments' : field} ${what}${allowed === undefined ? '' : `: ${allowed.map((value) => JSON.stringify(value)).join(', ')}`}`,
    tool: toolName,
    field,
    ...(allowed === undefined ? {} : { allowed }),
  }
}

/** `/location/lat` + `` → `location.lat`; `/items/0` + `name` → `items[0].name`. */
function joinPath(instancePath: string, property: string): string {
  const parts = instancePath === '' ? [] : instancePath.slice(1).split('/').map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
  if (property !== '') parts.push(property)
  let path = ''
  for (const part of parts) path += /^\d+$/.test(part) ? `[${part}]` : path === '' ? part : `.${part}`
  return path
}

/** An example arguments object: a value for every required field (nested required fields too). */
export function exampleArguments(schema: Schema): Record<string, unknown> {
  const value = exampleValue(schema, '', 0)
  return isJsonObject(value) ? value : {}
}

function exampleValue(schema: unknown, name: string, depth: number): unknown {
  if (!isJsonObject(schema)) return `<${name}>`
  if (schema.default !== undefined && schema.default !== null) return schema.default
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0]
  if (schema.const !== undefined) return schema.const
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum.find((value) => value !== null) ?? null
  if (Array.isArray(schema.anyOf) && schema.anyOf.length > 0) return exampleValue(schema.anyOf[0], name, depth + 1)
  const type = Array.isArray(schema.type) ? schema.type.find((entry) => entry !== 'null') : schema.type
  switch (type) {
    case 'integer':
      return typeof schema.minimum === 'number' ? Math.ceil(schema.minimum) : 1
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1.5
    case 'boolean':
      return true
    case 'array':
      return depth > 8 ? [] : [exampleValue(schema.items, name, depth + 1)]
    case 'object': {
      const result: Record<string, unknown> = {}
      if (depth > 8 || !isJsonObject(schema.properties)) return result
      const required = Array.isArray(schema.required) ? schema.required : []
      for (const field of required) if (typeof field === 'string') result[field] = exampleValue(schema.properties[field], field, depth + 1)
      return result
    }
    case 'null':
      return null
    default:
      return schema.format === 'date' ? '2026-01-31' : schema.format === 'date-time' ? '2026-01-31T12:00:00Z' : `<${name}>`
  }
}

/**
 * The arguments without `null` values of optional fields whose schema does not take `null`
 * (models write `"units": null` for "not given"; the server then applies its default), at every
 * depth the schema describes. The caller's object is not changed.
 */
export function dropOptionalNulls(value: unknown, schema: unknown): unknown {
  if (!isJsonObject(schema)) return value
  if (Array.isArray(value)) return isJsonObject(schema.items) ? value.map((item) => dropOptionalNulls(item, schema.items)) : value
  if (!isJsonObject(value) || !isJsonObject(schema.properties)) return value
  const required = Array.isArray(schema.required) ? schema.required : []
  const result: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) {
    const fieldSchema = schema.properties[key]
    if (field === null && !required.includes(key) && isJsonObject(fieldSchema) && !acceptsNull(fieldSchema)) continue
    result[key] = dropOptionalNulls(field, fieldSchema)
  }
  return result
}

function acceptsNull(schema: Schema): boolean {
  if (schema.type === undefined && schema.enum === undefined && schema.anyOf === undefined && schema.const === undefined && schema.properties === undefined) return true
  if (schema.type === 'null' || (Array.isArray(schema.type) && schema.type.includes('null'))) return true
  if (Array.isArray(schema.enum) && schema.enum.includes(null)) return true
  return Array.isArray(schema.anyOf) && schema.anyOf.some((branch) => isJsonObject(branch) && acceptsNull(branch))
}
