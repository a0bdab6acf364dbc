/**
 * SSE collectors: read a `text/event-stream` response to the end and return its events, or the
 * chat-completion chunks it carried.
 * @module
 */
import { EventSourceParserStream } from 'eventsource-parser/stream'

/** One server-sent event. */
export interface SseEvent {
  /** The `event:` field, if any. */
  event: string | undefined
  data: string
  id: string | undefined
}

/** Every event and comment of an SSE body. */
export interface SseResult {
  events: SseEvent[]
  /** Comment lines (`: keep-alive`), without the leading colon. */
  comments: string[]
}

type Body = Response | ReadableStream<Uint8Array> | null

/** Reads an SSE body (a `Response` or its `body`) to the end; rejects on a stream error. */
export async function collectSse(body: Body): Promise<SseResult> {
  const stream = body instanceof Response ? body.body : body
  const events: SseEvent[] = []
  const comments: string[] = []
  if (stream === null) return { events, comments }
  const parsed = stream
    // The DOM lib types TextDecoderStream's input as BufferSource, which Uint8Array<ArrayBufferLike> is not.
    .pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
    .pipeThrough(new EventSourceParserStream({ onComment: (comment) => comments.push(comment) }))
  for await (const message of parsed) events.push({ event: message.event, data: message.data, id: message.id })
  return { events, comments }
}

/** The JSON data events of a chat-completion stream, and whether it ended with `data: [DONE]`. */
export interface ChunkResult {
  chunks: Array<Record<string, unknown>>
  /** True when the last data event was `[DONE]`. */
  done: boolean
  /** Data events that were neither JSON objects nor `[DONE]`, verbatim. */
  other: string[]
  comments: string[]
}

/**
 * Reads a chat-completion SSE body and parses each `data:` event as JSON (an error event
 * `{"error": …}` is a chunk too, so a test can assert on it).
 * @example const { chunks, done } = await collectChunks(await fetch(`${url}/v1/chat/completions`, init))
 */
export async function collectChunks(body: Body): Promise<ChunkResult> {
  const { events, comments } = await collectSse(body)
  const chunks: Array<Record<string, unknown>> = []
  const other: string[] = []
  let done = false
  for (const { data } of events) {
    done = data === '[DONE]'
    if (done) continue
    try {
      const value: unknown = JSON.parse(data)
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) chunks.push(value as Record<string, unknown>)
      else other.push(data)
    } catch {
      other.push(data)
    }
  }
  return { chunks, done, other, comments }
}
