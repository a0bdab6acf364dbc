/**
 * `createEventLogger()`: the gateway's events as log lines, as text (`2026-12-04T… info job=… …`)
 * or as JSON through pino (one object per line: `level`, `time` (ms), `msg` and the fields). Every
 * request line carries the job id, kind, model, upstream, slot, wait, time to first token, total
 * time, status and tokens; `debug` adds each routing decision (sticky kept, moved and why, new;
 * the slot), queueing, recovered tool calls and model discovery; retries are on the `upstream error`
 * line (warn) with where the job runs next.
 *
 * Nothing secret is logged: events carry a gateway key by its name and upstreams by their id (the
 * URL without credentials); message text only when the gateway was asked for bodies (`logBodies`,
 * the CLI's `--log-bodies`), as the request line's `body`.
 * @module
 */
import type { DestinationStream } from 'pino'
import type { GatewayEvent } from '../gateway/gateway-events.js'
import { LineFile } from './line-file.js'

/** Log levels, quietest first. */
export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const
/** How much is logged. */
export type LogLevel = (typeof LOG_LEVELS)[number]
/** How lines look. */
export type LogFormat = 'text' | 'json'

/** Fields of one log line (undefined ones are left out; null ones are there, as `-` in text). */
export type LogFields = Record<string, string | number | boolean | null | undefined>

/** Options of {@link createEventLogger}. */
export interface EventLoggerOptions {
  /** @default 'text' */
  format?: LogFormat | undefined
  /** @default 'info' */
  level?: LogLevel | undefined
  /**
   * Where lines go: a function given each line (without its line break), or, for `json`, a file
   * descriptor or path (written asynchronously in blocks of 4 KiB, and at least every second) or a
   * pino destination. @default stderr: buffered as for a descriptor, except text lines to a terminal (one write a line)
   */
  destination?: ((line: string) => void) | number | string | DestinationStream | undefined
}

