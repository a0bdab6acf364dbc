/**
 * The answer's byte path kept for gated transforms (see `AnswerGate` in call-plan.ts): bytes
 * until a gate fires, then the chunk path of upstream-relay.ts for the rest of the body.
 * @module
 */
import { encodeSseError } from '../openai/sse.js'
import { concat, CR, DATA_PREFIX, DONE_PAYLOAD, isPrefixOfData, LF, matches, skipSpace, startsWithDataPrefix } from '../openai/sse-bytes.js'
import type { ByteSink, ByteSource } from './byte-source.js'
import type { AnswerGate } from './call-plan.js'
import { chainTransforms } from './chunk-pipeline.js'
import type { UpstreamBody } from './upstream-body.js'
import type { ChatCompletionChunk } from '../openai/types.js'
import { BodyRelay, ChunkRelay } from './upstream-relay.js'
import type { RelayedAnswer, RelayOptions } from './upstream-relay.js'

/**
 * The upstream's SSE answer through gated transforms (see `AnswerGate` in call-plan.ts): on the
 * byte path while every event is `data: <payload>\n\n` and no gate fires, then, from the event
 * where one fires (or the body leaves that form, or ends without `[DONE]`), the rest of the body
 * exactly as {@link relayChunks} would have relayed it from its start, with each gate's transform.
 *
 * The switch is at an event boundary: what the events before it were goes out as the upstream's
 * bytes (the chunk path would have sent each as its own text, the chain passing it unchanged),
 * and the chunk relay gets every byte from that event's first one on, including a partial event
 * held so far. The relay itself sends an event to the chunk path when the chunk path would not
 * send its bytes as they are: a payload that does not start with `{` or has no `"choices"` array
 * (an `{"error": …}` payload has none; as far as a byte search tells: a payload that passes these checks but is no
 * JSON goes out as on the byte path, as it does without transforms). A property test holds the
 * output equal to relayChunks' over any chunking.
 */
export function relayGated(body: UpstreamBody, gates: readonly AnswerGate[], options: RelayOptions & { maxEventChars?: number | undefined } = {}): ByteSource & RelayedAnswer {
  return new GatedRelay(body, gates, options)
}

class GatedRelay extends BodyRelay {
  readonly #gates: readonly AnswerGate[]
  /** A gate checks the chunk shape itself (see `AnswerGate.checksChunkShape`). */
  readonly #shapeChecked: boolean
  readonly #options: RelayOptions & { maxEventChars?: number | undefined }
  readonly #maxEventChars: number
  /** Bytes of an event not complete yet. */
  #pending: Uint8Array = EMPTY
  /** Bytes of the body went out on the byte path already. */
  #started = false
  /** The chunk path, once switched to: everything is its from then on. */
  #chunks: ChunkRelay | undefined
  /** Events that went out on the byte path, and where the last one lies. */
  #events = 0
  #lastBuffer: Uint8Array | undefined
  #lastStart = 0
  #lastEnd = 0

  constructor(body: UpstreamBody, gates: readonly AnswerGate[], options: RelayOptions & { maxEventChars?: number | undefined }) {
    super(body, options)
    this.#gates = gates
    this.#shapeChecked = gates.some((gate) => gate.checksChunkShape === true)
    this.#options = options
    this.#maxEventChars = options.maxEventChars ?? 8 * 1024 * 1024
  }

