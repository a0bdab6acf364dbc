/**
 * What the gateway tells the outside while it runs: the events of `onEvent` (the CLI's log lines, the metrics, the
 * dashboard), and the contract of a metrics collector, which also reads the gateway's state when scraped.
 * @module
 */
import type { JobClass, SchedulerSnapshot, StickyRoute } from '../queue/queue-scheduler.js'
import type { RouteChoice } from '../queue/upstream-router.js'
import type { UpstreamState } from './upstream-health.js'

/**
 * Something the gateway reports, through `onEvent` (the CLI prints these as log lines, the
 * metrics count them, a dashboard can follow jobs with them). A job's events come in order:
 * `job-queued` (only when it waits), `job-start` (once per upstream it runs on: again after a
 * retry), `upstream-error` (with `retry` when it runs again), `tool-calls-recovered`, and always one `request-end`. Nothing secret is in
 * any of them: a gateway key appears by its name, upstreams by their id (no URL credentials),
 * and no message text.
 */
export type GatewayEvent =
  | {
      type: 'request-end'
      jobId: string
      method: string
      path: string
      status: number
      upstream: string | undefined
      /** The model the client asked for (public id: alias or variant), or undefined when it named none. */
      model: string | undefined
      /** The job's class (`interactive`, `batch`). */
      kind: JobClass
      stream: boolean
      /** The llama.cpp slot (`id_slot`) it ran on, with slot affinity. */
      slot: number | undefined
      /** Arrival to start (the slot granted), or to the end when it never started. */
      waitMs: number
      /** Start to the first answer event of a streamed answer; undefined for whole answers and failures before it. */
      ttftMs: number | undefined
      /** Arrival to the end. */
      totalMs: number
      /** Tokens generated: the upstream's `usage.completion_tokens`, else the answer's chunks counted (`tokensFrom`). */
      tokens: number | undefined
      /** Where `tokens` came from. */
      tokensFrom: 'usage' | 'chunks' | undefined
      /** `usage.prompt_tokens`, when the upstream reported it. */
      promptTokens: number | undefined
      /** Prompt tokens served from the upstream's cache (llama.cpp `timings.cache_n`, `usage.prompt_tokens_details.cached_tokens`). */
      cachedTokens: number | undefined
      error: string | undefined
      /** The gateway key's name, when keys are configured. */
      key?: string | undefined
      /** The request body as the client sent it (message text: only with `logBodies`; the first 16 KiB). */
      body?: string | undefined
    }
  /**
   * A model call failed at the upstream; `code` says how (`upstream_unreachable`, `upstream_timeout`,
   * `upstream_error`, `upstream_rejected`, …; a failure after the answer started comes too, without
   * `retry`). `retry`: what the gateway does next: runs the job on another upstream
   * (`another-upstream`; `unreachable` when nothing reached the failed one), or on the same one
   * after its `Retry-After` (`after-retry-after`, in `waitMs`); absent: the failure is the client's answer.
   */
  | { type: 'upstream-error'; jobId: string; upstream: string; message: string; code: string; retry?: 'another-upstream' | 'unreachable' | 'after-retry-after' | undefined; waitMs?: number | undefined }
  | { type: 'upstream-health'; upstream: string; healthy: boolean; cooldownMs: number }
  /**
   * An upstream was ejected (failed probe, or `ejectAfterFailures` failed calls in a row), is
   * loading its model (its `/health` answered 503), or is back after a good probe. `error`: why it went out.
   */
  | { type: 'upstream-state'; upstream: string; state: 'healthy' | 'ejected' | 'loading'; error: string | undefined }
  /**
   * Cache-aware routing with slot affinity: llama.cpp's `/slots` showed that the server used slots behind the
   * gateway's back (`reused`: those slots; another client, an erase) or restarted (`restarted`: all of them), and
   * the prefix index forgot what they held (src/gateway/llama-slots.ts).
   */
  | { type: 'upstream-slots'; upstream: string; reason: 'reused'; slots: readonly number[] }
  | { type: 'upstream-slots'; upstream: string; reason: 'restarted' }
  /** An upstream's `/v1/models` was read (`models`), or could not be (`error`; it then serves any model until it answers). */
  | { type: 'upstream-models'; upstream: string; models: string[] | undefined; error: string | undefined }
  /** Something in the configuration that will not work as meant (a variant whose model no upstream serves). */
  | { type: 'warning'; message: string }
  /** A bug: a request failed on something no upstream or client did (500 `internal_error`); `stack` for the log. */
  | { type: 'internal-error'; jobId: string; message: string; stack: string | undefined }
  /** An answer hook failed (the client's answer was not affected). */
  | { type: 'answer-hook-error'; jobId: string; message: string }
  /** A job had to wait: `upstream` is the one it waits for, `queued` the waiting jobs, it included. */
  | { type: 'job-queued'; jobId: string; kind: JobClass; upstream: string; queued: number }
  /**
   * A job got a slot. `route` is the sticky decision for a conversation (see `StickyRoute`:
   * `new`, `kept` with `slotReused` under slot affinity, or `moved` and why); undefined without one.
   * `cache`: with `routing: 'cache-aware'`, why the cost model chose (see `RouteChoice`).
   */
  | { type: 'job-start'; jobId: string; kind: JobClass; model: string | undefined; upstream: string; slot: number | undefined; waitMs: number; route: StickyRoute | undefined; cache?: RouteChoice | undefined }
  /** The tool-call detector recovered `count` calls a model wrote as text, in the format `format`. */
  | { type: 'tool-calls-recovered'; jobId: string; format: string; count: number }

/**
 * A metrics collector the gateway feeds and serves (`createGatewayMetrics` in `queuegate/observe`
 * is one, on prom-client): it gets every event, reads the gateway's state when scraped, and
 * renders the exposition text for `GET /metrics`.
 */
export interface GatewayMetricsSink {
  /** Called with every {@link GatewayEvent}, before `onEvent`. */
  observe(event: GatewayEvent): void
  /** Called once by `createGateway` with what a scrape reads (queue, slots, health, models). */
  bind(view: GatewayView): void
  /** The exposition body. */
  render(): Promise<string>
  /** Its content type (Prometheus text format). */
  readonly contentType: string
  /** Called once when the gateway closes: stop whatever the collector keeps running. */
  close?(): void
}

/** The gateway's state as a metrics collector or a dashboard reads it, at the moment it asks. */
export interface GatewayView {
  /** Queue and slots, per upstream. */
  snapshot(): SchedulerSnapshot
  /** An upstream's health state (`unknown` before its first probe or call) and whether it takes jobs. */
  health(upstream: string): { state: UpstreamState; serving: boolean }
  /** Model ids the gateway knows (configured, discovered, aliases, variants); undefined while any id is accepted. */
  models(): string[] | undefined
}
