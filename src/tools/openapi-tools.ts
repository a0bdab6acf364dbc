/**
 * An OpenAPI document → the tools of an Open WebUI / mcpo style tool server: one tool per `POST`
 * operation (below a path prefix, when one is configured), named by its `operationId` when that is
 * a usable tool name, else by its path after the prefix. The JSON request body's properties are the
 * tool's arguments; `query` and `path` parameters join them. Pure: no I/O.
 * @module
 */
import { isJsonObject } from '../openai/parse-json.js'
import type { ToolDefinition } from '../openai/types.js'
import { isObjectSchema, resolvePointer, toToolSchema } from './openapi-schema.js'

type Schema = Record<string, unknown>

/** One tool of an OpenAPI server, and how a call of it is sent. */
export interface OpenApiTool {
  /** The tool's name (before any registry prefix). */
  name: string
  /** The operation's path template, as listed (`/tools/get_forecast`, `/items/{id}`). */
  path: string
  definition: ToolDefinition
  /** Arguments sent in the query string. */
  query: string[]
  /** Arguments filled into the path template. */
  pathParams: string[]
  /** The argument holding the whole body, when the body is not an object (undefined: the body is the other arguments). */
  bodyKey: string | undefined
  /** Whether the operation has a request body at all. */
  hasBody: boolean
}

/** What {@link openApiTools} found: the tools, and what it left out and why. */
export interface OpenApiToolsResult {
  tools: OpenApiTool[]
  skipped: string[]
}

/** A name models and the OpenAI API accept. */
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/

/**
 * The tools of an OpenAPI document.
 * @param options.pathPrefix only paths below it are tools (`/tools` → `/tools/get_forecast`), and names come from the rest of the path; undefined: every POST operation.
 */
export function openApiTools(document: unknown, options: { pathPrefix?: string | undefined } = {}): OpenApiToolsResult {
  const tools: OpenApiTool[] = []
  const skipped: string[] = []
  if (!isJsonObject(document) || !isJsonObject(document.paths)) return { tools, skipped: ['the document has no paths'] }
  const prefix = normalizePrefix(options.pathPrefix)
  const names = new Set<string>()
  for (const [path, item] of Object.entries(document.paths)) {
    if (!isJsonObject(item)) continue
    if (prefix !== '' && !(path === prefix || path.startsWith(`${prefix}/`))) continue
    const operation = item.post
    if (!isJsonObject(operation)) continue
    const name = toolName(operation.operationId, path.slice(prefix.length))
    if (name === undefined) {
      skipped.push(`POST ${path}: no usable tool name`)
      continue
    }
    if (names.has(name)) {
      skipped.push(`POST ${path}: the name ${name} is taken by another operation`)
      continue
    }
    const built = buildTool(document, path, item, operation, name)
    if (typeof built === 'string') {
      skipped.push(`POST ${path}: ${built}`)
      continue
    }
    names.add(name)
    tools.push(built)
  }
  return { tools, skipped }
}

function buildTool(document: Schema, path: string, item: Schema, operation: Schema, name: string): OpenApiTool | string {
  const properties: Schema = {}
  const required: string[] = []
  const query: string[] = []
  const pathParams: string[] = []
  let bodyKey: string | undefined
  let hasBody = false
  let additionalProperties: unknown

  const body = deref(document, operation.requestBody)
  if (isJsonObject(body) && isJsonObject(body.content)) {
    const content = body.content
    const entry = content['application/json'] ?? Object.entries(content).find(([type]) => /[/+]json\b/.test(type))?.[1]
    if (!isJsonObject(entry)) return `the request body is not JSON (${Object.keys(content).join(', ') || 'no content type'})`
    hasBody = true
    const schema = toToolSchema(entry.schema ?? {}, document)
    if (isObjectSchema(schema) || Object.keys(schema).length === 0) {
      Object.assign(properties, isJsonObject(schema.properties) ? schema.properties : {})
      if (Array.isArray(schema.required)) required.push(...schema.required.filter((field): field is string => typeof field === 'string'))
      additionalProperties = schema.additionalProperties
    } else {
      bodyKey = 'body'
      properties.body = schema
      if (body.required === true) required.push('body')
    }
  }
  for (const raw of [...asArray(item.parameters), ...asArray(operation.parameters)]) {
    const parameter = deref(document, raw)
    if (!isJsonObject(parameter) || typeof parameter.name !== 'string') continue
    const where = parameter.in
    if (where !== 'query' && where !== 'path') continue
    if (parameter.name in properties) continue
    const schema = toToolSchema(parameter.schema ?? {}, document)
    if (typeof parameter.description === 'string' && schema.description === undefined) schema.description = parameter.description
    properties[parameter.name] = schema
    if (where === 'path' || parameter.required === true) required.push(parameter.name)
    ;(where === 'path' ? pathParams : query).push(parameter.name)
  }
  for (const parameter of pathTemplateNames(path)) if (!pathParams.includes(parameter)) return `the path parameter {${parameter}} is not described`

  const parameters: Schema = { type: 'object', properties, ...(required.length > 0 ? { required: [...new Set(required)] } : {}) }
  // A body that allows no other fields says so to the model too (query and path arguments are listed).
  if (additionalProperties === false) parameters.additionalProperties = false
  const description = describe(operation)
  return {
    name,
    path,
    definition: { type: 'function', function: { name, ...(description === undefined ? {} : { description }), parameters } },
    query,
    pathParams,
    bodyKey,
    hasBody,
  }
}

/** The operation's summary and description, once each. */
function describe(operation: Schema): string | undefined {
  const parts: string[] = []
  for (const key of ['summary', 'description'] as const) {
    const text = operation[key]
    if (typeof text === 'string' && text.trim() !== '' && !parts.includes(text.trim())) parts.push(text.trim())
  }
  return parts.length === 0 ? undefined : parts.join('\n\n')
}

/** `operationId` when usable, else the path after the prefix made into a name. */
function toolName(operationId: unknown, rest: string): string | undefined {
  if (typeof operationId === 'string' && TOOL_NAME.test(operationId)) return operationId
  const fromPath = rest
    .replace(/^\/+|\/+$/g, '')
    .replace(/[{}]/g, '')
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .slice(0, 64)
  return TOOL_NAME.test(fromPath) ? fromPath : undefined
}

function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined) return ''
  const trimmed = prefix.trim().replace(/\/+$/, '')
  return trimmed === '' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`
}

function pathTemplateNames(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '')
}

function deref(document: Schema, value: unknown): unknown {
  // Parameters and request bodies may be `$ref`s too (`#/components/parameters/…`); one level, as they are in practice.
  if (isJsonObject(value) && typeof value.$ref === 'string') return resolvePointer(document, value.$ref)
  return value
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}