  override cancel(reason?: unknown): void {
    if (this.#chunks !== undefined) this.#chunks.cancel(reason)
    else super.cancel(reason)
  }

  data(chunk: Uint8Array): boolean {
    if (this.#chunks !== undefined) return this.#chunks.data(chunk)
    if (this.ended) return true
    return this.#scan(this.#pending.length === 0 ? chunk : concat(this.#pending, chunk))
  }

  end(): void {
    if (this.#chunks !== undefined) return this.#chunks.end()
    if (this.ended) return
    // No [DONE]: the chunk path has the last word on what is held (and flushes nothing held).
    const chunks = this.#switch(this.#started)
    if (this.#pending.length > 0) chunks.data(this.#pending)
    this.#pending = EMPTY
    chunks.end()
  }

  error(error: Error): void {
    if (this.#chunks !== undefined) return this.#chunks.error(error)
    if (this.ended) return
    const failure = this.mapError(error)
    this.finishOnce('error', failure, encodeSseError(failure))
  }

  get events(): number {
    return this.#events + (this.#chunks?.events ?? 0)
  }

  lastEvent(): string | ChatCompletionChunk | undefined {
    const last = this.#chunks?.lastEvent()
    if (last !== undefined) return last
    return this.#lastBuffer === undefined ? undefined : decoder.decode(this.#lastBuffer.subarray(this.#lastStart, this.#lastEnd))
  }

  /** The byte path over `buffer` (as sse-reframer.ts's simple form); hands over to the chunk path where it must. */
  #scan(buffer: Uint8Array): boolean {
    const maxEventChars = this.#maxEventChars
    const length = buffer.length
    const firstCr = buffer.indexOf(CR)
    let position = 0
    let events = 0
    let lastStart = -1
    let lastEnd = 0
    while (position < length) {
      if (!startsWithDataPrefix(buffer, position)) {
        if (length - position < DATA_PREFIX.length && isPrefixOfData(buffer, position)) break
        this.#note(buffer, events, lastStart, lastEnd)
        return this.#handOver(buffer, position)
      }
      const payloadStart = position + DATA_PREFIX.length
      const lineEnd = buffer.indexOf(LF, payloadStart)
      if (lineEnd === -1) {
        if (length - position > maxEventChars) {
          this.#note(buffer, events, lastStart, lastEnd)
          return this.#handOver(buffer, position)
        }
        break
      }
      if (lineEnd + 1 >= length) break
      if (buffer[lineEnd + 1] !== LF || lineEnd === payloadStart || (firstCr !== -1 && firstCr <= lineEnd + 1) || lineEnd - position > maxEventChars) {
        this.#note(buffer, events, lastStart, lastEnd)
        return this.#handOver(buffer, position)
      }
      if (isDonePayload(buffer, payloadStart, lineEnd)) {
        // The chunk path would flush an empty chain and send [DONE]: the same bytes.
        this.#note(buffer, events, lastStart, lastEnd)
        this.#pending = EMPTY
        this.finishOnce('done', undefined, buffer.subarray(0, lineEnd + 2))
        return true
      }
      if (this.#fires(buffer, payloadStart, lineEnd)) {
        this.#note(buffer, events, lastStart, lastEnd)
        return this.#handOver(buffer, position)
      }
      events++
      lastStart = payloadStart
      lastEnd = lineEnd
      position = lineEnd + 2
    }
    this.#note(buffer, events, lastStart, lastEnd)
    this.#pending = position === length ? EMPTY : buffer.slice(position)
    if (position === 0) return true
    this.#started = true
    if (!this.sent) this.firstEvent()
    return (this.sink as ByteSink).write(buffer.subarray(0, position))
  }

  /** Counts the byte path's events of a buffer and remembers where its last one lies. */
  #note(buffer: Uint8Array, events: number, lastStart: number, lastEnd: number): void {
    if (events === 0) return
    this.#events += events
    this.#lastBuffer = buffer
    this.#lastStart = lastStart
    this.#lastEnd = lastEnd
  }

  /** True when the chunk path could send this event otherwise than as its bytes. */
  #fires(buffer: Uint8Array, start: number, end: number): boolean {
    if (!this.#shapeChecked && !isPlainChunk(buffer, start, end)) return true
    for (const gate of this.#gates) if (gate.passesUntil(buffer, start, end)) return true
    return false
  }

  /** What came before `position` goes out as it is; from there on, the chunk path. */
  #handOver(buffer: Uint8Array, position: number): boolean {
    this.#pending = EMPTY
    const chunks = this.#switch(this.#started || position > 0)
    if (position > 0 && !this.sent) this.firstEvent()
    const head = position === 0 ? true : (this.sink as ByteSink).write(buffer.subarray(0, position))
    const rest = chunks.data(buffer.subarray(position))
    return head && rest
  }

  #switch(midway: boolean): ChunkRelay {
    const factories = this.#gates.map((gate) => gate.stream)
    const chunks = new ChunkRelay(this.body, (onChunk) => chainTransforms(factories, onChunk), this.#options, midway)
    chunks.adopt(this.sink as ByteSink)
    this.#chunks = chunks
    return chunks
  }
}

const EMPTY = new Uint8Array(0)
const decoder = new TextDecoder()
const LEFT_BRACE = 123
const QUOTE = 34
// '"choices"'
const CHOICES_KEY = [34, 99, 104, 111, 105, 99, 101, 115, 34]

function isDonePayload(buffer: Uint8Array, start: number, end: number): boolean {
  return end - start === DONE_PAYLOAD.length && matches(buffer, start, DONE_PAYLOAD)
}

/**
 * The payload starts with `{` and its first `"choices"` key (as far as bytes tell: a quote, the
 * name, a quote, a colon) has an array value: decodeChunk takes it as it is (an `{"error": …}`
 * payload has no choices).
 */
function isPlainChunk(buffer: Uint8Array, start: number, end: number): boolean {
  if (buffer[start] !== LEFT_BRACE) return false
  for (let at = start + 1; at < end; at++) {
    if (buffer[at] !== QUOTE) continue
    const next = buffer[at + 1]
    if (next === 99 && end - at >= CHOICES_KEY.length && matches(buffer, at, CHOICES_KEY)) {
      let index = skipSpace(buffer, at + CHOICES_KEY.length, end)
      if (buffer[index] !== 58) continue
      index = skipSpace(buffer, index + 1, end)
      return index < end && buffer[index] === 91
    }
  }
  return false
}
