/**
 * The embedded memory (`--memory local`): notes in process, per namespace, ranked by full text
 * (BM25, MiniSearch) with a small boost for newer notes, and optionally by embeddings too
 * (hybrid). Persisted to an append-only log of JSON lines (see `memory-log.ts`) when given a
 * {@link MemoryStorage}: reloaded at start (bad lines skipped with a warning), compacted when it
 * holds much more than the live notes. Bounded per namespace and in total (oldest dropped).
 * @module
 */
import type { Embedder } from './embedder.js'
import { dot, unitVector } from './embedder.js'
import type { MemoryAdapter, MemoryItem, MemoryNote, MemoryQueryOptions } from './memory-adapter.js'
import { encodeRecord, readLog } from './memory-log.js'
import type { LoggedNote, LogRecord } from './memory-log.js'
import type { MemoryStorage } from './memory-storage.js'
import { TextIndex } from './text-index.js'
import type { TextHit } from './text-index.js'

/** Options of {@link createLocalMemory}. */
export interface LocalMemoryOptions {
  /** Notes kept per namespace; the oldest go first. @default 2000 */
  maxItems?: number | undefined
  /** Notes kept over all namespaces; the oldest go first. @default 100 000 */
  maxTotalItems?: number | undefined
  /** Longest note kept, in characters (longer ones are cut). @default 12 000 */
  maxTextChars?: number | undefined
  /** Where the log is kept; none: the notes live as long as the process. */
  storage?: MemoryStorage | undefined
  /** Semantic ranking: notes and queries embedded with it, ranked by full text and cosine together. */
  embedder?: Embedder | undefined
  /**
   * Weight of the newest note's boost: a note's score is multiplied by `1 + recencyBoost × r`,
   * `r` going from 0 (the namespace's oldest note) to 1 (its newest). @default 0.1
   */
  recencyBoost?: number | undefined
  /** Weight of the cosine in the hybrid score (the rest is the full-text score, scaled to 0-1). @default 0.5 */
  semanticWeight?: number | undefined
  /** The log is compacted when it has more lines than this many times the live notes (and at least 1000). @default 2 */
  compactRatio?: number | undefined
  /** Wall time for notes stored without `ts`. @default Date.now */
  now?: (() => number) | undefined
  /** Told about what went wrong without failing anything (a bad log line, a failed write or embedding). */
  onWarning?: ((message: string) => void) | undefined
}

/** A note in memory. */
interface Note {
  readonly id: number
  readonly ns: string
  readonly text: string
  readonly role: string | undefined
  readonly ts: number
  readonly vec: Float32Array | undefined
  /** As logged (the vector before scaling), for compaction. */
  readonly logged: LoggedNote
}

/** One namespace. */
interface Space {
  /** By id, oldest first. */
  readonly notes: Map<number, Note>
  /** Text → id: a text is stored once per namespace. */
  readonly texts: Map<string, number>
  /** Built on the first query (a reload indexes nothing until asked). */
  index: TextIndex | undefined
  /** The index being built, in slices that let other work run between them. */
  building: Promise<TextIndex> | undefined
  /** Notes removed while the index was being built (taken out of it once it is done). */
  removedWhileBuilding: Note[] | undefined
  /** The newest note's id (notes leave only from the front). */
  lastId: number
}

/** Lines a log may hold before compaction is considered at all. */
const MIN_COMPACT_LINES = 1000
/** Notes indexed between two turns of the event loop when a namespace's index is built. */
const INDEX_SLICE = 250
/** Full-text hits a hybrid query considers besides the nearest vectors. */
const HYBRID_CANDIDATES = 64

/** Creates the embedded memory. It starts loading its log at once; calls wait for that. */
export function createLocalMemory(options: LocalMemoryOptions = {}): LocalMemory {
  return new LocalMemory(options)
}

/** The embedded {@link MemoryAdapter}; see the module doc. */
export class LocalMemory implements MemoryAdapter {
  readonly #maxItems: number
  readonly #maxTotalItems: number
  readonly #maxTextChars: number
  readonly #embedder: Embedder | undefined
  readonly #recencyBoost: number
  readonly #semanticWeight: number
  readonly #compactRatio: number
  readonly #now: () => number
  readonly #warn: (message: string) => void
  #storage: MemoryStorage | undefined
  readonly #spaces = new Map<string, Space>()
  /** Every note by id, oldest first (the total bound drops from the front). */
  readonly #all = new Map<number, Note>()
  #nextId = 1
  /** Lines in the log (records written or read, bad ones included). */
  #logLines = 0
  #pending = ''
  #flushQueued = false
  /** Storage operations, one at a time in order. */
  #chain: Promise<void> = Promise.resolve()
  readonly #loaded: Promise<void>
  #closed = false

