/**
 * Chat memory kept by a tool server (`--memory toolserver`), as the first version did it: the
 * server's `memory_query {namespace, query, k}` → `{results:[{text, score}]}` and
 * `memory_upsert {namespace, text, role, source, ts_unix}` tools, called through the
 * {@link ToolRegistry} (its timeouts, size caps and argument checks apply). A `FILE:` header
 * line that such servers put on indexed texts is dropped from results.
 * @module
 */
import { QueuegateError } from '../errors.js'
import type { ToolOutcome, ToolRegistry } from '../tools/types.js'
import type { MemoryAdapter, MemoryItem, MemoryNote, MemoryQueryOptions } from './memory-adapter.js'
import { withoutFileHeader } from './notes-message.js'

/** Options of {@link createToolServerMemory}. */
export interface ToolServerMemoryOptions {
  registry: ToolRegistry
  /**
   * The tools' names in the registry (a registry with a prefix names them differently); `forget`
   * is optional on the server. @default { query: 'memory_query', upsert: 'memory_upsert', forget: 'memory_forget' }
   */
  tools?: { query?: string | undefined; upsert?: string | undefined; forget?: string | undefined } | undefined
}

/** The tool-server {@link MemoryAdapter}. */
export function createToolServerMemory(options: ToolServerMemoryOptions): MemoryAdapter {
  const { registry, tools = {} } = options
  if (typeof registry !== 'object' || registry === null || typeof registry.call !== 'function') throw new TypeError('createToolServerMemory: expected a ToolRegistry as registry')
  const { query: queryTool = 'memory_query', upsert: upsertTool = 'memory_upsert', forget: forgetTool = 'memory_forget' } = tools

  async function call(name: string, args: Record<string, unknown>, signal: AbortSignal | undefined): Promise<ToolOutcome> {
    // The first requests may come before the server's tools are listed (the memory timeout bounds the wait).
    await registry.ready()
    const outcome = await registry.call(name, args, { signal })
    if (!outcome.ok) throw new Error(`${name}: ${outcome.error?.code ?? 'tool_error'}: ${outcome.error?.message ?? outcome.content.slice(0, 500)}`)
    return outcome
  }

  return {
    async query(namespace: string, text: string, queryOptions: MemoryQueryOptions = {}): Promise<MemoryItem[]> {
      const { k = 8, signal } = queryOptions
      const outcome = await call(queryTool, { namespace, query: text, k }, signal)
      return resultsOf(outcome.content, queryTool).slice(0, k)
    },
    async upsert(namespace: string, notes: MemoryNote[], upsertOptions: { signal?: AbortSignal | undefined } = {}): Promise<void> {
      for (const note of notes) {
        const ts = note.ts ?? Date.now()
        await call(upsertTool, { namespace, text: note.text, role: note.role ?? 'user', source: note.source ?? 'queuegate', ts_unix: Math.floor(ts / 1000) }, upsertOptions.signal)
      }
    },
    async forget(namespace: string): Promise<void> {
      if (!registry.has(forgetTool)) throw new QueuegateError(`The tool server has no ${forgetTool} tool: its memory cannot be forgotten through queuegate.`, { status: 501, type: 'server_error', code: 'memory_forget_unsupported' })
      await call(forgetTool, { namespace }, undefined)
    },
    async close(): Promise<void> {
      // The registry belongs to whoever made it.
    },
  }
}

/** The `results` of a `memory_query` answer, as memory items. */
function resultsOf(content: string, tool: string): MemoryItem[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(content)
  } catch {
    throw new Error(`${tool}: the answer is not JSON`)
  }
  const results = typeof parsed === 'object' && parsed !== null ? (parsed as { results?: unknown }).results : undefined
  if (!Array.isArray(results)) throw new Error(`${tool}: the answer has no results list`)
  const items: MemoryItem[] = []
  for (const result of results) {
    if (typeof result !== 'object' || result === null) continue
    const { text, score, role, ts_unix: tsUnix } = result as Record<string, unknown>
    if (typeof text !== 'string') continue
    const clean = withoutFileHeader(text).trim()
    if (clean === '') continue
    items.push({ text: clean, role: typeof role === 'string' ? role : undefined, score: typeof score === 'number' && Number.isFinite(score) ? score : 0, ts: typeof tsUnix === 'number' && Number.isFinite(tsUnix) ? tsUnix * 1000 : 0 })
  }
  return items
}
