/**
 * The conversation id of a request, when the client names one: the one place that knows where
 * clients put it. Sticky routing (`thread-key.ts`) and chat memory's namespace both read it.
 * @module
 */
import { fnv1a64 } from './fnv1a-64.js'

/** Headers searched after the configured one, in order (Open WebUI uses both spellings). Lower-case: lookups are. */
const CONVERSATION_HEADERS = [
  'x-openwebui-chat-id',
  'x-open-webui-chat-id',
  'x-openwebui-conversation-id',
  'x-open-webui-conversation-id',
  'x-openwebui-thread-id',
  'x-open-webui-thread-id',
  'x-conversation-id',
] as const

const BODY_FIELDS = ['chat_id', 'conversation_id', 'thread_id'] as const

/** Ids longer than this are hashed, so maps keyed by them stay bounded whatever clients send. */
const MAX_ID_LENGTH = 200

/** Input of {@link conversationIdOf}. */
export interface ConversationIdInput {
  /** Request headers (lookup is case-insensitive). */
  headers: Pick<Headers, 'get'>
  /** Parsed JSON body of the request. */
  body: Record<string, unknown>
  /** Header checked first. @default 'X-Chat-Id' */
  stickyHeader?: string | undefined
}

/**
 * The conversation id the request carries, from the first of: the configured header (default
 * `X-Chat-Id`), `X-OpenWebUI-Chat-Id`, `X-Open-WebUI-Chat-Id`, the same two spellings of
 * `-Conversation-Id` and `-Thread-Id`, `X-Conversation-Id`; body `chat_id`, `conversation_id`,
 * `thread_id`, then the same under `body.metadata`. Trimmed; an id longer than 200 characters
 * becomes `'l:'` + its FNV-1a 64 hash. Undefined when the request names none.
 * @example conversationIdOf({ headers: new Headers(), body: { metadata: { chat_id: 'c1' } } }) // 'c1'
 */
export function conversationIdOf({ headers, body, stickyHeader = 'X-Chat-Id' }: ConversationIdInput): string | undefined {
  const first = headers.get(stickyHeader)?.trim()
  if (first) return bounded(first)
  for (const name of CONVERSATION_HEADERS) {
    const value = headers.get(name)?.trim()
    if (value) return bounded(value)
  }
  const fromBody = idField(body)
  if (fromBody !== undefined) return fromBody
  const metadata = body['metadata']
  if (isRecord(metadata)) return idField(metadata)
  return undefined
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
  return id.length > MAX_ID_LENGTH ? 'l:' + fnv1a64(id) : id
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
