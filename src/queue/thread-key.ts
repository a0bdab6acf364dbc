/**
 * The sticky thread key of a request, a pure helper the gateway calls per request (its priority class
 * comes from the gateway's endpoint table: gateway/job-class.ts).
 * @module
 */
import { conversationIdOf } from './conversation-id.js'
import { fnv1a64 } from './fnv1a-64.js'

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
 * The sticky key of a request: its conversation id ({@link conversationIdOf}: the configured header,
 * default `X-Chat-Id`, the Open WebUI chat/conversation/thread headers in both spellings,
 * `X-Conversation-Id`, body `chat_id`/`conversation_id`/`thread_id`, the same under `metadata`).
 * Otherwise `'h:'` + FNV-1a 64 (hex) of the canonical JSON (sorted keys) of `[model, messages, user]`, where
 * `messages` is the first two messages cut after the first `user` message: so `[system, user]` and `[user]`
 * chats hash the same on every turn (a chat without a system prompt would otherwise change key on turn 2).
 * Ids longer than 200 characters become `'l:'` + their hash.
 * @example threadKeyFor({ headers: new Headers({ 'x-openwebui-chat-id': 'c1' }), body: {} }) // 'c1'
 */
export function threadKeyFor({ headers, body, stickyHeader = 'X-Chat-Id' }: ThreadKeyInput): string {
  const id = conversationIdOf({ headers, body, stickyHeader })
  if (id !== undefined) return id
  const messages = Array.isArray(body['messages']) ? body['messages'] : []
  const opening: unknown[] = []
  for (const message of messages) {
    if (opening.length === 2) break
    opening.push(message)
    if (isRecord(message) && message['role'] === 'user') break
  }
  return 'h:' + fnv1a64(canonicalJson([body['model'] ?? null, opening, body['user'] ?? null]))
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
