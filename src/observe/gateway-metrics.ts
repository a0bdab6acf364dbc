/**
 * `createGatewayMetrics()`: the gateway's Prometheus metrics on prom-client, in a registry of their
 * own (several gateways in one process do not clash; prom-client's global registry is left alone).
 * Counters and histograms are fed by the gateway's events (`observe`, called by the gateway for
 * every event once the collector is passed as `metrics`); queue depth, running jobs, slots and
 * health are read from the gateway when scraped (`bind`), so they cost nothing per request.
 *
 * Labels are bounded: `upstream` takes the configured upstream ids (no URL credentials), `model`
 * the ids the gateway knows (configured, discovered, aliases, variants) and `other` for any
 * other name a client sends, `none` for a request without one.
 * @module
 */
import { Counter, Gauge, Registry } from 'prom-client'
import { startProcessMetrics } from './process-metrics.js'
import type { ProcessMetrics } from './process-metrics.js'
import { AggregatedHistogram, DerivedCounter, HistogramValues } from './aggregated-metrics.js'
import type { Labels } from './aggregated-metrics.js'
import type { JobClass } from '../queue/queue-scheduler.js'
import type { GatewayEvent, GatewayMetricsSink, GatewayView } from '../gateway/gateway-events.js'
import { ModelLabels } from './model-labels.js'

/** Options of {@link createGatewayMetrics}. */
export interface GatewayMetricsOptions {
  /** The registry to register in. @default a new one */
  registry?: Registry | undefined
  /** Node.js process metrics (CPU, memory, event loop lag, GC) in the same registry. @default true */
  processMetrics?: boolean | undefined
  /** Prefix of the gateway's metric names. @default 'queuegate_' */
  prefix?: string | undefined
}

/** The collector: pass it as the gateway's `metrics` option. */
export interface GatewayMetrics extends GatewayMetricsSink {
  readonly registry: Registry
  /**
   * Stops what the process metrics keep running (a GC observer, an event-loop-delay timer); the
   * gateway calls it when it closes. The registry can still be rendered. Idempotent.
   */
  close(): void
}

/** Latency buckets in seconds: 5 ms to 10 min (model calls span that). */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]
/** Generation speed buckets, tokens per second. */
const RATE_BUCKETS = [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000]

/** Creates the collector; see the module doc. */
export function createGatewayMetrics(options: GatewayMetricsOptions = {}): GatewayMetrics {
  return new PromGatewayMetrics(options)
}

class PromGatewayMetrics implements GatewayMetrics {
  readonly registry: Registry
  readonly #models = new ModelLabels()
  #view: GatewayView | undefined
  /** The per-request figures by upstream and model (one lookup a request). */
  readonly #series = new Map<string, Series>()
  readonly #wait: AggregatedHistogram
  readonly #waitByKind: Record<JobClass, HistogramValues>
  readonly #ttft: AggregatedHistogram
  readonly #duration: AggregatedHistogram
  readonly #rate: AggregatedHistogram
  readonly #upstreamErrors: Counter<'upstream' | 'kind'>
  readonly #retries: Counter<'upstream' | 'reason' | 'next'>
  readonly #sticky: Counter<'decision' | 'reason'>
  readonly #slotReuse: Counter<'upstream' | 'result'>
  readonly #toolCalls: Counter<'format'>
  readonly #process: ProcessMetrics | undefined

