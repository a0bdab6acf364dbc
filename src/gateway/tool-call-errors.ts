/**
 * The structured errors the tool loop itself gives the model as tool messages (the registry
 * gives its own for validation and the tool's failures): a call to a tool that does not exist,
 * and a call whose arguments could not be read, with an example of the right form. Pure.
 * @module
 */
import type { ToolDefinition } from '../openai/types.js'
import type { ToolError, ToolOutcome } from '../tools/types.js'

/** Most characters of the model's broken call text quoted back to it. */
const MAX_QUOTED_CHARS = 500

/** `unknown_tool`: the model is told the tool does not exist, and which do. */
export function unknownToolError(name: string, available: readonly string[]): ToolError {
  return { code: 'unknown_tool', message: `There is no tool named ${JSON.stringify(name)}. Call one of the available tools, or answer without tools.`, available: [...available] }
}

/**
 * `tool_args_parse_error`: the arguments of a call to `name` could not be read; `example` shows
 * a call of the right form (from the tool's schema when the tool is known).
 */
export function argsParseError(name: string | undefined, detail: { reason: string; text?: string | undefined; format?: string | undefined }, tools: readonly ToolDefinition[]): ToolError {
  const tool = name === undefined ? undefined : tools.find((candidate) => candidate.function.name === name)
  const example = { name: tool?.function.name ?? tools[0]?.function.name ?? 'tool_name', arguments: exampleArguments(tool?.function.parameters) }
  const error: ToolError = {
    code: 'tool_args_parse_error',
    message: `The call${name === undefined ? '' : ` to ${name}`} could not be read (${detail.reason}). Call it again with the arguments as one JSON object, as in the example.`,
    example,
  }
  if (detail.format !== undefined) error.format = detail.format
  if (detail.text !== undefined && detail.text !== '') error.text = detail.text.length > MAX_QUOTED_CHARS ? `${detail.text.slice(0, MAX_QUOTED_CHARS)}…` : detail.text
  return error
}

/** A failed outcome that no tool server produced (the loop's own errors). */
export function errorOutcome(name: string, error: ToolError): ToolOutcome {
  // The registry's shape for its own errors: the error object itself.
  const content = JSON.stringify(error)
  return { name, ok: false, content, error, truncated: false, bytes: byteLength(content), durationMs: 0 }
}

/** Example arguments from a JSON schema: a value per required field (every field when none is required). */
export function exampleArguments(schema: Record<string, unknown> | undefined): Record<string, unknown> {
  return objectExample(schema, 0)
}

function objectExample(schema: Record<string, unknown> | undefined, depth: number): Record<string, unknown> {
  const properties = isRecord(schema?.properties) ? schema.properties : {}
  const required = Array.isArray(schema?.required) ? (schema.required as unknown[]).filter((item): item is string => typeof item === 'string') : []
  const names = required.length > 0 ? required : Object.keys(properties).slice(0, 8)
  const example: Record<string, unknown> = {}
  for (const field of names) example[field] = exampleValue(properties[field], depth + 1)
  return example
}

function exampleValue(schema: unknown, depth: number): unknown {
  if (!isRecord(schema)) return '<value>'
  if (schema.default !== undefined) return schema.default
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0]
  if (schema.const !== undefined) return schema.const
  const variants = schema.anyOf ?? schema.oneOf
  if (Array.isArray(variants)) {
    const first = variants.find((variant) => !(isRecord(variant) && variant.type === 'null'))
    return exampleValue(first, depth)
  }
  const type = Array.isArray(schema.type) ? schema.type.find((item) => item !== 'null') : schema.type
  switch (type) {
    case 'integer':
    case 'number':
      return 1
    case 'boolean':
      return true
    case 'array':
      return depth > 3 ? [] : [exampleValue(schema.items, depth + 1)]
    case 'object':
      return depth > 3 ? {} : objectExample(schema, depth)
    default:
      return '<string>'
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const encoder = new TextEncoder()

function byteLength(text: string): number {
  return encoder.encode(text).byteLength
}
