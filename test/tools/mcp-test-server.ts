/**
 * A real MCP server for tests, made with the SDK's server side (`Server` +
 * `StreamableHTTPServerTransport`, one session per client) on 127.0.0.1: tools with JSON input
 * schemas and handlers, `tools/list` in pages of `pageSize`, `notifications/tools/list_changed`
 * to every session when a tool is added or removed, and a record of requests (headers, methods).
 * @module
 */
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'

/** One tool of the test server. */
export interface McpTestTool {
  description?: string | undefined
  /** JSON schema of the arguments. @default an object with no properties */
  inputSchema?: Record<string, unknown> | undefined
  /** The result (content parts, isError). @default one text part echoing the arguments */
  handler?: ((args: Record<string, unknown>) => CallToolResult | Promise<CallToolResult>) | undefined
}

/** A request the server received over HTTP. */
export interface McpTestRequest {
  method: string
  /** The JSON-RPC method(s) of a POST body. */
  rpc: string[]
  headers: Record<string, string>
}

/** A running test MCP server. */
export interface McpTestServer {
  /** The Streamable HTTP endpoint: `http://127.0.0.1:PORT/mcp`. */
  readonly url: string
  readonly requests: McpTestRequest[]
  /** `tools/call` requests handled, by tool. */
  readonly calls: Array<{ name: string; args: Record<string, unknown> }>
  /** Live sessions. */
  readonly sessions: number
  /** Adds (or replaces) a tool and tells every session its list changed. */
  setTool(name: string, tool: McpTestTool): Promise<void>
  /** Forgets every session, as a restarted server would: their next request gets 404. */
  dropSessions(): Promise<void>
  close(): Promise<void>
}

/** Starts the server; `pageSize` tools per `tools/list` page. */
export async function startMcpTestServer(options: { tools?: Record<string, McpTestTool>; pageSize?: number } = {}): Promise<McpTestServer> {
  const { pageSize = 100 } = options
  const tools = new Map(Object.entries(options.tools ?? {}))
  const requests: McpTestRequest[] = []
  const calls: Array<{ name: string; args: Record<string, unknown> }> = []
  const sessions = new Map<string, { server: Server; transport: StreamableHTTPServerTransport }>()

  const createServer = (): Server => {
    const server = new Server({ name: 'queuegate-test-mcp', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } })
    server.setRequestHandler(ListToolsRequestSchema, (request) => {
      const start = request.params?.cursor === undefined ? 0 : Number(request.params.cursor)
      const all = [...tools.entries()]
      const page = all.slice(start, start + pageSize).map(([name, tool]) => ({
        name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        inputSchema: (tool.inputSchema ?? { type: 'object', properties: {} }) as { type: 'object'; properties?: Record<string, object> },
      }))
      return start + pageSize < all.length ? { tools: page, nextCursor: String(start + pageSize) } : { tools: page }
    })
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      const { name } = request.params
      const args = (request.params.arguments ?? {}) as Record<string, unknown>
      calls.push({ name, args })
      const tool = tools.get(name)
      if (tool === undefined) return { content: [{ type: 'text', text: `no tool ${name}` }], isError: true }
      return tool.handler === undefined ? { content: [{ type: 'text', text: JSON.stringify({ tool: name, args }) }] } : await tool.handler(args)
    })
    return server
  }

  const http_ = http.createServer(async (incoming, outgoing) => {
    const headers: Record<string, string> = {}
    for (const [key, value] of Object.entries(incoming.headers)) if (typeof value === 'string') headers[key] = value
    let body: unknown
    if (incoming.method === 'POST') {
      const chunks: Buffer[] = []
      for await (const chunk of incoming) chunks.push(chunk as Buffer)
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    }
    const messages = Array.isArray(body) ? body : body === undefined ? [] : [body]
    requests.push({ method: incoming.method ?? '', rpc: messages.map((message) => String((message as { method?: unknown }).method)), headers })
    const sessionId = headers['mcp-session-id']
    let session = sessionId === undefined ? undefined : sessions.get(sessionId)
    if (session === undefined) {
      if (sessionId !== undefined) {
        outgoing.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }))
        return
      }
      const server = createServer()
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, { server, transport })
        },
      })
      transport.onclose = () => {
        if (transport.sessionId !== undefined) sessions.delete(transport.sessionId)
      }
      await server.connect(transport)
      session = { server, transport }
    }
    await session.transport.handleRequest(incoming, outgoing, body)
  })
  await new Promise<void>((resolve) => http_.listen(0, '127.0.0.1', resolve))
  const { port } = http_.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    calls,
    get sessions() {
      return sessions.size
    },
    async setTool(name, tool) {
      tools.set(name, tool)
      await Promise.all([...sessions.values()].map(({ server }) => server.sendToolListChanged().catch(() => {})))
    },
    async dropSessions() {
      const live = [...sessions.values()]
      sessions.clear()
      await Promise.all(live.map(({ server }) => server.close().catch(() => {})))
    },
    async close() {
      await Promise.all([...sessions.values()].map(({ server }) => server.close().catch(() => {})))
      sessions.clear()
      await new Promise<void>((resolve) => {
        http_.close(() => resolve())
        http_.closeAllConnections()
      })
    },
  }
}