  constructor(options: LocalMemoryOptions = {}) {
    const { maxItems = 2000, maxTotalItems = 100_000, maxTextChars = 12_000, storage, embedder, recencyBoost = 0.1, semanticWeight = 0.5, compactRatio = 2, now = Date.now, onWarning = () => {} } = options
    positiveInteger('maxItems', maxItems)
    positiveInteger('maxTotalItems', maxTotalItems)
    positiveInteger('maxTextChars', maxTextChars)
    if (!(typeof recencyBoost === 'number' && recencyBoost >= 0 && Number.isFinite(recencyBoost))) throw new TypeError(`recencyBoost: expected a number >= 0, got ${JSON.stringify(recencyBoost)}`)
    if (!(typeof semanticWeight === 'number' && semanticWeight >= 0 && semanticWeight <= 1)) throw new TypeError(`semanticWeight: expected a number from 0 to 1, got ${JSON.stringify(semanticWeight)}`)
    if (!(typeof compactRatio === 'number' && compactRatio > 1)) throw new TypeError(`compactRatio: expected a number > 1, got ${JSON.stringify(compactRatio)}`)
    this.#maxItems = maxItems
    this.#maxTotalItems = maxTotalItems
    this.#maxTextChars = maxTextChars
    this.#storage = storage
    this.#embedder = embedder
    this.#recencyBoost = recencyBoost
    this.#semanticWeight = semanticWeight
    this.#compactRatio = compactRatio
    this.#now = now
    this.#warn = onWarning
    this.#loaded = storage === undefined ? Promise.resolve() : this.#load(storage)
  }

  /** Resolves once the log is read (at once without storage); never rejects. */
  ready(): Promise<void> {
    return this.#loaded
  }

  /** Notes held now, over all namespaces. */
  get size(): number {
    return this.#all.size
  }

