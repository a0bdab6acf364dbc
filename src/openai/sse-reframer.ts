/**
 * Re-frames an upstream's `text/event-stream` body as the stream an OpenAI client gets: `data:`
 * events only, stopped at `[DONE]`, always ending with `data: [DONE]`. Incremental over bytes.
 *
 * Two paths give the same output. llama.cpp, vLLM, Ollama and LM Studio write every event as
 * one `data: <payload>\n\n` line; while the body keeps to that form, the events' bytes are
 * already the output and pass through untouched (one scan for line ends, no decoding or
 * re-encoding). From the first byte that leaves it (a comment, `event:`/`id:` fields, a
 * multi-line event, CR line ends, a BOM, `data:` without its space), the rest of the body goes
 * through eventsource-parser and each event is re-encoded, exactly as before. A property test
 * holds the two paths equal over any chunking.
 * @module
 */
import { createParser } from 'eventsource-parser'
import { UpstreamError } from '../errors.js'
import { concat, CR, DATA_PREFIX, DONE_PAYLOAD, isPrefixOfData, LF, matches, startsWithDataPrefix } from './sse-bytes.js'

/** Options of {@link createSseReframer}. */
export interface SseReframerOptions {
  /** Largest event the upstream may send, in characters (bytes on the byte path). @default 8 MiB */
  maxEventChars?: number | undefined
  /**
   * Every event's data must be a JSON object (or `[DONE]`): the first that is not stops the
   * output (see {@link SseReframer.failure}). Checked by its first and last byte, parsed only when
   * those are not `{` and `}`. @default false (any data is relayed)
   */
  jsonObjects?: boolean | undefined
}

/** An incremental re-framer; see the module doc. */
export interface SseReframer {
  /**
   * Takes the next bytes of the body; returns the re-framed bytes of the events they complete
   * (possibly empty). Once `[DONE]` is seen, the output ends with its frame and later input is
   * ignored. Throws an {@link UpstreamError} on an event over the limit.
   */
  feed(chunk: Uint8Array): Uint8Array
  /**
   * The body ended: `data: [DONE]` unless it was seen. An event the body left unterminated (no
   * blank line after it) is dropped, as the SSE spec says and eventsource-parser does.
   */
  end(): Uint8Array
  /** True once `[DONE]` was seen (the output so far ended with it). */
  readonly done: boolean
  /**
   * With `jsonObjects`: set once an event's data is not a JSON object; the output stops before
   * that event, its text is never relayed, and the next call throws this error.
   */
  readonly failure: Error | undefined
  /**
   * The payload of the first event that reported an error (it starts with `{"error"`), relayed like
   * any other: the relay reads it at the end, so that the job is recorded as failed.
   */
  readonly errorPayload: string | undefined
  /** Data events so far, `[DONE]` not counted (the answer's chunks: about one token each). */
  readonly events: number
  /**
   * The payload of the last data event before `[DONE]` (where llama.cpp and vLLM put `usage`),
   * decoded when asked; undefined before any. Read it at the end, once.
   */
  lastPayload(): string | undefined
}

const encoder = new TextEncoder()
const EMPTY = new Uint8Array(0)
const DONE_FRAME = encoder.encode('data: [DONE]\n\n')
// '{"error"'
const ERROR_START = [123, 34, 101, 114, 114, 111, 114, 34]
const LEFT_BRACE = 123
const RIGHT_BRACE = 125
const decoder = new TextDecoder()

/** Data that did not start with `{` and end with `}`: a JSON object all the same (spaces around it)? */
function isJsonObjectText(data: string): boolean {
  const text = data.trim()
  if (text.charCodeAt(0) !== LEFT_BRACE || text.charCodeAt(text.length - 1) !== RIGHT_BRACE) return false
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
  } catch {
    return false
  }
}

/** Creates a re-framer for one body. */
export function createSseReframer(options: SseReframerOptions = {}): SseReframer {
  return new Reframer(options.maxEventChars ?? 8 * 1024 * 1024, options.jsonObjects === true)
}

/** The re-framer (a class: one object per body, where closures would be a dozen). */
class Reframer implements SseReframer {
  readonly #maxEventChars: number
  readonly #jsonObjects: boolean
  #done = false
  /** Bytes of an event not complete yet (byte path only). */
  #pending: Uint8Array = EMPTY
  #parser: ReturnType<typeof createParser> | undefined
  #decoder: TextDecoder | undefined
  #out = ''
  #failure: Error | undefined
  /** Bytes of the body went out on the byte path already. */
  #started = false
  #errorPayload: string | undefined
  #events = 0
  /** Where the byte path's last event lies (kept as a reference and two numbers: no copy per read). */
  #lastBuffer: Uint8Array | undefined
  #lastStart = 0
  #lastEnd = 0
  /** The parser path's last event (later than any of the byte path's). */
  #lastData: string | undefined

