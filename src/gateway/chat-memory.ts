/**
 * Chat memory in the gateway: before the call, the conversation's notes are queried with the
 * last user text and, when some come back, put in one message after the system messages while
 * the history is trimmed to its last turns; after the answer, the user's text and the final
 * answer are stored (clipped, once each, never the notes themselves), off the response's path.
 * Memory never fails or stalls a chat: past `timeoutMs`, or on any error, the request goes on
 * without it and a warning is reported.
 * @module
 */
import { fnv1a64 } from '../queue/fnv1a-64.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'
import type { AssistantMessage } from '../openai/message-accumulator.js'
import { createLocalMemory } from '../memory/local-memory.js'
import type { Embedder } from '../memory/embedder.js'
import type { MemoryAdapter, MemoryItem, MemoryNote } from '../memory/memory-adapter.js'
import { lastUserText } from '../memory/message-text.js'
import { insertNotes, notesMessage, NOTES_HEADER } from '../memory/notes-message.js'
import { createToolServerMemory } from '../memory/tool-server-memory.js'
import { trimHistory } from '../memory/trim-history.js'
import { addAnswerHook } from './call-plan.js'
import type { CallPlan } from './call-plan.js'
import type { Clock } from './clock.js'
import type { GatewayKey } from './gateway-keys.js'
import type { ResolvedMemoryOptions } from './memory-options.js'
import type { ToolRegistry } from '../tools/types.js'

/** Texts remembered as stored, per process (a regenerated answer or a resent turn is not stored again). */
const MAX_REMEMBERED = 10_000

/** What {@link ChatMemory} is built from. */
export interface ChatMemoryParts {
  options: ResolvedMemoryOptions
  clock: Clock
  /** Reports a problem (the CLI logs it at warn). */
  warn: (message: string) => void
  /** The embedder for `options.embeddings` (built by the gateway: it queues through its own scheduler). */
  embedder?: Embedder | undefined
  /** The gateway's tool registry: the `toolserver` store's tools, unless `options.toolRegistry` names another. */
  tools?: ToolRegistry | undefined
}

/** The gateway's chat memory: the adapter and the rules around it. */
export class ChatMemory {
  readonly options: ResolvedMemoryOptions
  readonly adapter: MemoryAdapter
  readonly #clock: Clock
  readonly #warn: (message: string) => void
  /** Hashes of `namespace + text` stored by this process, oldest first. */
  readonly #stored = new Map<string, true>()
  readonly #storing = new Set<Promise<void>>()
  #closed = false

  constructor(parts: ChatMemoryParts) {
    const { options, clock, warn, embedder, tools } = parts
    this.options = options
    this.#clock = clock
    this.#warn = warn
    const { store } = options
    if (store === 'local') {
      this.adapter = createLocalMemory({ maxItems: options.maxItems, maxTotalItems: options.maxTotalItems, maxTextChars: options.maxUpsertChars + 1, storage: options.storage, embedder, now: clock.now, onWarning: warn })
    } else if (store === 'toolserver') {
      const registry = options.toolRegistry ?? tools
      if (registry === undefined) throw new TypeError('memory.store: toolserver needs a tool server with memory_query and memory_upsert (toolServers, or memory.toolRegistry)')
      this.adapter = createToolServerMemory({ registry })
    } else {
      this.adapter = store
    }
  }

  /** Memory takes part in this request: a chat, from a user (or an agent, with `forAgents`). */
  appliesTo(plan: CallPlan): boolean {
    return plan.endpoint.chat && (plan.jobClass === 'interactive' || (this.options.forAgents && plan.jobClass === 'batch'))
  }

