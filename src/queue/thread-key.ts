/**
 * The sticky thread key of a request, a pure helper the gateway calls per request (its priority class
 * comes from the gateway's endpoint table: gateway/job-class.ts).
 * @module
 */
import { fnv1a64 } from './fnv1a-64.js'

/** Headers searched after the configured one, in order (Open WebUI uses both spellings). Lower-case: lookups are. */
const THREAD_HEADERS = [
  'x-openwebui-chat-id',
  'x-open-webui-chat-id',
  'x-openwebui-conversation-id',
  'x-open-webui-conversation-id',
  'x-openwebui-thread-id',
  'x-open-webui-thread-id',
  'x-conversation-id',
] as const

const BODY_FIELDS = ['chat_id', 'conversation_id', 'thread_id'] as const

/** Ids longer than this are hashed, so the sticky map's memory stays bounded whatever clients send. */
const MAX_KEY_LENGTH = 200

/** Input of {@link threadKeyFor}. */
export interface ThreadKeyInput {
  /** Request headers (lookup is case-insensitive). */
  headers: Pick<Headers, 'get'>
  /** Parsed JSON body of the chat request. */
  body: Record<string, unknown>
  /** Header checked first. @default 'X-Chat-Id' */
  stickyHeader?: string | undefined
}

/**
 * The sticky key of a request, from the first of: the configured header (default `X-Chat-Id`),
 * `X-OpenWebUI-Chat-Id`, `X-Open-WebUI-Chat-Id`, the same two spellings of `-Conversation-Id` and `-Thread-Id`,
 * `X-Conversation-Id`; body `chat_id`, `conversation_id`, `thread_id`, then the same under `body.metadata`.
 * Otherwise `'h:'` + FNV-1a 64 (hex) of the canonical JSON (sorted keys) of `[model, messages, user]`, where
 * `messages` is the first two messages cut after the first `user` message: so `[system, user]` and `[user]`
 * chats hash the same on every turn (a chat without a system prompt would otherwise change key on turn 2).
 * Ids longer than 200 characters become `'l:'` + their hash.
 * @example threadKeyFor({ headers: new Headers({ 'x-openwebui-chat-id': 'c1' }), body: {} }) // 'c1'
 */
export function threadKeyFor({ headers, body, stickyHeader = 'X-Chat-Id' }: ThreadKeyInput): string {
  const first = headers.get(stickyHeader)?.trim()
  if (first) return bounded(first)
  for (const name of THREAD_HEADERS) {
    const value = headers.get(name)?.trim()
    if (value) return bounded(value)
  }
  const fromBody = idField(body)
  if (fromBody !== undefined) return fromBody
  const metadata = body['metadata']
  if (isRecord(metadata)) {
    const fromMetadata = idField(metadata)
    if (fromMetadata !== undefined) return fromMetadata
  }
  const messages = Array.isArray(body['messages']) ? body['messages'] : []
  const opening: unknown[] = []
  for (const message of messages) {
    if (opening.length === 2) break
    opening.push(message)
    if (isRecord(message) && message['role'] === 'user') break
  }
  return 'h:' + fnv1a64(canonicalJson([body['model'] ?? null, opening, body['user'] ?? null]))
}

function idField(record: Record<string, unknown>): string | undefined {
  for (const field of BODY_FIELDS) {
    const value = record[field]
    if (typeof value === 'string' && value.trim() !== '') return bounded(value.trim())
    if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  }
  return undefined
}

function bounded(id: string): string {
  return id.length > MAX_KEY_LENGTH ? 'l:' + fnv1a64(id) : id
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** JSON with object keys sorted at every level, so equal values give equal text. */
function canonicalJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null'
  let text: string
  if (Array.isArray(value)) {
    text = '['
    for (let index = 0; index < value.length; index++) {
      if (index > 0) text += ','
      const item: unknown = value[index]
      text += canonicalJson(item === undefined ? null : item)
    }
    return text + ']'
  }
  const record = value as Record<string, unknown>
  const keys = sortedKeys(record)
  text = '{'
  for (const key of keys) {
    const item = record[key]
    if (item === undefined) continue
    if (text.length > 1) text += ','
    text += JSON.stringify(key) + ':' + canonicalJson(item)
  }
  return text + '}'
}

/** The object's keys in code-unit order (as `sort()` gives), by insertion sort: objects here have a few keys, and `sort()` allocates. */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record)
  for (let index = 1; index < keys.length; index++) {
    const key = keys[index] as string
    let at = index - 1
    while (at >= 0 && (keys[at] as string) > key) {
      keys[at + 1] = keys[at] as string
      at--
    }
    keys[at + 1] = key
  }
  return keys
}
