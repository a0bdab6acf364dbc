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
export class JsonLogger extends BaseLogger {
  readonly #pino: Logger

  constructor(level: LogLevel, destination: EventLoggerOptions['destination']) {
    super(level)
    const stream: DestinationStream =
      destination === undefined
        ? pino.destination({ dest: 2, sync: false })
        : typeof destination === 'function'
          ? { write: (line: string) => destination(line.endsWith('\n') ? line.slice(0, -1) : line) }
          : destination
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
    this.#pino.flush()
  }

  protected write(level: Exclude<LogLevel, 'silent'>, message: string, fields: LogFields): void {
    this.#pino[level](fields, message)
  }
}