  /**
   * Queries the notes of the plan's conversation (its thread key) with the last user text and,
   * when some come back, rewrites the body (trimmed history, the notes message); adds the hook
   * that stores the turn. Never rejects.
   */
  async prepare(plan: CallPlan): Promise<void> {
    const namespace = plan.threadKey === '' ? '' : memoryNamespace(plan.key, plan.threadKey)
    const messages = plan.body.messages
    // The user's own words: a stage before this one may have rewritten the last user message
    // (a variant's `/nothink` suffix), which would then be queried with and stored.
    const userText = lastUserText(plan.bodyChanged ? clientMessages(plan.text) : messages)
    if (namespace === '' || userText === '' || !Array.isArray(messages)) return
    const { options } = this
    // The hook first: the turn is stored even when the query fails.
    if (options.upsert) addAnswerHook(plan, (message) => this.#remember(namespace, userText, message))
    let items: MemoryItem[]
    try {
      items = await this.#withTimeout((signal) => this.adapter.query(namespace, userText, { k: options.queryK, signal }), plan.request.signal)
    } catch (error) {
      this.#warn(`memory: query for job ${plan.jobId} failed, answering without memory: ${messageOf(error)}`)
      return
    }
    const notes = notesMessage(items.slice(0, options.queryK), { role: options.injectRole, hint: options.hint })
    if (notes === undefined) return
    const history = options.truncateHistory ? trimHistory(messages, options.keepLast) : messages
    plan.body = { ...plan.body, messages: insertNotes(history, notes) }
    plan.bodyChanged = true
  }

  /** `GET /v1/memory/{namespace}`: the notes for `q`, or the newest ones without it. */
  async inspect(namespace: string, q: string | undefined, k: number): Promise<MemoryItem[]> {
    if (q === undefined || q.trim() === '') {
      if (this.adapter.list === undefined) return []
      return this.#withTimeout(() => (this.adapter.list as NonNullable<MemoryAdapter['list']>)(namespace, { limit: k }))
    }
    return this.#withTimeout((signal) => this.adapter.query(namespace, q, { k, signal }))
  }

  /** `DELETE /v1/memory/{namespace}`. */
  forget(namespace: string): Promise<void> {
    this.#forgetStored(namespace)
    return this.#withTimeout(() => this.adapter.forget(namespace))
  }

  /** Waits for turns being stored, then closes the adapter. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.allSettled([...this.#storing])
    await this.adapter.close()
  }

  /** The answer hook: stores the turn after the response went out (the next turn of the event loop). */
  #remember(namespace: string, userText: string, message: AssistantMessage): void {
    if (this.#closed) return
    const notes: MemoryNote[] = []
    const now = this.#clock.now()
    for (const [role, text] of [['user', userText], ['assistant', typeof message.content === 'string' ? message.content : '']] as const) {
      const clipped = this.#clip(text)
      // Never the notes themselves (a client that sends back what it was sent), never twice.
      if (clipped === '' || clipped.startsWith(NOTES_HEADER) || this.#wasStored(namespace, clipped)) continue
      notes.push({ text: clipped, role, ts: now, source: 'queuegate' })
    }
    if (notes.length === 0) return
    const storing: Promise<void> = new Promise<void>((resolve) => {
      this.#clock.setTimeout(() => {
        this.#withTimeout((signal) => this.adapter.upsert(namespace, notes, { signal }))
          .then(
            () => {
              for (const note of notes) this.#markStored(namespace, note.text)
            },
            (error: unknown) => this.#warn(`memory: storing the turn failed: ${messageOf(error)}`),
          )
          .finally(() => {
            this.#storing.delete(storing)
            resolve()
          })
      }, 0)
    })
    this.#storing.add(storing)
  }

  #clip(text: string): string {
    const trimmed = text.trim()
    const max = this.options.maxUpsertChars
    return trimmed.length > max ? `${trimmed.slice(0, max)}…` : trimmed
  }

  #wasStored(namespace: string, text: string): boolean {
    return this.#stored.has(storedKey(namespace, text))
  }

  #markStored(namespace: string, text: string): void {
    const key = storedKey(namespace, text)
    this.#stored.delete(key)
    this.#stored.set(key, true)
    if (this.#stored.size > MAX_REMEMBERED) this.#stored.delete(this.#stored.keys().next().value as string)
  }

  #forgetStored(namespace: string): void {
    // Keys are hashes: a forgotten namespace's texts may be stored again, so drop them all (rare: an operator's call).
    if (namespace !== '') this.#stored.clear()
  }

  /** Runs `run` with a signal that aborts after `timeoutMs` (or with `outer`); rejects at the deadline whether or not `run` listens. */
  async #withTimeout<T>(run: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
    const { timeoutMs } = this.options
    const controller = new AbortController()
    const signal = outer === undefined ? controller.signal : AbortSignal.any([controller.signal, outer])
    let timer: unknown
    const deadline = new Promise<never>((_, reject) => {
      timer = this.#clock.setTimeout(() => {
        const error = new Error(`no answer within ${timeoutMs} ms`)
        controller.abort(error)
        reject(error)
      }, timeoutMs)
    })
    try {
      return await Promise.race([run(signal), deadline])
    } finally {
      this.#clock.clearTimeout(timer)
    }
  }
}

/** The `messages` of the body as the client sent it. */
/**
 * The memory namespace of a conversation: its thread key, below the gateway key's name when the request carried
 * one (`key:<name>/<thread key>`, the name URI-encoded so no two keys' namespaces meet), so that two keys sending
 * the same chat id never share notes, and a key's memory routes reach only its own conversations.
 * @example memoryNamespace({ name: 'alice', key: '…', class: undefined, limit: undefined }, 'chat-1') // 'key:alice/chat-1'
 */
export function memoryNamespace(key: GatewayKey | undefined, threadKey: string): string {
  return key === undefined ? threadKey : `key:${encodeURIComponent(key.name)}/${threadKey}`
}

function clientMessages(text: string): unknown {
  const parsed = safeParseJson(text)
  return parsed.success && isJsonObject(parsed.value) ? parsed.value.messages : undefined
}

function storedKey(namespace: string, text: string): string {
  return fnv1a64(`${namespace}\u0000${text}`)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
