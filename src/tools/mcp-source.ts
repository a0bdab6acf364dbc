/**
 * One MCP server over Streamable HTTP as a {@link ToolSource}, through the official
 * `@modelcontextprotocol/sdk` client (imported on the first listing: a gateway with no MCP server
 * never loads it). `tools/list` is read page by page; `notifications/tools/list_changed` tells the
 * registry to list again; `tools/call` results become text (text parts joined by newlines, other
 * parts named), and an `isError` result a `tool_error` for the model. A session that broke (the
 * server restarted, the network failed) is opened again on the next listing or call. Every answer
 * is read through a byte cap.
 * @module
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { isJsonObject } from '../openai/parse-json.js'
import type { ToolDefinition } from '../openai/types.js'
import { toParametersSchema } from './openapi-schema.js'
import { ERROR_BODY_BYTES, networkReason } from './openapi-source.js'
import { cutToBytes } from './read-capped.js'
import { parseServerUrl } from './server-url.js'
import { ToolCallError } from './tool-call-error.js'
import type { ToolCallOptions, ToolSource } from './types.js'

/** One MCP server's configuration. */
export interface McpServerOptions {
  /** The server's Streamable HTTP endpoint (`http://127.0.0.1:9000/mcp`). */
  url: string
  /** Headers sent with every request to this server (an API key). Never logged. @default none */
  headers?: Record<string, string> | undefined
  /** A name for messages and logs. @default the URL without credentials or query */
  name?: string | undefined
  /** The registry puts this and `__` before each tool's name. @default none */
  namePrefix?: string | undefined
}

/** Options of {@link createMcpSource}. */
export interface McpSourceOptions extends McpServerOptions {
  /** Largest JSON-RPC answer read (a whole tool list, a whole result; a result is cut later, to the registry's cap), in bytes. @default 8 MiB */
  maxResponseBytes?: number | undefined
  /** Text of a result beyond this is not kept (the registry cuts to its own cap, a little lower). @default 1 MiB */
  maxResultBytes?: number | undefined
}

/** Pages of `tools/list` read at most (a server whose cursors never end cannot hold a listing). */
const MAX_PAGES = 100
/** The SDK's own per-request timeout, set out of the way: the registry's signal is the deadline. */
const SDK_TIMEOUT_MS = 2 ** 31 - 1
const CLIENT_INFO = { name: 'queuegate', version: '0.4.0' }

/** An MCP server as a tool source. */
export function createMcpSource(options: McpSourceOptions): ToolSource {
  const { maxResponseBytes = 8 * 1024 * 1024, maxResultBytes = 1024 * 1024 } = options
  const { base, id: urlId, authorization } = parseServerUrl(options.url, 'mcpServers')
  const id = options.name ?? urlId
  const headers: Record<string, string> = { ...(authorization === undefined ? {} : { authorization }) }
  if (options.headers !== undefined) {
    if (!isJsonObject(options.headers)) throw new TypeError(`mcpServers[${id}].headers: expected an object of header name → value`)
    for (const [name, value] of Object.entries(options.headers)) {
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name) || typeof value !== 'string' || /[\r\n]/.test(value)) throw new TypeError(`mcpServers[${id}].headers: ${JSON.stringify(name)} is not a valid header`)
      headers[name.toLowerCase()] = value
    }
  }
  const listeners = new Set<() => void>()
  /** Tool names as the model may write them → the server's names (MCP allows `.` and `/`, the OpenAI API does not). */
  let serverNames = new Map<string, string>()
  let connection: Promise<{ client: Client; transport: StreamableHTTPClientTransport }> | undefined
  let closed = false

  const connect = (signal: AbortSignal | undefined): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> => {
    if (closed) return Promise.reject(new Error('closed'))
    const opening = (async () => {
      const [{ Client }, { StreamableHTTPClientTransport }, { ToolListChangedNotificationSchema }] = await Promise.all([
        import('@modelcontextprotocol/sdk/client/index.js'),
        import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
        import('@modelcontextprotocol/sdk/types.js'),
      ])
      const client = new Client(CLIENT_INFO, { capabilities: {} })
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        for (const listener of listeners) listener()
      })
      // Errors of the background notification stream: the next request finds out and reconnects.
      client.onerror = () => {}
      const transport = new StreamableHTTPClientTransport(base, { requestInit: { headers, redirect: 'manual' }, fetch: cappedFetch(maxResponseBytes) })
      await client.connect(transport, { ...(signal === undefined ? {} : { signal }), timeout: SDK_TIMEOUT_MS })
      client.onclose = () => {
        if (connection === opening) connection = undefined
      }
      return { client, transport }
    })()
    connection = opening
    opening.catch(() => {
      if (connection === opening) connection = undefined
    })
    return opening
  }

  /** Forgets a session after a transport failure (the next request opens a new one); protocol errors keep it. */
  const dropAfter = async (error: unknown): Promise<void> => {
    if (isProtocolError(error)) return
    const current = connection
    connection = undefined
    await current?.then(({ client }) => client.close()).catch(() => {})
  }

  return {
    id,
    async list(callOptions: ToolCallOptions = {}): Promise<ToolDefinition[]> {
      const { signal } = callOptions
      try {
        const { client } = await (connection ?? connect(signal))
        const definitions: ToolDefinition[] = []
        const names = new Map<string, string>()
        const seenCursors = new Set<string>()
        let cursor: string | undefined
        for (let page = 0; page < MAX_PAGES; page++) {
          const result = await client.listTools(cursor === undefined ? {} : { cursor }, { ...(signal === undefined ? {} : { signal }), timeout: SDK_TIMEOUT_MS })
          for (const tool of result.tools) {
            const name = toolName(tool.name)
            if (name === undefined || names.has(name)) continue
            names.set(name, tool.name)
            const description = tool.description ?? tool.title ?? tool.annotations?.title
            definitions.push({
              type: 'function',
              function: { name, ...(description === undefined ? {} : { description }), parameters: toParametersSchema(tool.inputSchema, tool.inputSchema) },
            })
          }
          cursor = result.nextCursor
          if (cursor === undefined || seenCursors.has(cursor)) break
          seenCursors.add(cursor)
        }
        serverNames = names
        return definitions
      } catch (error) {
        await dropAfter(error)
        signal?.throwIfAborted()
        throw new Error(describeFailure(error, false), { cause: error })
      }
    },

    async call(name: string, args: Record<string, unknown>, callOptions: ToolCallOptions = {}): Promise<string> {
      const { signal } = callOptions
      const serverName = serverNames.get(name) ?? name
      let result: Awaited<ReturnType<Client['callTool']>>
      try {
        const { client } = await (connection ?? connect(signal))
        result = await client.callTool({ name: serverName, arguments: args }, undefined, { ...(signal === undefined ? {} : { signal }), timeout: SDK_TIMEOUT_MS })
      } catch (error) {
        await dropAfter(error)
        signal?.throwIfAborted()
        throw new ToolCallError({ code: 'tool_call_failed', message: `${name}: ${describeFailure(error, true)}` }, { cause: error })
      }
      const text = cutToBytes(resultText(result), callOptions.maxBytes ?? maxResultBytes)
      if (result.isError === true) {
        throw new ToolCallError({ code: 'tool_error', message: `${name} reported an error: ${cutToBytes(text, ERROR_BODY_BYTES) || 'no details given'}` })
      }
      return text
    },

    watch(onChange) {
      listeners.add(onChange)
    },

    async close() {
      closed = true
      listeners.clear()
      const current = connection
      connection = undefined
      await current?.then(({ client }) => client.close()).catch(() => {})
    },
  }
}

