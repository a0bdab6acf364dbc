/**
 * An upstream's SSE body as chat-completion chunks: bytes in, each chunk (with the payload text it
 * came from) out, until `[DONE]`; an `{"error": …}` payload, a payload that is not a JSON object,
 * an event over the size limit or a chain that throws is the failure that ends the stream. Both
 * consumers of chunks use it: the client relay's chunk path (upstream-relay.ts) and `callModel`'s
 * chunk stream (chunk-stream.ts).
 * @module
 */
import { createParser } from 'eventsource-parser'
import { UpstreamError } from '../errors.js'
import type { ChatCompletionChunk } from '../openai/types.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'

/** Options of {@link ChunkEvents}. */
export interface ChunkEventsOptions {
  /** Each chunk, with its payload text (to send it as it was when nothing changes it). */
  onChunk: (chunk: ChatCompletionChunk, data: string) => void
  /** Largest event, in characters. @default 8 MiB */
  maxEventChars?: number | undefined
  /**
   * The body's first bytes went elsewhere before (a gated relay hands over at an event
   * boundary): a U+FEFF here is a character, not the byte-order mark of the body's start.
   */
  midway?: boolean | undefined
}

/** See the module doc. */
export class ChunkEvents {
  readonly #decoder: TextDecoder
  readonly #parser: ReturnType<typeof createParser>
  /** `[DONE]` arrived (what follows is ignored). */
  done = false
  /** Why the stream failed, once it did (what follows is ignored). */
  failure: Error | undefined

  constructor(options: ChunkEventsOptions) {
    const { onChunk, maxEventChars = 8 * 1024 * 1024, midway = false } = options
    this.#decoder = new TextDecoder('utf-8', { ignoreBOM: midway })
    this.#parser = createParser({
      onEvent: (event) => {
        if (this.done || this.failure !== undefined) return
        if (event.data === '[DONE]') {
          this.done = true
          return
        }
        const chunk = decodeChunk(event.data)
        if (chunk instanceof Error) this.failure = chunk
        else onChunk(chunk, event.data)
      },
      onError: (error) => {
        // Unknown fields and bad `retry` values are ignored, as the SSE spec says.
        if (error.type === 'max-buffer-size-exceeded') this.failure ??= new UpstreamError(`The upstream sent an event larger than ${maxEventChars} characters.`, { code: 'upstream_bad_event' })
      },
      maxBufferSize: maxEventChars,
    })
    // A blank line dispatches nothing; it only moves the parser past its start (and its BOM rule).
    if (midway) this.#parser.feed('\n')
  }

  /** The next bytes of the body. */
  feed(bytes: Uint8Array): void {
    this.#run(() => this.#parser.feed(this.#decoder.decode(bytes, { stream: true })))
  }

  /** The body ended: a last line without its line break is still parsed. */
  end(): void {
    this.#run(() => {
      this.#parser.feed(this.#decoder.decode())
      this.#parser.reset({ consume: true })
    })
  }

  #run(step: () => void): void {
    try {
      step()
    } catch (error) {
      this.failure ??= error instanceof Error ? error : new Error(String(error))
    }
  }
}

/** Decodes one payload into a chunk, or the error that ends the stream. */
export function decodeChunk(data: string): ChatCompletionChunk | Error {
  const parsed = safeParseJson(data)
  if (!parsed.success || !isJsonObject(parsed.value)) {
    return new UpstreamError('The upstream sent an event that is not a JSON object.', { code: 'upstream_bad_event' })
  }
  const value = parsed.value
  if (value.error !== undefined && value.choices === undefined) {
    const error = isJsonObject(value.error) ? value.error : { message: String(value.error) }
    const message = typeof error.message === 'string' ? error.message : JSON.stringify(error)
    return new UpstreamError(`Upstream error: ${message}`, { code: 'upstream_error' })
  }
  if (!Array.isArray(value.choices)) {
    // Completed here: its text is no longer what the upstream sent.
    value.choices = []
    completedChunks.add(value)
  }
  return value as ChatCompletionChunk
}

/** Chunks decodeChunk had to complete (their upstream text is not theirs any more). */
export const completedChunks = new WeakSet<object>()