/** A logger for the gateway's events and the program's own lines. */
export interface EventLogger {
  readonly level: LogLevel
  /** Logs one gateway event (pass this as `onEvent`, or call it from there). */
  event(event: GatewayEvent): void
  /** Logs one line of the program's own. */
  log(level: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void
  /** Writes out what is buffered (json: before the process exits). */
  flush(): void
}

/** Creates a logger; see the module doc. (Async: pino is loaded only for `json`.) */
export async function createEventLogger(options: EventLoggerOptions = {}): Promise<EventLogger> {
  const { format = 'text', level = 'info', destination } = options
  if (format === 'json') {
    const { JsonLogger } = await import('./json-log.js')
    return new JsonLogger(level, destination)
  }
  if (format !== 'text') throw new TypeError(`format: expected text or json, got ${JSON.stringify(format)}`)
  if (!LOG_LEVELS.includes(level)) throw new TypeError(`level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`)
  return new TextLogger(level, destination)
}

/** One event as a line: its level, message and fields; undefined when it is not logged. */
export function describeEvent(event: GatewayEvent): { level: Exclude<LogLevel, 'silent'>; message: string; fields: LogFields } | undefined {
  switch (event.type) {
    case 'request-end': {
      const rate = decodeRate(event)
      return {
        level: requestLevel(event),
        message: 'request',
        fields: {
          job: event.jobId,
          method: event.method,
          path: event.path,
          status: event.status,
          // Every request line has these, null when not known.
          upstream: event.upstream ?? null,
          model: event.model ?? null,
          kind: event.kind,
          stream: event.stream,
          slot: event.slot ?? null,
          wait_ms: Math.round(event.waitMs),
          ttft_ms: event.ttftMs === undefined ? null : Math.round(event.ttftMs),
          total_ms: Math.round(event.totalMs),
          tokens: event.tokens ?? null,
          tokens_from: event.tokensFrom,
          tokens_per_s: rate === undefined ? undefined : Math.round(rate * 10) / 10,
          prompt_tokens: event.promptTokens,
          cached_tokens: event.cachedTokens,
          key: event.key,
          error: event.error,
          body: event.body,
        },
      }
    }
    case 'job-start': {
      const route = event.route
      return {
        level: 'debug',
        message: 'route',
        fields: {
          job: event.jobId,
          kind: event.kind,
          model: event.model,
          upstream: event.upstream,
          slot: event.slot ?? null,
          wait_ms: Math.round(event.waitMs),
          // none: no conversation key (one upstream without slot affinity has nothing to choose).
          sticky: route?.sticky ?? 'none',
          moved_from: route?.sticky === 'moved' ? route.from : undefined,
          because: route?.sticky === 'moved' ? route.because : undefined,
          slot_reused: route?.sticky === 'kept' ? route.slotReused : undefined,
          // routing: 'cache-aware': characters of the prompt cached where it was sent, the expected costs, the runner-up.
          prefix_hit_chars: event.cache?.cachedChars,
          expected_wait_ms: event.cache === undefined ? undefined : Math.round(event.cache.expectedWaitMs),
          expected_prefill_ms: event.cache === undefined ? undefined : Math.round(event.cache.expectedPrefillMs),
          expected_eviction_ms: event.cache?.expectedEvictionMs === undefined ? undefined : Math.round(event.cache.expectedEvictionMs),
          alternative: event.cache?.alternative === undefined ? undefined : `${event.cache.alternative.upstream} (${Math.round(event.cache.alternative.expectedMs)} ms)`,
        },
      }
    }
    case 'job-queued':
      return { level: 'debug', message: 'queued', fields: { job: event.jobId, kind: event.kind, upstream: event.upstream, queued: event.queued } }
    case 'tool-calls-recovered':
      return { level: 'debug', message: 'tool calls recovered', fields: { job: event.jobId, format: event.format, count: event.count } }
    case 'upstream-error':
      // `retry`: where the job runs next (another-upstream, unreachable, after-retry-after with wait_ms).
      return { level: 'warn', message: 'upstream error', fields: { job: event.jobId, upstream: event.upstream, code: event.code, retry: event.retry, wait_ms: event.waitMs, error: event.message } }
    case 'upstream-health':
      return event.healthy
        ? { level: 'info', message: 'back in rotation', fields: { upstream: event.upstream } }
        : { level: 'warn', message: `unreachable: out of rotation for ${event.cooldownMs} ms`, fields: { upstream: event.upstream, cooldown_ms: event.cooldownMs } }
    case 'upstream-state':
      return event.state === 'healthy'
        ? { level: 'info', message: 'healthy: back in rotation', fields: { upstream: event.upstream, state: event.state } }
        : { level: 'warn', message: `${event.state}: out of rotation`, fields: { upstream: event.upstream, state: event.state, error: event.error } }
    case 'upstream-models':
      return event.error !== undefined
        ? { level: 'warn', message: 'models could not be read (it serves any model until they can)', fields: { upstream: event.upstream, error: event.error } }
        : { level: 'debug', message: 'models', fields: { upstream: event.upstream, models: event.models === undefined ? '(none listed: any)' : event.models.join(',') } }
    case 'upstream-slots':
      // llama.cpp's /slots showed slots reused behind the gateway's back (cache-aware routing forgets what they held).
      return event.reason === 'restarted'
        ? { level: 'info', message: 'slots: the server restarted, its prompt caches are forgotten', fields: { upstream: event.upstream } }
        : { level: 'info', message: 'slots: reused by another client, their prompt caches are forgotten', fields: { upstream: event.upstream, slots: event.slots.join(',') } }
    case 'warning':
      return { level: 'warn', message: event.message, fields: {} }
    case 'internal-error':
      // A bug in the gateway: with its stack (issue 12).
      return { level: 'error', message: 'internal error', fields: { job: event.jobId, error: event.stack ?? event.message } }
    case 'answer-hook-error':
      return { level: 'warn', message: 'answer hook failed', fields: { job: event.jobId, error: event.message } }
    default:
      return undefined
  }
}

/** A request-end event. */
export type RequestEnd = Extract<GatewayEvent, { type: 'request-end' }>

/** A request line's level: a failure is a warning, also one after the answer started (status 200, an error event); a client that left is not. */
export function requestLevel(event: RequestEnd): 'info' | 'warn' {
  return (event.status >= 500 || event.error !== undefined) && event.status !== 499 ? 'warn' : 'info'
}

/** Decode speed of a streamed answer (tokens after the first over the time after the first event), or undefined. */
export function decodeRate(event: RequestEnd): number | undefined {
  const generatingMs = event.totalMs - event.waitMs - (event.ttftMs ?? 0)
  return event.stream && event.tokens !== undefined && event.tokens > 1 && event.ttftMs !== undefined && generatingMs > 0 ? (event.tokens - 1) / (generatingMs / 1000) : undefined
}

/** What both formats share: the level check and the events' description. */
export abstract class BaseLogger implements EventLogger {
  readonly level: LogLevel
  readonly #rank: number