  constructor(options: GatewayMetricsOptions) {
    const registry = (this.registry = options.registry ?? new Registry())
    const prefix = options.prefix ?? 'queuegate_'
    const registers = [registry]
    const view = (): GatewayView | undefined => this.#view
    const series = (): Series[] => [...this.#series.values()]
    new DerivedCounter(registry, {
      name: `${prefix}requests_total`,
      help: 'Model requests finished, by upstream, model, job class and HTTP status (499: the client left).',
      read: () => series().flatMap((one) => [...one.requests].map(([kindStatus, value]) => ({ labels: { ...one.labels, kind: kindStatus < 0 ? 'batch' : 'interactive', status: String(Math.abs(kindStatus)) }, value }))),
    })
    this.#wait = new AggregatedHistogram(registry, { name: `${prefix}queue_wait_seconds`, help: 'Time from arrival to a slot (or to the end for a job that never got one), by job class.', buckets: SECONDS_BUCKETS })
    this.#waitByKind = { interactive: this.#wait.values({ kind: 'interactive' }), batch: this.#wait.values({ kind: 'batch' }) }
    this.#ttft = new AggregatedHistogram(registry, { name: `${prefix}time_to_first_token_seconds`, help: 'Time from the slot grant to the first answer event of a streamed answer.', buckets: SECONDS_BUCKETS })
    this.#duration = new AggregatedHistogram(registry, { name: `${prefix}request_duration_seconds`, help: 'Time from arrival to the end of the answer (queue wait included).', buckets: SECONDS_BUCKETS })
    this.#rate = new AggregatedHistogram(registry, { name: `${prefix}tokens_per_second`, help: 'Generation speed of streamed answers: tokens after the first over the time from the first answer event to the end.', buckets: RATE_BUCKETS })
    new DerivedCounter(registry, {
      name: `${prefix}generated_tokens_total`,
      help: "Tokens generated: the upstream's usage.completion_tokens (source=usage), else the answer's chunks counted (source=chunks).",
      read: () =>
        series().flatMap((one) => [
          ...(one.usageTokens > 0 ? [{ labels: { ...one.labels, source: 'usage' }, value: one.usageTokens }] : []),
          ...(one.chunkTokens > 0 ? [{ labels: { ...one.labels, source: 'chunks' }, value: one.chunkTokens }] : []),
        ]),
    })
    new DerivedCounter(registry, {
      name: `${prefix}prompt_tokens_total`,
      help: 'Prompt tokens, as the upstream reported them in usage.',
      read: () => series().map((one) => ({ labels: one.labels, value: one.promptTokens })),
    })
    new DerivedCounter(registry, {
      name: `${prefix}prompt_cached_tokens_total`,
      help: 'Prompt tokens the upstream served from its cache (llama.cpp timings.cache_n: slot reuse; usage.prompt_tokens_details.cached_tokens).',
      read: () => series().map((one) => ({ labels: one.labels, value: one.cachedTokens })),
    })
    this.#upstreamErrors = new Counter({ name: `${prefix}upstream_errors_total`, help: 'Failed model calls, by upstream and kind (error code: upstream_unreachable, upstream_timeout, upstream_error, upstream_rejected, upstream_bad_event, ...).', labelNames: ['upstream', 'kind'], registers })
    this.#retries = new Counter({ name: `${prefix}retries_total`, help: 'Model calls tried again, by the upstream that failed, why (error code) and where next (another-upstream, unreachable: elsewhere, nothing was sent; after-retry-after: the same one later).', labelNames: ['upstream', 'reason', 'next'], registers })
    this.#sticky = new Counter({ name: `${prefix}sticky_routes_total`, help: 'Routing decisions for conversations: kept on their upstream, moved (reason: load, unhealthy, model, gone), or new.', labelNames: ['decision', 'reason'], registers })
    this.#slotReuse = new Counter({ name: `${prefix}slot_reuse_total`, help: "llama.cpp slot affinity: a conversation's job on the slot of its last turn (reused) or on another one (other).", labelNames: ['upstream', 'result'], registers })
    this.#toolCalls = new Counter({ name: `${prefix}tool_calls_recovered_total`, help: 'Tool calls recovered from text a model wrote, by the format that recognised them.', labelNames: ['format'], registers })
    new Gauge({
      name: `${prefix}queue_depth`,
      help: 'Jobs waiting for a slot, by job class.',
      labelNames: ['kind'],
      registers,
      collect() {
        const snapshot = view()?.snapshot()
        this.set({ kind: 'interactive' }, snapshot?.queuedByClass.interactive ?? 0)
        this.set({ kind: 'batch' }, snapshot?.queuedByClass.batch ?? 0)
      },
    })
    new Gauge({
      name: `${prefix}upstream_queued`,
      help: 'Jobs waiting for each upstream.',
      labelNames: ['upstream'],
      registers,
      collect() {
        for (const upstream of view()?.snapshot().upstreams ?? []) this.set({ upstream: upstream.id }, upstream.queued)
      },
    })
    new Gauge({
      name: `${prefix}running_jobs`,
      help: 'Jobs running on each upstream.',
      labelNames: ['upstream'],
      registers,
      collect() {
        for (const upstream of view()?.snapshot().upstreams ?? []) this.set({ upstream: upstream.id }, upstream.running)
      },
    })
    new Gauge({
      name: `${prefix}slots`,
      help: 'Slots (jobs at once) of each upstream.',
      labelNames: ['upstream'],
      registers,
      collect() {
        for (const upstream of view()?.snapshot().upstreams ?? []) this.set({ upstream: upstream.id }, upstream.slots)
      },
    })
    new Gauge({
      name: `${prefix}upstream_healthy`,
      help: '1 when the upstream takes jobs (in rotation and not known to be down), else 0.',
      labelNames: ['upstream'],
      registers,
      collect() {
        const current = view()
        for (const upstream of current?.snapshot().upstreams ?? []) this.set({ upstream: upstream.id }, upstream.healthy && current?.health(upstream.id).serving === true ? 1 : 0)
      },
    })
    new Gauge({
      name: `${prefix}upstream_state`,
      help: "Each upstream's health state (1 for the current one): unknown before its first probe or call, healthy, ejected, loading.",
      labelNames: ['upstream', 'state'],
      registers,
      collect() {
        const current = view()
        for (const upstream of current?.snapshot().upstreams ?? []) {
          const state = current?.health(upstream.id).state
          for (const name of ['unknown', 'healthy', 'ejected', 'loading']) this.set({ upstream: upstream.id, state: name }, name === state ? 1 : 0)
        }
      },
    })
    if (options.processMetrics ?? true) this.#process = startProcessMetrics(registry)
  }

  get contentType(): string {
    return this.registry.contentType
  }

  bind(view: GatewayView): void {
    this.#view = view
    this.#models.source(() => view.models())
  }

  render(): Promise<string> {
    return this.registry.metrics()
  }

  close(): void {
    this.#process?.stop()
  }

  observe(event: GatewayEvent): void {
    switch (event.type) {
      case 'request-end': {
        const upstream = event.upstream ?? 'none'
        const model = this.#models.label(event.model)
        const key = `${upstream}\u0000${model}`
        let series = this.#series.get(key)
        if (series === undefined) {
          series = new Series({ upstream, model }, this.#duration, this.#ttft, this.#rate)
          this.#series.set(key, series)
        }
        // Status and class in one number: batch negative.
        const kindStatus = event.kind === 'batch' ? -event.status : event.status
        series.requests.set(kindStatus, (series.requests.get(kindStatus) ?? 0) + 1)
        this.#wait.observe(this.#waitByKind[event.kind], event.waitMs / 1000)
        if (event.upstream === undefined) return
        this.#duration.observe(series.duration, event.totalMs / 1000)
        if (event.ttftMs !== undefined) this.#ttft.observe(series.ttft, event.ttftMs / 1000)
        if (event.tokens !== undefined) {
          if (event.tokensFrom === 'usage') series.usageTokens += event.tokens
          else series.chunkTokens += event.tokens
          // Decode speed: the tokens after the first, over the time after the first event.
          const generatingMs = event.totalMs - event.waitMs - (event.ttftMs ?? 0)
          if (event.stream && event.ttftMs !== undefined && event.tokens > 1 && generatingMs > 0) this.#rate.observe(series.rate, (event.tokens - 1) / (generatingMs / 1000))
        }
        if (event.promptTokens !== undefined) series.promptTokens += event.promptTokens
        if (event.cachedTokens !== undefined) series.cachedTokens += event.cachedTokens
        return
      }
      case 'job-start': {
        const route = event.route
        if (route === undefined) return
        if (route.sticky === 'moved') this.#sticky.inc({ decision: 'moved', reason: route.because })
        else this.#sticky.inc({ decision: route.sticky, reason: '' })
        if (route.sticky === 'kept' && route.slotReused !== undefined) this.#slotReuse.inc({ upstream: event.upstream, result: route.slotReused ? 'reused' : 'other' })
        else if (route.sticky === 'moved' && event.slot !== undefined) this.#slotReuse.inc({ upstream: event.upstream, result: 'other' })
        return
      }
      case 'upstream-error':
        this.#upstreamErrors.inc({ upstream: event.upstream, kind: errorKind(event.code) })
        if (event.retry !== undefined) this.#retries.inc({ upstream: event.upstream, reason: errorKind(event.code), next: event.retry })
        return
      case 'tool-calls-recovered':
        this.#toolCalls.inc({ format: event.format }, event.count)
        return
      case 'upstream-models':
        this.#models.changed()
        return
      default:
        return
    }
  }
}

/** The gateway's own error codes; an upstream's 4xx may carry any code of its own: `other`. */
const ERROR_KINDS = new Set(['upstream_unreachable', 'upstream_timeout', 'upstream_error', 'upstream_rejected', 'upstream_bad_response', 'upstream_bad_event', 'internal_error'])

function errorKind(code: string): string {
  return ERROR_KINDS.has(code) ? code : 'other'
}

/** One upstream and model's per-request figures. */
class Series {
  readonly labels: Labels
  /** Requests by status, batch jobs' statuses negative. */
  readonly requests = new Map<number, number>()
  readonly duration: HistogramValues
  readonly ttft: HistogramValues
  readonly rate: HistogramValues
  usageTokens = 0
  chunkTokens = 0
  promptTokens = 0
  cachedTokens = 0

  constructor(labels: Labels, duration: AggregatedHistogram, ttft: AggregatedHistogram, rate: AggregatedHistogram) {
    this.labels = labels
    this.duration = duration.values(labels)
    this.ttft = ttft.values(labels)
    this.rate = rate.values(labels)
  }
}
