/**
 * The `memory` option of {@link createGateway} (chat memory: notes per conversation, injected
 * before the call, the turn stored after it) and its validation.
 * @module
 */
import type { MemoryAdapter } from '../memory/memory-adapter.js'
import type { MemoryStorage } from '../memory/memory-storage.js'
import type { ToolRegistry } from '../tools/types.js'

/** Options of chat memory. Memory is off unless `memory` is given. */
export interface MemoryOptions {
  /**
   * Where notes live: `local` (in process, full-text ranking, optionally persisted with
   * `storage`), `toolserver` (a tool server's `memory_query` / `memory_upsert`, through the
   * gateway's tool registry), or any {@link MemoryAdapter}. @default 'local'
   */
  store?: 'local' | 'toolserver' | MemoryAdapter | undefined
  /** `local`: the log the notes are kept in (`createMemoryFile(path)` from `queuegate/server`). @default none: in memory only */
  storage?: MemoryStorage | undefined
  /** `local`: notes kept per conversation, the oldest dropped first. @default 2000 */
  maxItems?: number | undefined
  /** `local`: notes kept over all conversations. @default 100 000 */
  maxTotalItems?: number | undefined
  /**
   * `local`: an embedding model id. Notes and queries are embedded by an upstream serving it
   * (`/v1/embeddings`, queued as batch jobs so chats go first) and ranked by full text and
   * cosine together; when an embedding fails, that query ranks by full text. @default none
   */
  embeddings?: string | undefined
  /** `toolserver`: the registry whose `memory_query` and `memory_upsert` tools are called. @default the gateway's (`toolServers`, `toolRegistry`) */
  toolRegistry?: ToolRegistry | undefined
  /** Longest wait for a query (and for storing a turn); past it the chat goes on without memory. @default 2000 */
  timeoutMs?: number | undefined
  /** When notes come back, send only the system messages and the last `keepLast` user/assistant messages. @default true */
  truncateHistory?: boolean | undefined
  /** User/assistant messages kept when history is trimmed. @default 4 */
  keepLast?: number | undefined
  /** Notes asked for per request. @default 8 */
  queryK?: number | undefined
  /** Store each turn (the user's text and the final answer) after it. @default true */
  upsert?: boolean | undefined
  /** Role of the notes message. @default 'system' */
  injectRole?: 'system' | 'user' | undefined
  /** Tell the model it can call `memory_query` for more. @default true with `toolserver`, else false */
  hint?: boolean | undefined
  /** Longest text stored per message, in characters (longer ones are cut, with `…`). @default 12 000 */
  maxUpsertChars?: number | undefined
  /** Agent (batch) requests use memory too. @default false */
  forAgents?: boolean | undefined
}

/** {@link MemoryOptions} after defaults and validation. */
export interface ResolvedMemoryOptions {
  store: 'local' | 'toolserver' | MemoryAdapter
  storage: MemoryStorage | undefined
  maxItems: number
  maxTotalItems: number
  embeddings: string | undefined
  toolRegistry: ToolRegistry | undefined
  timeoutMs: number
  truncateHistory: boolean
  keepLast: number
  queryK: number
  upsert: boolean
  injectRole: 'system' | 'user'
  hint: boolean
  maxUpsertChars: number
  forAgents: boolean
}

/** Applies defaults; throws a `TypeError` naming the first bad option (`memory.<name>`). */
export function resolveMemoryOptions(options: MemoryOptions | undefined): ResolvedMemoryOptions | undefined {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null) throw new TypeError(`memory: expected an options object, got ${JSON.stringify(options)}`)
  const {
    store = 'local',
    storage,
    maxItems = 2000,
    maxTotalItems = 100_000,
    embeddings,
    toolRegistry,
    timeoutMs = 2000,
    truncateHistory = true,
    keepLast = 4,
    queryK = 8,
    upsert = true,
    injectRole = 'system',
    hint = store === 'toolserver',
    maxUpsertChars = 12_000,
    forAgents = false,
  } = options
  if (store !== 'local' && store !== 'toolserver' && !isAdapter(store)) throw new TypeError(`memory.store: expected 'local', 'toolserver' or an adapter with query, upsert, forget and close, got ${JSON.stringify(store)}`)
  if (storage !== undefined && (typeof storage !== 'object' || typeof storage.read !== 'function' || typeof storage.append !== 'function' || typeof storage.replace !== 'function')) throw new TypeError('memory.storage: expected a MemoryStorage (read, append, replace)')
  if (embeddings !== undefined && (typeof embeddings !== 'string' || embeddings.trim() === '')) throw new TypeError(`memory.embeddings: expected a model id, got ${JSON.stringify(embeddings)}`)
  for (const [name, value] of [['maxItems', maxItems], ['maxTotalItems', maxTotalItems], ['timeoutMs', timeoutMs], ['keepLast', keepLast], ['queryK', queryK], ['maxUpsertChars', maxUpsertChars]] as const) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new TypeError(`memory.${name}: expected a whole number >= 1, got ${JSON.stringify(value)}`)
  }
  for (const [name, value] of [['truncateHistory', truncateHistory], ['upsert', upsert], ['hint', hint], ['forAgents', forAgents]] as const) {
    if (typeof value !== 'boolean') throw new TypeError(`memory.${name}: expected true or false, got ${JSON.stringify(value)}`)
  }
  if (injectRole !== 'system' && injectRole !== 'user') throw new TypeError(`memory.injectRole: expected system or user, got ${JSON.stringify(injectRole)}`)
  return { store, storage, maxItems, maxTotalItems, embeddings: embeddings?.trim(), toolRegistry, timeoutMs, truncateHistory, keepLast, queryK, upsert, injectRole, hint, maxUpsertChars, forAgents }
}

function isAdapter(value: unknown): value is MemoryAdapter {
  if (typeof value !== 'object' || value === null) return false
  const adapter = value as Partial<MemoryAdapter>
  return typeof adapter.query === 'function' && typeof adapter.upsert === 'function' && typeof adapter.forget === 'function' && typeof adapter.close === 'function'
}