  constructor(level: LogLevel) {
    this.level = level
    this.#rank = LOG_LEVELS.indexOf(level)
  }

  /** Whether lines at `level` are written. */
  protected enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.#rank
  }

  event(event: GatewayEvent): void {
    // Debug-only events are the most frequent: skip them before building their fields.
    if (this.#rank < 4 && (event.type === 'job-start' || event.type === 'job-queued' || event.type === 'tool-calls-recovered')) return
    const line = describeEvent(event)
    if (line !== undefined && this.enabled(line.level)) this.write(line.level, line.message, line.fields)
  }

  log(level: Exclude<LogLevel, 'silent'>, message: string, fields: LogFields = {}): void {
    if (this.enabled(level)) this.write(level, message, fields)
  }

  abstract flush(): void
  protected abstract write(level: Exclude<LogLevel, 'silent'>, message: string, fields: LogFields): void
}

/** `2026-12-04T19:00:00.000Z info job=… POST /v1/chat/completions status=200 …`: the request line keeps the first version's shape. */
class TextLogger extends BaseLogger {
  readonly #out: (line: string) => void
  readonly #file: LineFile | undefined
  /** The last line's time, in ms and as text (lines in the same millisecond share it). */
  #stampMs = Number.NaN
  #stamp = ''

  constructor(level: LogLevel, destination: EventLoggerOptions['destination']) {
    super(level)
    if (destination !== undefined && typeof destination !== 'function') throw new TypeError('destination: the text format takes a function of a line')
    if (destination !== undefined) this.#out = destination
    else if (process.stderr.isTTY === true) this.#out = (line: string) => process.stderr.write(`${line}\n`)
    else {
      // stderr to a file, a pipe or the journal: written in blocks (line-file.ts), as the json format does.
      const file = (this.#file = new LineFile(2))
      this.#out = (line: string) => file.write(`${line}\n`)
    }
  }

  flush(): void {
    this.#file?.flushSync()
  }

  /** The program's own lines (start-up, shutdown) go out at once; request lines wait for their block. */
  override log(level: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void {
    super.log(level, message, fields)
    this.#file?.flushSync()
  }

  protected write(level: Exclude<LogLevel, 'silent'>, message: string, fields: LogFields): void {
    let text: string
    if (message === 'request') {
      // job=… METHOD /path, then the rest as key=value.
      text = `job=${fields.job} ${fields.method} ${fields.path}`
      for (const key in fields) {
        const value = fields[key]
        if (value === undefined || key === 'job' || key === 'method' || key === 'path') continue
        text += ` ${key}=${value === null ? '-' : key === 'error' || key === 'body' ? JSON.stringify(value) : value}`
      }
    } else {
      text = ''
      if (fields.job !== undefined) text += `job=${fields.job} `
      if (fields.upstream !== undefined) text += `upstream=${fields.upstream} `
      text += message
      for (const key in fields) {
        const value = fields[key]
        if (value === undefined || key === 'job' || key === 'upstream') continue
        text += ` ${key}=${value === null ? '-' : key === 'error' ? JSON.stringify(value) : value}`
      }
    }
    const now = Date.now()
    if (now !== this.#stampMs) {
      this.#stampMs = now
      this.#stamp = new Date(now).toISOString()
    }
    this.#out(`${this.#stamp} ${level} ${text}`)
  }
}