  async query(namespace: string, text: string, options: MemoryQueryOptions = {}): Promise<MemoryItem[]> {
    const { k = 8, signal } = options
    await this.#loaded
    signal?.throwIfAborted()
    const space = this.#spaces.get(namespace)
    if (space === undefined || k < 1 || text.trim() === '') return []
    let queryVec: Float32Array | undefined
    if (this.#embedder !== undefined && this.#hasVectors(space)) {
      try {
        const [vector] = await this.#embedder.embed([text], { signal })
        if (vector !== undefined) queryVec = unitVector(vector)
      } catch (error) {
        signal?.throwIfAborted()
        this.#warn(`memory: embedding the query failed, ranking by full text only: ${messageOf(error)}`)
      }
    }
    // The namespace may have gone (forget) while the embedding was on its way.
    if (this.#spaces.get(namespace) !== space) return []
    const index = space.index ?? (await this.#indexOf(space))
    if (this.#spaces.get(namespace) !== space) return []
    const hits = index.search(text)
    const scored = queryVec === undefined ? hits : this.#hybrid(space, hits, queryVec)
    const first = space.notes.keys().next().value as number
    const span = Math.max(1, space.lastId - first)
    // The best k after the recency boost, kept sorted (k is small; hits may be thousands).
    const best: Array<{ note: Note; score: number }> = []
    for (const hit of scored) {
      const note = space.notes.get(hit.id)
      if (note === undefined) continue
      const score = hit.score * (1 + (this.#recencyBoost * (note.id - first)) / span)
      if (best.length === k && score <= (best[k - 1] as { score: number }).score) continue
      let at = best.length === k ? k - 1 : best.length
      while (at > 0 && (best[at - 1] as { score: number }).score < score) {
        best[at] = best[at - 1] as { note: Note; score: number }
        at--
      }
      best[at] = { note, score }
    }
    return best.map(({ note, score }) => ({ text: note.text, role: note.role, score, ts: note.ts }))
  }

  async upsert(namespace: string, notes: MemoryNote[], options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    if (namespace === '') throw new TypeError('upsert: the namespace must not be empty')
    await this.#loaded
    const space = this.#spaces.get(namespace)
    const fresh: Array<{ text: string; role: string | undefined; ts: number }> = []
    const seen = new Set<string>()
    for (const note of notes) {
      let text = typeof note.text === 'string' ? note.text.trim() : ''
      if (text.length > this.#maxTextChars) text = text.slice(0, this.#maxTextChars)
      if (text === '' || seen.has(text) || space?.texts.has(text) === true) continue
      seen.add(text)
      fresh.push({ text, role: typeof note.role === 'string' ? note.role : undefined, ts: typeof note.ts === 'number' && Number.isFinite(note.ts) ? note.ts : this.#now() })
    }
    if (fresh.length === 0) return
    let vectors: number[][] | undefined
    if (this.#embedder !== undefined) {
      try {
        vectors = await this.#embedder.embed(
          fresh.map((note) => note.text),
          { signal: options.signal },
        )
        if (vectors.length !== fresh.length) throw new Error(`expected ${fresh.length} vectors, got ${vectors.length}`)
      } catch (error) {
        vectors = undefined
        this.#warn(`memory: embedding new notes failed, they are stored for full-text ranking only: ${messageOf(error)}`)
      }
    }
    let lines = ''
    for (const [index, note] of fresh.entries()) {
      const logged: LoggedNote = { ns: namespace, text: note.text, role: note.role, ts: note.ts }
      const vector = vectors?.[index]
      if (vector !== undefined && this.#embedder !== undefined) {
        logged.vec = roundVector(vector)
        logged.vecModel = this.#embedder.model
      }
      // Another upsert may have stored the same text while the embedding was on its way.
      if (this.#add(logged)) lines += encodeRecord({ kind: 'note', note: logged })
    }
    this.#log(lines)
  }

  async forget(namespace: string): Promise<void> {
    await this.#loaded
    const space = this.#spaces.get(namespace)
    if (space === undefined) return
    this.#drop(namespace)
    this.#log(encodeRecord({ kind: 'forget', ns: namespace }))
  }

  async list(namespace: string, options: { limit?: number | undefined } = {}): Promise<MemoryItem[]> {
    const { limit = 50 } = options
    await this.#loaded
    const space = this.#spaces.get(namespace)
    if (space === undefined) return []
    const notes = [...space.notes.values()]
    const items: MemoryItem[] = []
    for (let index = notes.length - 1; index >= 0 && items.length < limit; index--) {
      const note = notes[index] as Note
      items.push({ text: note.text, role: note.role, score: 0, ts: note.ts })
    }
    return items
  }

  /** Writes what is pending and closes the storage (later calls wait for nothing more). */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#loaded
    await this.#chain
    await this.#storage?.close?.()
  }

  /** Writes the log anew with only the live notes (also done by itself when the log grew). */
  compact(): Promise<void> {
    const storage = this.#storage
    if (storage === undefined) return Promise.resolve()
    return this.#schedule(async () => {
      let text = ''
      for (const note of this.#all.values()) text += encodeRecord({ kind: 'note', note: note.logged })
      // Everything pending is in the notes just written.
      this.#pending = ''
      await storage.replace(text)
      this.#logLines = this.#all.size
    })
  }

  async #load(storage: MemoryStorage): Promise<void> {
    let result
    try {
      // A note's line: its text (capped) as JSON (up to 6 characters per one escaped) and a vector.
      result = await readLog(storage.read(), (record) => this.#replay(record), this.#maxTextChars * 6 + 1_000_000)
    } catch (error) {
      // Writing on would clobber what could not be read: this run keeps its notes in memory only.
      this.#storage = undefined
      this.#warn(`memory: the log could not be read; notes are not persisted this run: ${messageOf(error)}`)
      return
    }
    this.#logLines = result.lines
    if (result.bad > 0) this.#warn(`memory: skipped ${result.bad} unreadable line${result.bad === 1 ? '' : 's'} of the log${result.tornTail ? ' (the last one torn, as a crash leaves it)' : ''}`)
    // A log that does not end with a newline would glue the next line to its last one: write it anew.
    if (result.bad > 0 || result.unterminated || this.#compactDue()) await this.compact()
  }

  #replay(record: LogRecord): void {
    if (record.kind === 'forget') this.#drop(record.ns)
    else this.#add(record.note)
  }

  /** Adds a note unless its namespace holds the text; applies the bounds. False when skipped. */
  #add(logged: LoggedNote): boolean {
    let space = this.#spaces.get(logged.ns)
    if (space === undefined) {
      space = { notes: new Map(), texts: new Map(), index: undefined, building: undefined, removedWhileBuilding: undefined, lastId: 0 }
      this.#spaces.set(logged.ns, space)
    } else if (space.texts.has(logged.text)) {
      return false
    }
    const vec = logged.vec !== undefined && logged.vecModel === this.#embedder?.model ? unitVector(logged.vec) : undefined
    const note: Note = { id: this.#nextId++, ns: logged.ns, text: logged.text, role: logged.role, ts: logged.ts, vec, logged }
    space.notes.set(note.id, note)
    space.texts.set(note.text, note.id)
    space.lastId = note.id
    space.index?.add(note.id, note.text)
    this.#all.set(note.id, note)
    if (space.notes.size > this.#maxItems) this.#remove(space, space.notes.values().next().value as Note)
    while (this.#all.size > this.#maxTotalItems) {
      const oldest = this.#all.values().next().value as Note
      this.#remove(this.#spaces.get(oldest.ns) as Space, oldest)
    }
    return true
  }

  #remove(space: Space, note: Note): void {
    space.notes.delete(note.id)
    space.texts.delete(note.text)
    space.index?.remove(note.id, note.text)
    space.removedWhileBuilding?.push(note)
    this.#all.delete(note.id)
    if (space.notes.size === 0) this.#spaces.delete(note.ns)
  }

  #drop(namespace: string): void {
    const space = this.#spaces.get(namespace)
    if (space === undefined) return
    for (const id of space.notes.keys()) this.#all.delete(id)
    this.#spaces.delete(namespace)
  }

  /**
   * The namespace's index, built on its first query in slices of {@link INDEX_SLICE} notes with
   * the event loop free between them (2000 notes take ~80 ms to index: other requests must not
   * wait for that). Notes added meanwhile are indexed at the end, notes removed taken out.
   */
  #indexOf(space: Space): Promise<TextIndex> {
    space.building ??= (async () => {
      const index = new TextIndex()
      const snapshot = [...space.notes.values()]
      const lastId = space.lastId
      space.removedWhileBuilding = []
      for (let start = 0; start < snapshot.length; start += INDEX_SLICE) {
        if (start > 0) await yieldToEventLoop()
        const end = Math.min(snapshot.length, start + INDEX_SLICE)
        for (let at = start; at < end; at++) {
          const note = snapshot[at] as Note
          index.add(note.id, note.text)
        }
      }
      for (const note of space.removedWhileBuilding) if (note.id <= lastId) index.remove(note.id, note.text)
      for (const note of space.notes.values()) if (note.id > lastId) index.add(note.id, note.text)
      space.removedWhileBuilding = undefined
      space.index = index
      space.building = undefined
      return index
    })()
    return space.building
  }

  #hasVectors(space: Space): boolean {
    for (const note of space.notes.values()) if (note.vec !== undefined) return true
    return false
  }

  /** Full-text hits and the nearest vectors, scored `w × cosine + (1 − w) × bm25 / best bm25`. */
  #hybrid(space: Space, hits: readonly TextHit[], queryVec: Float32Array): TextHit[] {
    const weight = this.#semanticWeight
    const best = hits[0]?.score ?? 0
    const text = new Map<number, number>()
    for (let index = 0; index < hits.length && index < HYBRID_CANDIDATES; index++) {
      const hit = hits[index] as TextHit
      text.set(hit.id, best > 0 ? hit.score / best : 0)
    }
    const scored: TextHit[] = []
    for (const note of space.notes.values()) {
      const cosine = note.vec === undefined ? 0 : Math.max(0, dot(note.vec, queryVec))
      const fullText = text.get(note.id) ?? 0
      if (cosine === 0 && fullText === 0) continue
      scored.push({ id: note.id, score: weight * cosine + (1 - weight) * fullText })
    }
    return scored
  }

  /** Appends lines to the log (in order, one write for what piles up meanwhile), and compacts when due. */
  #log(lines: string): void {
    if (this.#storage === undefined || lines === '') return
    this.#pending += lines
    for (let at = lines.indexOf('\n'); at !== -1; at = lines.indexOf('\n', at + 1)) this.#logLines++
    if (!this.#flushQueued) {
      this.#flushQueued = true
      const storage = this.#storage
      void this.#schedule(async () => {
        this.#flushQueued = false
        const text = this.#pending
        this.#pending = ''
        if (text !== '') await storage.append(text)
      })
    }
    if (this.#compactDue()) void this.compact()
  }

  #compactDue(): boolean {
    return this.#logLines > MIN_COMPACT_LINES && this.#logLines > this.#compactRatio * this.#all.size
  }

  /** Runs a storage operation after the ones before it; a failure is warned about, and the next runs. */
  #schedule(operation: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(operation).catch((error: unknown) => this.#warn(`memory: writing the log failed: ${messageOf(error)}`))
    this.#chain = run
    return run
  }
}

/** Lets timers and I/O run (a zero-delay macrotask, not a wait: no clock needed). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}

/** Six decimals are plenty for a cosine, and keep the log small. */
function roundVector(vector: readonly number[]): number[] {
  return vector.map((x) => Math.round(x * 1e6) / 1e6)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function positiveInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new TypeError(`${name}: expected a whole number >= 1, got ${JSON.stringify(value)}`)
}
