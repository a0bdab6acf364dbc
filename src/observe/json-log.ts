/**
 * The JSON format of the event logger: one object per line through pino (`level` as its name,
 * `time` in ms since the epoch, `msg`, then the fields). Its own module so that pino loads only for it.
 * @module
 */
import { pino } from 'pino'
import type { DestinationStream, Logger } from 'pino'
import { BaseLogger } from './event-log.js'
import type { EventLoggerOptions, LogFields, LogLevel } from './event-log.js'

/** One JSON object per line through pino: `{"level":"info","time":"…","msg":"request","job":…}`. */
/** Lines are written out in blocks of at least this many bytes, or every {@link FLUSH_MS}. */
const MIN_WRITE_BYTES = 4096
const FLUSH_MS = 1000

export class JsonLogger extends BaseLogger {
  readonly #pino: Logger
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(level: LogLevel, destination: EventLoggerOptions['destination']) {
    super(level)
    let stream: DestinationStream
    if (destination === undefined || typeof destination === 'string' || typeof destination === 'number') {
      // Buffered: one write per 4 KiB of lines (a write per line cost the fast path ~13% of its
      // requests per second at concurrency 16), and at least once a second so a quiet gateway's
      // lines are not held back.
      stream = pino.destination({ dest: destination ?? 2, sync: false, minLength: MIN_WRITE_BYTES })
      this.#timer = setInterval(() => this.flush(), FLUSH_MS)
      this.#timer.unref()
    } else if (typeof destination === 'function') {
      stream = { write: (line: string) => destination(line.endsWith('\n') ? line.slice(0, -1) : line) }
    } else {
      stream = destination
    }
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

  flush(): void {
    try {
      this.#pino.flush()
    } catch {
      // sonic-boom throws while its file is still opening: nothing was written yet.
    }
  }

  protected write(level: Exclude<LogLevel, 'silent'>, message: string, fields: LogFields): void {
    this.#pino[level](fields, message)
  }
}
