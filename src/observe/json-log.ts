/**
 * The JSON format of the event logger: one object per line through pino (`level` as its name,
 * `time` in ms since the epoch, the fields, then `msg`). Its own module so that pino loads only for it.
 *
 * One line is not serialized by pino: the request line, the one written for every request. pino's
 * generic serializer (a loop over the fields, its own string escaping, a level formatter) costs
 * ~1.4 µs a line more than {@link requestLineJson}, which writes the same bytes pino would (same
 * keys in the same order, undefined ones left out, null as null; a test compares the two on every
 * kind of request line) straight to the same destination. Every other line goes through pino.
 * @module
 */
import { pino } from 'pino'
import type { DestinationStream, Logger } from 'pino'
import { BaseLogger, decodeRate, requestLevel } from './event-log.js'
import type { RequestEnd } from './event-log.js'
import type { GatewayEvent } from '../gateway/gateway-events.js'
import { LineFile } from './line-file.js'
import type { EventLoggerOptions, LogFields, LogLevel } from './event-log.js'

/** One JSON object per line through pino: `{"level":"info","time":…,"msg":"request","job":…}`. */
export class JsonLogger extends BaseLogger {
  readonly #pino: Logger
  readonly #file: LineFile | undefined
  readonly #stream: DestinationStream
  /** Whether info and warn lines are written. */
  readonly #info: boolean
  readonly #warn: boolean

  constructor(level: LogLevel, destination: EventLoggerOptions['destination']) {
    super(level)
    let stream: DestinationStream
    if (destination === undefined || typeof destination === 'string' || typeof destination === 'number') {
      // Buffered: one write per 4 KiB of lines (a write per line cost the fast path ~13% of its
      // requests per second at concurrency 16), and at least once a second so a quiet gateway's
      // lines are not held back. Not pino.destination (sonic-boom): see line-file.ts.
      this.#file = new LineFile(destination ?? 2)
      stream = this.#file
    } else if (typeof destination === 'function') {
      stream = { write: (line: string) => destination(line.endsWith('\n') ? line.slice(0, -1) : line) }
    } else {
      stream = destination
    }
    this.#stream = stream
    this.#info = this.enabled('info')
    this.#warn = this.enabled('warn')
    this.#pino = pino(
      {
        level,
        base: undefined,
        // pino's own `time` (ms since the epoch): ISO text would cost 0.7 µs a line more.
        formatters: { level: (label) => ({ level: label }) },
      },
      stream,
    )
  }

  override event(event: GatewayEvent): void {
    if (event.type !== 'request-end') return super.event(event)
    const level = requestLevel(event)
    if (level === 'info' ? this.#info : this.#warn) this.#stream.write(requestLineJson(event, level, Date.now()))
  }

  flush(): void {
    if (this.#file !== undefined) this.#file.flushSync()
    else this.#pino.flush()
  }

  protected write(level: Exclude<LogLevel, 'silent'>, message: string, fields: LogFields): void {
    this.#pino[level](fields, message)
  }
}

const text = JSON.stringify
/** A number as pino writes it: a non-finite one (and a missing one here) as null. */
const num = (value: number | undefined): number | string => (value !== undefined && Number.isFinite(value) ? value : 'null')

/**
 * The request line as pino writes it for `describeEvent(event)` at `level` (see the module doc):
 * `{"level":"info","time":…,"job":…,…,"msg":"request"}` and a line break.
 */
export function requestLineJson(event: RequestEnd, level: 'info' | 'warn', time: number): string {
  let line = `{"level":"${level}","time":${time},"job":${text(event.jobId)},"method":${text(event.method)},"path":${text(event.path)},"status":${num(event.status)}`
  line += `,"upstream":${event.upstream === undefined ? 'null' : text(event.upstream)},"model":${event.model === undefined ? 'null' : text(event.model)},"kind":${text(event.kind)},"stream":${event.stream}`
  line += `,"slot":${num(event.slot)},"wait_ms":${num(Math.round(event.waitMs))},"ttft_ms":${event.ttftMs === undefined ? 'null' : num(Math.round(event.ttftMs))},"total_ms":${num(Math.round(event.totalMs))},"tokens":${num(event.tokens)}`
  if (event.tokensFrom !== undefined) line += `,"tokens_from":${text(event.tokensFrom)}`
  const rate = decodeRate(event)
  if (rate !== undefined) line += `,"tokens_per_s":${num(Math.round(rate * 10) / 10)}`
  if (event.promptTokens !== undefined) line += `,"prompt_tokens":${num(event.promptTokens)}`
  if (event.cachedTokens !== undefined) line += `,"cached_tokens":${num(event.cachedTokens)}`
  if (event.key !== undefined) line += `,"key":${text(event.key)}`
  if (event.error !== undefined) line += `,"error":${text(event.error)}`
  if (event.body !== undefined) line += `,"body":${text(event.body)}`
  return `${line},"msg":"request"}\n`
}
