/**
 * One OpenAPI tool server (Open WebUI / mcpo style) as a {@link ToolSource}: `GET {url}/openapi.json`
 * lists the tools (openapi-tools.ts), a call is a `POST` of the arguments as JSON to the listed
 * operation's path below the configured URL. Safety: only listed operations are called, only at
 * the configured URL (the document's `servers` are ignored, redirects are not followed); the only
 * credentials sent are the server's own (its bearer key, or the URL's user and password), never
 * anything of the client's request. Every read is capped.
 * @module
 */
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'
import type { ToolDefinition } from '../openai/types.js'
import { openApiTools } from './openapi-tools.js'
import type { OpenApiTool } from './openapi-tools.js'
import { readCapped } from './read-capped.js'
import { parseServerUrl } from './server-url.js'
import { ToolCallError } from './tool-call-error.js'
import type { ToolCallOptions, ToolSource } from './types.js'

/** One OpenAPI tool server's configuration. */
export interface OpenApiServerOptions {
  /** The server's base URL; `{url}/openapi.json` describes it. */
  url: string
  /** Only POST operations below this path are tools (`/tools`), named after the rest of the path. @default every POST operation */
  prefix?: string | undefined
  /** Sent as `Authorization: Bearer <apiKey>` to this server only. Never logged. */
  apiKey?: string | undefined
  /** A name for messages and logs. @default the URL without credentials or query */
  name?: string | undefined
  /** The registry puts this and `__` before each tool's name (`weather` → `weather__get_forecast`). @default none */
  namePrefix?: string | undefined
}

/** Options of {@link createOpenApiSource}. */
export interface OpenApiSourceOptions extends OpenApiServerOptions {
  /** Largest `openapi.json` read, in bytes. @default 4 MiB */
  maxSchemaBytes?: number | undefined
  /** Largest result read when a call does not say, in bytes. @default 1 MiB */
  maxResultBytes?: number | undefined
  /** Told about operations left out (no usable name, a body that is not JSON), once each. */
  onWarning?: ((message: string) => void) | undefined
  /** The fetch used. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch | undefined
}

/** Bytes of an error answer passed on to the model. */
export const ERROR_BODY_BYTES = 2048

/** An OpenAPI tool server as a tool source. */
export function createOpenApiSource(options: OpenApiSourceOptions): ToolSource {
  const { prefix, apiKey, maxSchemaBytes = 4 * 1024 * 1024, maxResultBytes = 1024 * 1024, onWarning, fetch = globalThis.fetch } = options
  const { base, basePath, id: urlId, authorization: urlAuthorization } = parseServerUrl(options.url, 'toolServers')
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey === '' || /[\r\n]/.test(apiKey))) throw new TypeError(`toolServers[${urlId}].apiKey: expected a non-empty string`)
  const id = options.name ?? urlId
  const authorization = apiKey === undefined ? urlAuthorization : `Bearer ${apiKey}`
  const warned = new Set<string>()
  let tools = new Map<string, OpenApiTool>()

  const urlFor = (path: string): URL => {
    const url = new URL(base)
    url.pathname = `${basePath}${path}`
    return url
  }
  const headers = (json: boolean): Record<string, string> => ({
    accept: 'application/json',
    ...(json ? { 'content-type': 'application/json' } : {}),
    ...(authorization === undefined ? {} : { authorization }),
  })

  return {
    id,
    async list(callOptions: ToolCallOptions = {}): Promise<ToolDefinition[]> {
      const response = await fetch(urlFor('/openapi.json'), { headers: headers(false), redirect: 'manual', signal: callOptions.signal ?? null })
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel().catch(() => {})
        throw new Error(`GET /openapi.json answered ${response.status}`)
      }
      const { text, truncated } = await readCapped(response.body, maxSchemaBytes)
      if (truncated) throw new Error(`/openapi.json is larger than ${maxSchemaBytes} bytes`)
      const parsed = safeParseJson(text)
      if (!parsed.success || !isJsonObject(parsed.value)) throw new Error('/openapi.json is not a JSON object')
      const { tools: listed, skipped } = openApiTools(parsed.value, { pathPrefix: prefix })
      for (const message of skipped) {
        if (warned.has(message)) continue
        warned.add(message)
        onWarning?.(`tool server ${id}: ${message}; left out`)
      }
      tools = new Map(listed.map((tool) => [tool.name, tool]))
      return listed.map((tool) => tool.definition)
    },

    async call(name: string, args: Record<string, unknown>, callOptions: ToolCallOptions = {}): Promise<string> {
      const tool = tools.get(name)
      if (tool === undefined) throw new ToolCallError({ code: 'unknown_tool', message: `${id} lists no tool ${name}`, available: [...tools.keys()] })
      const { url, body } = request(tool, args, urlFor)
      let response: Response
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: headers(body !== undefined),
          ...(body === undefined ? {} : { body }),
          redirect: 'manual',
          signal: callOptions.signal ?? null,
        })
      } catch (error) {
        callOptions.signal?.throwIfAborted()
        throw new ToolCallError({ code: 'tool_call_failed', message: `${name}: the tool server ${id} could not be reached (${networkReason(error)})` }, { cause: error })
      }
      try {
        if (response.status < 200 || response.status > 299) {
          const { text } = await readCapped(response.body, ERROR_BODY_BYTES)
          throw new ToolCallError({ code: 'tool_http_error', message: `${name}: the tool server answered ${response.status}`, status: response.status, body: text })
        }
        return (await readCapped(response.body, callOptions.maxBytes ?? maxResultBytes)).text
      } catch (error) {
        if (ToolCallError.isInstance(error)) throw error
        callOptions.signal?.throwIfAborted()
        throw new ToolCallError({ code: 'tool_call_failed', message: `${name}: the answer of ${id} broke off (${networkReason(error)})` }, { cause: error })
      }
    },
  }
}

/** The URL and body of one call: path parameters filled in (encoded), query parameters in the query, the rest as the JSON body. */
function request(tool: OpenApiTool, args: Record<string, unknown>, urlFor: (path: string) => URL): { url: URL; body: string | undefined } {
  const path = tool.path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const value = scalar(args[name])
    // URLs resolve `.` and `..` segments (even encoded): such a value would leave the listed operation.
    if (value === '' || /^(\.|%2e){1,2}$/i.test(value)) {
      throw new ToolCallError({ code: 'invalid_args', message: `${name}: ${JSON.stringify(value)} cannot be a path segment`, field: name })
    }
    return encodeURIComponent(value)
  })
  const url = urlFor(path)
  for (const name of tool.query) {
    const value = args[name]
    if (value === undefined || value === null) continue
    if (Array.isArray(value)) for (const item of value) url.searchParams.append(name, scalar(item))
    else url.searchParams.set(name, scalar(value))
  }
  if (!tool.hasBody) return { url, body: undefined }
  if (tool.bodyKey !== undefined) return { url, body: JSON.stringify(args[tool.bodyKey] ?? null) }
  const body: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(args)) if (!tool.query.includes(key) && !tool.pathParams.includes(key)) body[key] = value
  return { url, body: JSON.stringify(body) }
}

function scalar(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? ''
}

/** A network failure's reason (`ECONNREFUSED`, `socket hang up`), without any URL. */
export function networkReason(error: unknown): string {
  let current: unknown = error
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && code !== '') return code
    if (current.cause === undefined) return current.message.replace(/https?:\/\/\S+/g, '…')
    current = current.cause
  }
  return 'network error'
}
