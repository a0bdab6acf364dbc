/**
 * A fake OpenAPI tool server (Open WebUI / mcpo style) on a real node:http server on 127.0.0.1:
 * `GET /openapi.json` describes one `POST` operation per tool, `POST {prefix}/{name}` runs the
 * tool's handler. It counts and records every call (body and headers), and can fail with a
 * status, hang, answer with a huge body, go down and come back on the same port. Shared by the
 * registry's tests, the execute loop's and chat memory's.
 * @module
 * @example
 * const server = await startFakeToolServer({
 *   tools: { get_weather: { schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, handler: ({ city }) => ({ city, temp: 21 }) } },
 * })
 * // registry over server.url … then: expect(server.calls).toHaveLength(1); await server.close()
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

type Loose = Record<string, unknown>

/** What a handler may answer instead of a plain JSON value. */
export interface FakeToolReply {
  /** @default 200 */
  status?: number | undefined
  /** A string goes out as is (`text/plain` unless `headers` say otherwise), anything else as JSON. */
  body?: unknown
  headers?: Record<string, string> | undefined
  /** Never answer (until the client goes away or the server closes). */
  hang?: boolean | undefined
  /** Wait this long before answering, in ms. */
  delayMs?: number | undefined
  /** Destroy the connection without an answer (a network error for the client). */
  drop?: boolean | undefined
}

/** Marks a handler's result as a {@link FakeToolReply} (a plain object is sent as the JSON result). */
export function reply(options: FakeToolReply): { [REPLY]: FakeToolReply } {
  return { [REPLY]: options }
}
const REPLY = Symbol('fake-tool-reply')

/** One tool of the fake server. */
export interface FakeTool {
  /** JSON schema of the request body (may `$ref` into `components`). @default an object with no properties */
  schema?: Loose | undefined
  summary?: string | undefined
  description?: string | undefined
  /** The operation's `operationId`; `null` leaves it out. @default the tool's name */
  operationId?: string | null | undefined
  /** The operation's path. @default `{prefix}/{name}` */
  path?: string | undefined
  /**
   * Answers a call with a JSON result, a string (plain text), or `reply({...})`.
   * @default echoes `{ tool, args }`
   */
  handler?: ((args: Loose, call: FakeToolCall) => unknown) | undefined
}

/** A call the server received. */
export interface FakeToolCall {
  /** The tool's key in `tools` (or the path, for paths of a served `openapi` document). */
  name: string
  path: string
  method: string
  /** The parsed JSON body (undefined when it was not JSON). */
  body: unknown
  rawBody: string
  /** Lower-case header names. */
  headers: Record<string, string>
  /** The query string, parsed. */
  query: Record<string, string>
}

/** Options of {@link startFakeToolServer}. */
export interface FakeToolServerOptions {
  tools?: Record<string, FakeTool> | undefined
  /** Path prefix of every tool's path. @default '' */
  prefix?: string | undefined
  /** Shared schemas, served as `components.schemas`. */
  components?: Record<string, Loose> | undefined
  /**
   * A whole OpenAPI document to serve instead of the one built from `tools` (a fixture);
   * `handlers` then answer by path.
   */
  openapi?: Loose | undefined
  /** Handlers by path, for a served `openapi` document. @default echo */
  handlers?: Record<string, (args: Loose, call: FakeToolCall) => unknown> | undefined
  /** When set, every request needs `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string | undefined
  /** Largest request body read. @default 1 MiB */
  maxBodyBytes?: number | undefined
}