  constructor(maxEventChars: number, jsonObjects: boolean) {
    this.#maxEventChars = maxEventChars
    this.#jsonObjects = jsonObjects
  }

  get done(): boolean {
    return this.#done
  }

  get errorPayload(): string | undefined {
    return this.#errorPayload
  }

  get failure(): Error | undefined {
    return this.#failure
  }

  #notJson(): UpstreamError {
    const failure = new UpstreamError('The upstream sent an event whose data is not a JSON object.', { code: 'upstream_bad_event' })
    this.#failure = failure
    return failure
  }

  get events(): number {
    return this.#events
  }

  lastPayload(): string | undefined {
    if (this.#lastData !== undefined) return this.#lastData
    return this.#lastBuffer === undefined ? undefined : decoder.decode(this.#lastBuffer.subarray(this.#lastStart, this.#lastEnd))
  }

  feed(chunk: Uint8Array): Uint8Array {
    if (this.#done) return EMPTY
    if (this.#failure !== undefined) throw this.#failure
    if (this.#decoder !== undefined) return this.#parse(this.#decoder.decode(chunk, { stream: true }), false)
    return this.#scan(this.#pending.length === 0 ? chunk : concat(this.#pending, chunk))
  }

  end(): Uint8Array {
    if (this.#done) return EMPTY
    if (this.#failure !== undefined) throw this.#failure
    let last: Uint8Array = EMPTY
    if (this.#decoder !== undefined) {
      last = this.#parse(this.#decoder.decode(), true)
    } else if (this.#pending.length > 0) {
      // An unterminated last event: the parser has the final word on what it holds.
      const rest = this.#pending
      this.#pending = EMPTY
      last = this.#parse(this.#startParser(this.#started).decode(rest), true)
    }
    if (this.#done) return last
    this.#done = true
    return concat(last, DONE_FRAME)
  }

  #tooLarge(): UpstreamError {
    const failure = new UpstreamError(`The upstream sent an event larger than ${this.#maxEventChars} characters.`, { code: 'upstream_bad_event' })
    this.#failure = failure
    return failure
  }

  /**
   * Switches to eventsource-parser for the rest of the body. `midway`: the body started before
   * (so a U+FEFF here is a character, not the byte-order mark the parser drops at its start).
   */
  #startParser(midway: boolean): TextDecoder {
    // ignoreBOM: past the start, EF BB BF is a character the parser must see, not a mark to drop.
    const decoder = new TextDecoder('utf-8', { ignoreBOM: midway })
    this.#decoder = decoder
    this.#parser = createParser({
      onEvent: (event) => {
        if (this.#done || this.#failure !== undefined) return
        const data = event.data
        if (data === '[DONE]') {
          this.#done = true
          this.#out += 'data: [DONE]\n\n'
        } else if (this.#jsonObjects && (data.charCodeAt(0) !== LEFT_BRACE || data.charCodeAt(data.length - 1) !== RIGHT_BRACE) && !isJsonObjectText(data)) {
          this.#notJson()
        } else {
          this.#events++
          this.#lastData = event.data
          if (this.#errorPayload === undefined && event.data.startsWith('{"error"')) this.#errorPayload = event.data
          this.#out += encodeData(event.data)
        }
      },
      onError: (error) => {
        // Unknown fields and bad `retry` values are ignored, as the SSE spec says; only an event
        // past the size limit fails the stream.
        if (error.type === 'max-buffer-size-exceeded' && this.#failure === undefined) this.#tooLarge()
      },
      maxBufferSize: this.#maxEventChars,
    })
    // A blank line dispatches nothing; it only moves the parser past its start.
    if (midway) this.#parser.feed('\n')
    return decoder
  }

  #parse(text: string, last: boolean): Uint8Array {
    const parser = this.#parser as ReturnType<typeof createParser>
    parser.feed(text)
    if (last && !this.#done) {
      // A consuming reset parses a last line that had no line break (an event it completes is
      // still not dispatched without its blank line: the SSE spec drops it).
      parser.reset({ consume: true })
    }
    const result = this.#out
    this.#out = ''
    // Events before a failure still go out; the failure is thrown by the next call.
    if (this.#failure !== undefined && !this.#done && result === '') throw this.#failure
    return result === '' ? EMPTY : encoder.encode(result)
  }

  /** The byte path over `buffer`; returns the output, or hands the rest to the parser. */
  #scan(buffer: Uint8Array): Uint8Array {
    const maxEventChars = this.#maxEventChars
    let position = 0
    const length = buffer.length
    // A CR anywhere ends the byte path at the event that holds it (one search per buffer).
    const firstCr = buffer.indexOf(CR)
    // This buffer's events and its last one, written to the fields once per buffer (#note).
    let events = 0
    let lastStart = -1
    let lastEnd = 0
    while (position < length) {
      // An event is `data: <payload>\n\n`, payload non-empty with no CR or LF.
      if (!startsWithDataPrefix(buffer, position)) {
        if (length - position < DATA_PREFIX.length && isPrefixOfData(buffer, position)) break
        this.#note(buffer, events, lastStart, lastEnd)
        return this.#handOver(buffer, position)
      }
      const lineEnd = buffer.indexOf(LF, position + DATA_PREFIX.length)
      if (lineEnd === -1) {
        if (length - position > maxEventChars) throw this.#tooLarge()
        break
      }
      if (lineEnd + 1 >= length) break
      const payloadStart = position + DATA_PREFIX.length
      if (buffer[lineEnd + 1] !== LF || lineEnd === payloadStart || (firstCr !== -1 && firstCr <= lineEnd + 1)) {
        this.#note(buffer, events, lastStart, lastEnd)
        return this.#handOver(buffer, position)
      }
      if (lineEnd - position > maxEventChars) throw this.#tooLarge()
      // Two bytes compared per event on the common path: a JSON object's data starts with `{` and
      // ends with `}`; anything else is `[DONE]`, or checked in full (and relayed only if it is one).
      if (buffer[payloadStart] !== LEFT_BRACE || buffer[lineEnd - 1] !== RIGHT_BRACE) {
        if (lineEnd - payloadStart === DONE_PAYLOAD.length && matches(buffer, payloadStart, DONE_PAYLOAD)) {
          this.#note(buffer, events, lastStart, lastEnd)
          this.#done = true
          this.#started = true
          this.#pending = EMPTY
          return buffer.subarray(0, lineEnd + 2)
        }
        if (this.#jsonObjects && !isJsonObjectText(decoder.decode(buffer.subarray(payloadStart, lineEnd)))) {
          // The events before it go out; the next call throws.
          this.#note(buffer, events, lastStart, lastEnd)
          this.#notJson()
          this.#pending = EMPTY
          if (position === 0) return EMPTY
          this.#started = true
          return buffer.subarray(0, position)
        }
      }
      // One byte compared per event on the common path ('{' then '"e' is rare in a chunk).
      if (buffer[payloadStart + 2] === 101 && this.#errorPayload === undefined && matches(buffer, payloadStart, ERROR_START)) {
        this.#errorPayload = decoder.decode(buffer.subarray(payloadStart, lineEnd))
      }
      position = lineEnd + 2
      events++
      lastStart = payloadStart
      lastEnd = lineEnd
    }
    this.#note(buffer, events, lastStart, lastEnd)
    this.#pending = position === length ? EMPTY : buffer.slice(position)
    if (position === 0) return EMPTY
    this.#started = true
    return buffer.subarray(0, position)
  }

  /** Counts a buffer's events and remembers where its last one lies. */
  #note(buffer: Uint8Array, events: number, lastStart: number, lastEnd: number): void {
    if (events === 0) return
    this.#events += events
    this.#lastBuffer = buffer
    this.#lastStart = lastStart
    this.#lastEnd = lastEnd
  }

  /** The body left the simple form at `position`: what came before passes, the rest is parsed. */
  #handOver(buffer: Uint8Array, position: number): Uint8Array {
    this.#pending = EMPTY
    const decoder = this.#startParser(this.#started || position > 0)
    const head = buffer.subarray(0, position)
    const tail = this.#parse(decoder.decode(buffer.subarray(position), { stream: true }), false)
    return concat(head, tail)
  }
}

/** One `data:` event; a payload with line breaks takes one `data:` line per line, as SSE requires. */
function encodeData(data: string): string {
  return data.includes('\n') ? `data: ${data.replaceAll('\n', '\ndata: ')}\n\n` : `data: ${data}\n\n`
}
