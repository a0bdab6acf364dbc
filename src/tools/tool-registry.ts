/**
 * {@link createToolRegistry}: the tools of every configured source (OpenAPI tool servers, MCP
 * servers, or any {@link ToolSource}) under one namespace. Each source's list is kept until a
 * newer one arrives: read again after `schemaTtlMs` (on use, one listing at a time per source),
 * at once when an MCP server says it changed, and after a failure with backoff while the last
 * good list stays in use. `call()` checks the arguments (ajv), calls with a timeout, caps the
 * result, and turns every failure into a {@link ToolError} for the model.
 * @module
 */
import { systemClock } from '../gateway/clock.js'
import type { Clock } from '../gateway/clock.js'
import type { ToolDefinition } from '../openai/types.js'
import { createMcpSource } from './mcp-source.js'
import type { McpServerOptions } from './mcp-source.js'
import { createOpenApiSource, networkReason } from './openapi-source.js'
import type { OpenApiServerOptions } from './openapi-source.js'
import { cutToBytes, utf8Length } from './read-capped.js'
import { createArgumentChecker, dropOptionalNulls } from './tool-arguments.js'
import type { ArgumentCheck } from './tool-arguments.js'
import { ToolCallError } from './tool-call-error.js'
import type { ToolCallOptions, ToolError, ToolOutcome, ToolRegistry, ToolSource } from './types.js'

/** A prebuilt source, with the prefix its tools get in the registry. */
export interface ToolSourceEntry {
  source: ToolSource
  /** `weather` → the source's `get_forecast` is `weather__get_forecast`. @default none */
  namePrefix?: string | undefined
}

/** Options of {@link createToolRegistry}. */
export interface ToolRegistryOptions {
  /** OpenAPI tool servers (Open WebUI / mcpo style), as URLs or option objects. @default none */
  toolServers?: Array<OpenApiServerOptions | string> | undefined
  /** MCP servers over Streamable HTTP, as URLs or option objects. @default none */
  mcpServers?: Array<McpServerOptions | string> | undefined
  /** Other sources (tests, in-process tools). @default none */
  sources?: Array<ToolSource | ToolSourceEntry> | undefined
  /** Longest a tool call may take, in ms (then `tool_timeout`). @default 60 000 */
  timeoutMs?: number | undefined
  /**
   * Longest one listing of a server's tools may take, in ms: a server that hangs then counts as down (its last
   * good list stays), and the gateway's start (which waits for the first listings) is not held for a whole call
   * timeout. @default the smaller of `timeoutMs` and 10 000
   */
  listTimeoutMs?: number | undefined
  /** Largest result passed to the model, in bytes; a longer one is cut, with a note saying so. @default 65 536 */
  maxBytes?: number | undefined
  /** A source's list is read again when it is older than this, in ms. @default 300 000 */
  schemaTtlMs?: number | undefined
  /** First wait before a failed listing is tried again, in ms; it doubles per failure, up to `schemaTtlMs`. @default 1000 */
  retryMs?: number | undefined
  /** Something worth a log line: a server that is down (or back), a tool left out, a name clash after start. */
  onWarning?: ((message: string) => void) | undefined
  /** Time and timers (the gateway's clock). @default the system clock */
  clock?: Partial<Clock> | undefined
}

/** The separator between a server's prefix and a tool's name. */
export const PREFIX_SEPARATOR = '__'

interface ToolEntry {
  /** The name the model uses. */
  name: string
  /** The name the source knows. */
  sourceName: string
  definition: ToolDefinition
  parameters: Record<string, unknown>
  schemaKey: string
  check: ArgumentCheck | undefined
}

interface SourceState {
  source: ToolSource
  namePrefix: string | undefined
  /** The last good list, by registry name. */
  tools: Map<string, ToolEntry>
  /** Monotonic time of the last good list (undefined: never listed). */
  listedAt: number | undefined
  failures: number
  /** No listing before this (monotonic), after a failure. */
  retryAt: number
  /** The server said its list changed. */
  stale: boolean
  down: boolean
  inflight: Promise<void> | undefined
}