/** A `tools/call` result as text: text parts (and embedded text resources) joined by newlines; other parts named; `structuredContent` when there is no text. */
function resultText(result: Record<string, unknown>): string {
  const parts: string[] = []
  const content = Array.isArray(result.content) ? result.content : []
  for (const item of content) {
    if (!isJsonObject(item)) continue
    if (item.type === 'text' && typeof item.text === 'string') parts.push(item.text)
    else if (item.type === 'resource' && isJsonObject(item.resource) && typeof item.resource.text === 'string') parts.push(item.resource.text)
    else if (item.type === 'resource_link' || item.type === 'resource') parts.push(`[resource ${String((isJsonObject(item.resource) ? item.resource.uri : item.uri) ?? '')}]`)
    else if (typeof item.type === 'string') parts.push(`[${item.type}${typeof item.mimeType === 'string' ? ` ${item.mimeType}` : ''} content, not shown]`)
  }
  if (parts.length === 0 && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent)
  if (parts.length === 0 && result.toolResult !== undefined) return JSON.stringify(result.toolResult)
  return parts.join('\n')
}

/** The tool's name if the OpenAI API accepts it, else with other characters as `_`. */
function toolName(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined
  const cleaned = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64)
  return cleaned === '' ? undefined : cleaned
}

/** JSON-RPC errors from the server (unknown tool, bad params): the session is fine. */
function isProtocolError(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'McpError') return false
  const code = (error as Error & { code?: unknown }).code
  // JSON-RPC's own range; the SDK's transport-side codes (connection closed, timeout) are above it.
  return typeof code === 'number' && code >= -32_768 && code <= -32_000 && code !== -32_000 && code !== -32_001
}

/** Why a request failed, for the model (`long`: a sentence) or for the registry's warning (a short reason). */
function describeFailure(error: unknown, long: boolean): string {
  if (error instanceof Error && error.name === 'McpError') return error.message
  const status = (error as { code?: unknown } | undefined)?.code
  if (error instanceof Error && error.constructor.name === 'StreamableHTTPError' && typeof status === 'number') return long ? `the MCP server answered ${status}` : `it answered ${status}`
  const reason = networkReason(error)
  return long ? `the MCP server could not be reached (${reason})` : reason
}

/**
 * A fetch whose answers are read through caps: `maxBytes` in all for a request's answer, and
 * `maxBytes` without a line break for the long-lived notification stream (no SSE event may
 * grow past it), so a server cannot make the client buffer without end.
 */
function cappedFetch(maxBytes: number): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init)
    if (response.body === null || response.status === 204 || response.status === 205 || response.status === 304) return response
    const total = init?.method !== undefined && init.method !== 'GET'
    let seen = 0
    let sinceBreak = 0
    const capped = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength
          const lastBreak = chunk.lastIndexOf(0x0a)
          sinceBreak = lastBreak === -1 ? sinceBreak + chunk.byteLength : chunk.byteLength - lastBreak - 1
          if ((total && seen > maxBytes) || sinceBreak > maxBytes) controller.error(new Error(`the MCP server's answer is larger than ${maxBytes} bytes`))
          else controller.enqueue(chunk)
        },
      }),
    )
    return new Response(capped, { status: response.status, statusText: response.statusText, headers: response.headers })
  }
}