/** A running fake tool server. */
export interface FakeToolServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string
  readonly port: number
  /** Every tool call received, in order. */
  readonly calls: FakeToolCall[]
  /** Calls received by one tool. */
  callsTo(name: string): FakeToolCall[]
  /** `GET /openapi.json` requests received. */
  readonly listings: number
  /** Headers of the last `GET /openapi.json`. */
  readonly lastListingHeaders: Record<string, string> | undefined
  /** Calls whose answer is still pending (hanging ones). */
  readonly active: number
  /** Replaces a tool (or adds one): the next listing shows it. */
  setTool(name: string, tool: FakeTool): void
  removeTool(name: string): void
  /** Makes `/openapi.json` answer with this status (undefined: normal again). */
  failListing(status: number | undefined): void
  /** Makes `/openapi.json` hang (true) or answer again (false). */
  hangListing(hang: boolean): void
  /** Stops listening and drops every connection: requests now fail to connect. */
  down(): Promise<void>
  /** Listens again on the same port. */
  up(): Promise<void>
  /** Resolves once `predicate` holds (checked on each event), or rejects after `timeoutMs`. */
  waitFor(predicate: (server: FakeToolServer) => boolean, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/** Starts a fake tool server on 127.0.0.1. */
export async function startFakeToolServer(options: FakeToolServerOptions = {}): Promise<FakeToolServer> {
  const { prefix = '', components, openapi, handlers = {}, apiKey, maxBodyBytes = 1024 * 1024 } = options
  const tools = new Map<string, FakeTool>(Object.entries(options.tools ?? {}))
  const calls: FakeToolCall[] = []
  const waiters = new Set<() => void>()
  const sockets = new Set<import('node:net').Socket>()
  let listings = 0
  let lastListingHeaders: Record<string, string> | undefined
  let active = 0
  let listingStatus: number | undefined
  let listingHang = false

  const notify = (): void => {
    for (const waiter of [...waiters]) waiter()
  }

  const pathOf = (name: string, tool: FakeTool): string => tool.path ?? `${prefix}/${name}`

  const document = (): Loose => {
    if (openapi !== undefined) return openapi
    const paths: Loose = {}
    for (const [name, tool] of tools) {
      const operation: Loose = {
        summary: tool.summary ?? name.replaceAll('_', ' '),
        ...(tool.description === undefined ? {} : { description: tool.description }),
        ...(tool.operationId === null ? {} : { operationId: tool.operationId ?? name }),
        requestBody: { required: true, content: { 'application/json': { schema: tool.schema ?? { type: 'object', properties: {} } } } },
        responses: { '200': { description: 'Successful Response', content: { 'application/json': { schema: {} } } } },
      }
      paths[pathOf(name, tool)] = { post: operation }
    }
    return {
      openapi: '3.1.0',
      info: { title: 'fake tool server', version: '0.1.0' },
      paths,
      ...(components === undefined ? {} : { components: { schemas: components } }),
    }
  }

  const send = (outgoing: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'
    outgoing.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(text)), ...headers })
    outgoing.end(text)
  }

  const server = http.createServer((incoming, outgoing) => {
    const headers: Record<string, string> = {}
    for (const [key, value] of Object.entries(incoming.headers)) if (typeof value === 'string') headers[key] = value
    if (apiKey !== undefined && headers.authorization !== `Bearer ${apiKey}`) {
      incoming.resume()
      send(outgoing, 401, { detail: 'Invalid or missing API key' })
      return
    }
    const url = new URL(incoming.url ?? '/', 'http://127.0.0.1')
    if (incoming.method === 'GET' && url.pathname === '/openapi.json') {
      listings++
      lastListingHeaders = headers
      notify()
      incoming.resume()
      if (listingHang) return
      if (listingStatus !== undefined) send(outgoing, listingStatus, { detail: 'listing failed' })
      else send(outgoing, 200, document())
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBodyBytes) {
        send(outgoing, 413, { detail: 'body too large' })
        incoming.destroy()
        return
      }
      chunks.push(chunk)
    })
    incoming.on('end', () => {
      if (size > maxBodyBytes) return
      const rawBody = Buffer.concat(chunks).toString('utf8')
      let body: unknown
      try {
        body = rawBody === '' ? undefined : JSON.parse(rawBody)
      } catch {
        body = undefined
      }
      let name: string | undefined
      let handler: ((args: Loose, call: FakeToolCall) => unknown) | undefined
      if (openapi !== undefined) {
        name = url.pathname
        handler = handlers[url.pathname] ?? ((args) => ({ path: url.pathname, args }))
      } else {
        for (const [toolName, tool] of tools) {
          if (pathOf(toolName, tool) === url.pathname) {
            name = toolName
            handler = tool.handler ?? ((args) => ({ tool: toolName, args }))
          }
        }
      }
      if (name === undefined || handler === undefined || incoming.method !== 'POST') {
        send(outgoing, 404, { detail: 'Not Found' })
        return
      }
      const call: FakeToolCall = { name, path: url.pathname, method: incoming.method, body, rawBody, headers, query: Object.fromEntries(url.searchParams) }
      calls.push(call)
      active++
      outgoing.on('close', () => {
        active--
        notify()
      })
      notify()
      void answer(outgoing, handler, call)
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  const answer = async (outgoing: http.ServerResponse, handler: (args: Loose, call: FakeToolCall) => unknown, call: FakeToolCall): Promise<void> => {
    let result: unknown
    try {
      result = await handler((typeof call.body === 'object' && call.body !== null ? call.body : {}) as Loose, call)
    } catch (error) {
      send(outgoing, 500, { detail: error instanceof Error ? error.message : String(error) })
      return
    }
    const options = typeof result === 'object' && result !== null && REPLY in result ? (result as { [REPLY]: FakeToolReply })[REPLY] : undefined
    if (options === undefined) {
      send(outgoing, 200, result === undefined ? null : result)
      return
    }
    if (options.hang === true) return
    if (options.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.delayMs))
    if (options.drop === true) {
      outgoing.socket?.destroy()
      return
    }
    if (!outgoing.destroyed) send(outgoing, options.status ?? 200, options.body === undefined ? null : options.body, options.headers)
  }

  const listenOn = (port: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (!server.listening) {
        resolve()
        return
      }
      server.close(() => resolve())
      for (const socket of sockets) socket.destroy()
    })

  await listenOn(0)
  const port = (server.address() as AddressInfo).port
  const fake: FakeToolServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    callsTo: (name) => calls.filter((call) => call.name === name),
    get listings() {
      return listings
    },
    get lastListingHeaders() {
      return lastListingHeaders
    },
    get active() {
      return active
    },
    setTool(name, tool) {
      tools.set(name, tool)
    },
    removeTool(name) {
      tools.delete(name)
    },
    failListing(status) {
      listingStatus = status
    },
    hangListing(hang) {
      listingHang = hang
    },
    down: stop,
    up: () => listenOn(port),
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        if (predicate(fake)) {
          resolve()
          return
        }
        const check = (): void => {
          if (!predicate(fake)) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve()
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`fake tool server: condition not met within ${timeoutMs} ms`))
        }, timeoutMs)
        waiters.add(check)
      })
    },
    close: stop,
  }
  return fake
}