/**
 * Creates a registry; listing starts at once (`ready()` resolves when every source answered or
 * failed; a name clash between two servers rejects it, naming both).
 * @example
 * const tools = createToolRegistry({ toolServers: ['http://127.0.0.1:8000'], mcpServers: [{ url: 'http://127.0.0.1:9000/mcp', namePrefix: 'fs' }] })
 * await tools.ready()
 * const outcome = await tools.call('get_forecast', { city: 'Oslo' }, { signal })
 */
export function createToolRegistry(options: ToolRegistryOptions = {}): ToolRegistry {
  const { toolServers = [], mcpServers = [], sources = [], timeoutMs = 60_000, maxBytes = 65_536, schemaTtlMs = 300_000, retryMs = 1000, onWarning } = options
  positiveInteger('timeoutMs', timeoutMs)
  const listTimeoutMs = options.listTimeoutMs ?? Math.min(timeoutMs, 10_000)
  positiveInteger('listTimeoutMs', listTimeoutMs)
  positiveInteger('maxBytes', maxBytes)
  positiveInteger('schemaTtlMs', schemaTtlMs)
  positiveInteger('retryMs', retryMs)
  for (const [name, list] of [
    ['toolServers', toolServers],
    ['mcpServers', mcpServers],
    ['sources', sources],
  ] as const) {
    if (!Array.isArray(list)) throw new TypeError(`${name}: expected a list, got ${JSON.stringify(list)}`)
  }
  const clock: Clock = { ...systemClock, ...options.clock }
  const warn = (message: string): void => onWarning?.(message)

  const entries: ToolSourceEntry[] = [
    ...toolServers.map((server) => {
      const config = typeof server === 'string' ? { url: server } : server
      checkServerObject('toolServers', config)
      return { source: createOpenApiSource({ ...config, onWarning: warn }), namePrefix: config.namePrefix }
    }),
    ...mcpServers.map((server) => {
      const config = typeof server === 'string' ? { url: server } : server
      checkServerObject('mcpServers', config)
      return { source: createMcpSource({ ...config, maxResultBytes: maxBytes + 4 }), namePrefix: config.namePrefix }
    }),
    ...sources.map((entry) => ('source' in entry ? entry : { source: entry })),
  ]
  const states: SourceState[] = entries.map(({ source, namePrefix }) => {
    if (namePrefix !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(namePrefix)) {
      throw new TypeError(`${source.id}: namePrefix: expected up to 32 letters, digits, _ or -, got ${JSON.stringify(namePrefix)}`)
    }
    return { source, namePrefix, tools: new Map(), listedAt: undefined, failures: 0, retryAt: 0, stale: false, down: false, inflight: undefined }
  })
  const ids = new Set<string>()
  for (const { source } of states) {
    if (ids.has(source.id)) throw new TypeError(`tool servers: ${source.id} is listed twice`)
    ids.add(source.id)
  }

  const checker = createArgumentChecker({ onSchemaError: (tool, message) => warn(`tool ${tool}: its schema cannot be checked (${message}); calls go to the server unchecked`) })
  const lists = new AbortController()
  let closed = false
  let started = false
  /** Every tool by registry name, in source order then list order. */
  let byName = new Map<string, { state: SourceState; entry: ToolEntry }>()
  let definitions: ToolDefinition[] = []
  /** Clashes found: `name` → the two source ids. */
  let clashes: Array<{ name: string; first: string; second: string }> = []
  const warnedClashes = new Set<string>()

  /** Rebuilds the namespace from each source's last good list; a name taken by an earlier source drops the later one's tool. */
  const rebuild = (): void => {
    const next = new Map<string, { state: SourceState; entry: ToolEntry }>()
    const found: typeof clashes = []
    for (const state of states) {
      for (const entry of state.tools.values()) {
        const taken = next.get(entry.name)
        if (taken !== undefined) {
          found.push({ name: entry.name, first: taken.state.source.id, second: state.source.id })
          continue
        }
        next.set(entry.name, { state, entry })
      }
    }
    byName = next
    definitions = [...next.values()].map(({ entry }) => entry.definition)
    clashes = found
    checker.retain(new Set([...next.values()].map(({ entry }) => entry.schemaKey)))
    if (!started) return
    for (const clash of found) {
      const key = `${clash.name}\u0000${clash.first}\u0000${clash.second}`
      if (warnedClashes.has(key)) continue
      warnedClashes.add(key)
      warn(clashMessage(clash) + `; ${clash.second}'s tool is left out`)
    }
  }

  const apply = (state: SourceState, listed: ToolDefinition[]): void => {
    const tools = new Map<string, ToolEntry>()
    for (const definition of listed) {
      const sourceName = definition?.function?.name
      if (typeof sourceName !== 'string' || sourceName === '') continue
      const name = state.namePrefix === undefined ? sourceName : `${state.namePrefix}${PREFIX_SEPARATOR}${sourceName}`
      if (tools.has(name)) continue
      const parameters = definition.function.parameters ?? { type: 'object', properties: {} }
      const schemaKey = JSON.stringify(parameters)
      const previous = state.tools.get(name)
      tools.set(name, {
        name,
        sourceName,
        definition: name === sourceName ? definition : { ...definition, function: { ...definition.function, name } },
        parameters,
        schemaKey,
        check: previous?.schemaKey === schemaKey ? previous.check : undefined,
      })
    }
    state.tools = tools
  }

  /** Lists one source again (single flight). */
  const list = (state: SourceState): Promise<void> => {
    if (state.inflight !== undefined) return state.inflight
    state.stale = false
    const controller = new AbortController()
    const onClose = (): void => controller.abort(lists.signal.reason)
    lists.signal.addEventListener('abort', onClose, { once: true })
    const timer = clock.setTimeout(() => controller.abort(new Error(`no answer within ${listTimeoutMs} ms`)), listTimeoutMs)
    const attempt = (async () => {
      try {
        const listed = await raceSignal(state.source.list({ signal: controller.signal }), controller.signal)
        if (closed) return
        apply(state, listed)
        state.listedAt = clock.monotonic()
        state.failures = 0
        state.retryAt = 0
        if (state.down) warn(`tool server ${state.source.id} is back (${state.tools.size} tools)`)
        state.down = false
        rebuild()
      } catch (error) {
        if (closed) return
        state.failures++
        state.retryAt = clock.monotonic() + Math.min(retryMs * 2 ** Math.min(state.failures - 1, 20), schemaTtlMs)
        if (!state.down) {
          const kept = state.tools.size === 0 ? 'it has no tools until it answers' : `its last ${state.tools.size} tools stay in use`
          warn(`tool server ${state.source.id} could not be listed (${reasonOf(error, controller.signal)}); ${kept}, retrying with backoff`)
        }
        state.down = true
      } finally {
        clock.clearTimeout(timer)
        lists.signal.removeEventListener('abort', onClose)
        state.inflight = undefined
      }
    })()
    state.inflight = attempt
    return attempt
  }

  /** Starts a listing of each source whose list is due (stale, past its TTL, or failed and past its backoff). */
  const refreshDue = (): void => {
    if (closed) return
    const now = clock.monotonic()
    for (const state of states) {
      if (state.inflight !== undefined) continue
      const due = state.stale || state.listedAt === undefined || now - state.listedAt >= schemaTtlMs
      if (due && now >= state.retryAt) void list(state)
    }
  }

  for (const state of states) state.source.watch?.(() => {
    state.stale = true
    // The server said so: list now, even during a backoff.
    if (!closed) void list(state)
  })
  const firstRound = Promise.all(states.map((state) => list(state))).then(() => {
    started = true
    const first = clashes[0]
    if (first !== undefined) throw new TypeError(`${clashMessage(first)}: give one of them a namePrefix`)
  })
  // A caller that never awaits ready() must not see an unhandled rejection.
  firstRound.catch(() => {})

  const outcome = (name: string, startedAt: number, result: { content: string; error?: ToolError; truncated?: boolean }): ToolOutcome => ({
    name,
    ok: result.error === undefined,
    content: result.content,
    ...(result.error === undefined ? {} : { error: result.error }),
    truncated: result.truncated ?? false,
    bytes: utf8Length(result.content),
    durationMs: clock.monotonic() - startedAt,
  })
  const failed = (name: string, startedAt: number, error: ToolError): ToolOutcome => outcome(name, startedAt, { content: JSON.stringify(error), error })

  return {
    definitions() {
      refreshDue()
      return definitions
    },
    has(name) {
      return byName.has(name)
    },
    async call(name, args, callOptions: ToolCallOptions = {}) {
      const { signal } = callOptions
      signal?.throwIfAborted()
      const startedAt = clock.monotonic()
      refreshDue()
      const found = byName.get(name)
      if (found === undefined) {
        const available = [...byName.keys()]
        return failed(name, startedAt, {
          code: 'unknown_tool',
          message: `There is no tool named ${name}. ${available.length === 0 ? 'No tools are available right now.' : `Available tools: ${available.join(', ')}.`}`,
          tool: name,
          available,
        })
      }
      const { state, entry } = found
      if (typeof args !== 'object' || args === null || Array.isArray(args)) {
        return failed(name, startedAt, { code: 'invalid_args', message: `${name}: the arguments must be a JSON object`, tool: name, field: '' })
      }
      const cleaned = dropOptionalNulls(args, entry.parameters) as Record<string, unknown>
      entry.check ??= await checker.checkFor(name, entry.parameters)
      signal?.throwIfAborted()
      const problem = entry.check(cleaned)
      if (problem !== undefined) return failed(name, startedAt, problem)

      const controller = new AbortController()
      let timedOut = false
      const timer = clock.setTimeout(() => {
        timedOut = true
        controller.abort(new Error(`${name} timed out`))
      }, timeoutMs)
      const onAbort = (): void => controller.abort(signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        const text = await raceSignal(state.source.call(entry.sourceName, cleaned, { signal: controller.signal, maxBytes: maxBytes + 4 }), controller.signal)
        if (utf8Length(text) <= maxBytes) return outcome(name, startedAt, { content: text })
        const cut = cutToBytes(text, maxBytes)
        return outcome(name, startedAt, { content: `${cut}\n\n[The result was cut at ${maxBytes} bytes: the tool returned more.]`, truncated: true })
      } catch (error) {
        if (signal?.aborted === true) throw signal.reason
        if (timedOut) return failed(name, startedAt, { code: 'tool_timeout', message: `${name} did not answer within ${formatMs(timeoutMs)}.`, tool: name, timeoutMs })
        if (ToolCallError.isInstance(error)) return failed(name, startedAt, { ...error.toolError, tool: name })
        return failed(name, startedAt, { code: 'tool_call_failed', message: `${name}: the call failed (${networkReason(error)})`, tool: name })
      } finally {
        clock.clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
    },
    ready() {
      return firstRound
    },
    async refresh() {
      if (closed) return
      await Promise.all(states.map((state) => list(state)))
    },
    async close() {
      if (closed) return
      closed = true
      lists.abort(new Error('the tool registry closed'))
      await Promise.all(states.map((state) => state.source.close?.().catch(() => {})))
    },
  }
}

function clashMessage(clash: { name: string; first: string; second: string }): string {
  return `tool name clash: ${clash.name} is offered by ${clash.first} and by ${clash.second}`
}

/** Resolves or rejects like `promise`, or rejects with the signal's reason once it aborts (a source that ignores its signal cannot hold a call). */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

function reasonOf(error: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason.message
  if (error instanceof Error && !(error instanceof TypeError && error.message === 'fetch failed')) return error.message
  return networkReason(error)
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}

function positiveInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new TypeError(`${name}: expected a whole number >= 1, got ${JSON.stringify(value)}`)
}

function checkServerObject(option: string, config: unknown): void {
  if (typeof config !== 'object' || config === null || typeof (config as { url?: unknown }).url !== 'string') {
    throw new TypeError(`${option}: expected URLs or { url } objects`)
  }
}
