/**
 * The contract of chat memory's stores: notes kept per namespace (a conversation), queried by
 * text. The gateway's memory stage and answer hook use only this; `local-memory.ts` (embedded,
 * the default) and `tool-server-memory.ts` (a tool server's `memory_query`/`memory_upsert`)
 * implement it, and anyone may pass their own.
 * @module
 */

/** One note as a query returns it. */
export interface MemoryItem {
  text: string
  /** Who said it (`user`, `assistant`), when known. */
  role?: string | undefined
  /** Relevance, higher is better (the adapter's own scale). */
  score: number
  /** When it was stored, ms since the epoch (0 when the store does not say). */
  ts: number
}

/** One note to store. */
export interface MemoryNote {
  text: string
  role?: string | undefined
  /** When it was said, ms since the epoch. @default now */
  ts?: number | undefined
  /** Where it came from (`queuegate`, a client's name); stores may ignore it. */
  source?: string | undefined
}

/** Options of {@link MemoryAdapter.query}. */
export interface MemoryQueryOptions {
  /** Notes wanted at most. @default 8 */
  k?: number | undefined
  /** Aborts the query (the memory timeout, the client gone). */
  signal?: AbortSignal | undefined
}

/** A store of notes per namespace. Results and promises only: an adapter may be in-process or remote. */
export interface MemoryAdapter {
  /** The `k` notes of `namespace` most relevant to `text`, best first (none: an empty list). */
  query(namespace: string, text: string, options?: MemoryQueryOptions): Promise<MemoryItem[]>
  /** Stores notes in `namespace` (a store may skip a text it already holds there). */
  upsert(namespace: string, notes: MemoryNote[], options?: { signal?: AbortSignal | undefined }): Promise<void>
  /** Drops every note of `namespace`. */
  forget(namespace: string): Promise<void>
  /**
   * Optional: the newest notes of `namespace`, newest first (for `GET /v1/memory/{namespace}`
   * without `q`); score 0.
   */
  list?(namespace: string, options?: { limit?: number | undefined }): Promise<MemoryItem[]>
  /** Writes what is pending and lets go of files and connections. */
  close(): Promise<void>
}
