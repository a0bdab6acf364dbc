/**
 * The one options object of {@link createGateway}, and its validation. The CLI builds the
 * same object from flags, environment and the config file.
 * @module
 */
import type { UpstreamOptions, UpstreamPoolOptions } from './upstream.js'

/** How a waiting streaming client is told its queue position. */
export type QueueNotifyMode = 'reasoning' | 'content' | 'comment' | 'never'

/** What happens to tool calls the model makes (native or recovered from text). */
export type ToolMode = 'passthrough' | 'suppress'

/** Something the gateway reports; the CLI prints these as log lines. */
export type GatewayEvent =
  | {
      type: 'request-end'
      jobId: string
      method: string
      path: string
      status: number
      upstream: string | undefined
      model: string | undefined
      stream: boolean
      waitMs: number
      totalMs: number
      error: string | undefined
    }
  | { type: 'upstream-error'; jobId: string; upstream: string; message: string }
  | { type: 'upstream-health'; upstream: string; healthy: boolean; cooldownMs: number }

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** The upstream servers, as URLs or option objects. At least one. */
  upstreams: Array<UpstreamOptions | string>
  /**
   * Model ids the gateway advertises on `/v1/models` and accepts; a request for another model
   * gets 404 `model_not_found`. Upstreams' own `models` lists count too. @default none: any model, and `/v1/models` asks the upstreams
   */
  models?: string[] | undefined
  /** Largest request body accepted, in bytes (413 beyond). @default 10 MiB */
  maxBodyBytes?: number | undefined
  /** Largest non-streamed upstream answer read, in bytes (502 beyond). @default 64 MiB */
  maxResponseBytes?: number | undefined
  /** Upstream read timeout: until the headers, and between two body chunks (504). @default 3 600 000 (1 h) */
  readTimeoutMs?: number | undefined
  /** Upstream connect timeout (502). @default 10 000 */
  connectTimeoutMs?: number | undefined
  /**
   * An upstream that cannot be reached sits out this long while another is healthy, and the job
   * runs elsewhere. @default 10 000
   */
  unhealthyCooldownMs?: number | undefined
  /** Header that carries a conversation id for sticky routing. @default 'X-Chat-Id' */
  stickyHeader?: string | undefined
  /** How long a conversation stays with its upstream after its last turn. @default 600 000 (10 min) */
  stickyTtlMs?: number | undefined
  /** Jobs per slot by which a sticky upstream may be busier than the least-loaded before the conversation moves. @default 2 */
  stickyMaxImbalance?: number | undefined
  /** Conversations remembered for sticky routing (LRU). @default 100 000 */
  maxStickyKeys?: number | undefined
  /** A batch (agent) job that waited longer than this is served before newer interactive jobs. @default 30 000 */
  batchMaxWaitMs?: number | undefined
  /** Waiting jobs allowed (running ones not counted); beyond this 429 `queue_full`. @default 1000 */
  maxQueued?: number | undefined
  /** A job that waited longer gets 503 `queue_timeout`; 0 waits forever. @default 0 */
  maxWaitMs?: number | undefined
  /** How a waiting streaming client hears of its position. @default 'reasoning' */
  queueNotify?: QueueNotifyMode | undefined
  /** A streaming job still waiting after this long gets its first notice. @default 1200 */
  notifyAfterMs?: number | undefined
  /**
   * Notice text; `{position}`, `{queued}` and `{eta}` (seconds) are filled in.
   * @default 'Queued: position {position} of {queued}, about {eta}s'
   */
  queueMessage?: string | undefined
  /** Interval of SSE keep-alive comments while a streaming job waits. @default 15 000 */
  keepAliveMs?: number | undefined
  /** Recover tool calls that models write as text, for requests that declare tools. @default true */
  textToolCalls?: boolean | undefined
  /** Default tool mode (`X-Tool-Mode` overrides per request). @default 'passthrough' */
  toolMode?: ToolMode | undefined
  /** Finished jobs kept for `GET /v1/jobs/{id}`. @default 10 000 */
  maxFinishedJobs?: number | undefined
  /** Receives one event per finished request and per upstream failure. */
  onEvent?: ((event: GatewayEvent) => void) | undefined
  /** Test seams. */
  _internal?:
    | {
        now?: (() => number) | undefined
        generateId?: (() => string) | undefined
        /** Builds each upstream's dispatcher instead of an undici Pool (the core bench, fault tests). */
        dispatcherFactory?: UpstreamPoolOptions['dispatcherFactory']
      }
    | undefined
}

/** Options after defaults and validation. */
export type ResolvedGatewayOptions = Required<Omit<GatewayOptions, 'models' | 'onEvent' | '_internal' | 'upstreams'>> & {
  upstreams: UpstreamOptions[]
  models: string[]
  onEvent: ((event: GatewayEvent) => void) | undefined
  now: () => number
  generateId: () => string
  dispatcherFactory: UpstreamPoolOptions['dispatcherFactory']
}

const QUEUE_NOTIFY_MODES: readonly QueueNotifyMode[] = ['reasoning', 'content', 'comment', 'never']
const TOOL_MODES: readonly ToolMode[] = ['passthrough', 'suppress']

/** Applies defaults and throws a `TypeError` naming the first bad option. */
export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('createGateway: expected an options object')
  const {
    upstreams,
    models = [],
    maxBodyBytes = 10 * 1024 * 1024,
    maxResponseBytes = 64 * 1024 * 1024,
    readTimeoutMs = 3_600_000,
    connectTimeoutMs = 10_000,
    unhealthyCooldownMs = 10_000,
    stickyHeader = 'X-Chat-Id',
    stickyTtlMs = 600_000,
    stickyMaxImbalance = 2,
    maxStickyKeys = 100_000,
    batchMaxWaitMs = 30_000,
    maxQueued = 1000,
    maxWaitMs = 0,
    queueNotify = 'reasoning',
    notifyAfterMs = 1200,
    queueMessage = 'Queued: position {position} of {queued}, about {eta}s',
    keepAliveMs = 15_000,
    textToolCalls = true,
    toolMode = 'passthrough',
    maxFinishedJobs = 10_000,
    onEvent,
    _internal = {},
  } = options
  if (!Array.isArray(upstreams) || upstreams.length === 0) {
    throw new TypeError(`upstreams: expected at least one upstream URL, got ${JSON.stringify(upstreams)}`)
  }
  const normalized = upstreams.map((upstream) => (typeof upstream === 'string' ? { url: upstream } : upstream))
  for (const upstream of normalized) {
    if (typeof upstream !== 'object' || upstream === null || typeof upstream.url !== 'string') {
      throw new TypeError(`upstreams: expected { url } objects or URL strings, got ${JSON.stringify(upstream)}`)
    }
  }
  if (!Array.isArray(models) || models.some((model) => typeof model !== 'string' || model.trim() === '')) {
    throw new TypeError(`models: expected a list of model ids, got ${JSON.stringify(models)}`)
  }
  positiveInteger('maxBodyBytes', maxBodyBytes)
  positiveInteger('maxResponseBytes', maxResponseBytes)
  positiveInteger('readTimeoutMs', readTimeoutMs)
  positiveInteger('connectTimeoutMs', connectTimeoutMs)
  positiveInteger('unhealthyCooldownMs', unhealthyCooldownMs)
  positiveInteger('stickyTtlMs', stickyTtlMs)
  nonNegativeNumber('stickyMaxImbalance', stickyMaxImbalance)
  positiveInteger('maxStickyKeys', maxStickyKeys)
  nonNegativeNumber('batchMaxWaitMs', batchMaxWaitMs)
  nonNegativeInteger('maxQueued', maxQueued)
  nonNegativeNumber('maxWaitMs', maxWaitMs)
  nonNegativeNumber('notifyAfterMs', notifyAfterMs)
  positiveInteger('keepAliveMs', keepAliveMs)
  positiveInteger('maxFinishedJobs', maxFinishedJobs)
  if (typeof stickyHeader !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(stickyHeader)) {
    throw new TypeError(`stickyHeader: expected an HTTP header name, got ${JSON.stringify(stickyHeader)}`)
  }
  if (!QUEUE_NOTIFY_MODES.includes(queueNotify)) {
    throw new TypeError(`queueNotify: expected one of ${QUEUE_NOTIFY_MODES.join(', ')}, got ${JSON.stringify(queueNotify)}`)
  }
  if (!TOOL_MODES.includes(toolMode)) {
    throw new TypeError(`toolMode: expected one of ${TOOL_MODES.join(', ')}, got ${JSON.stringify(toolMode)}`)
  }
  if (typeof queueMessage !== 'string') throw new TypeError(`queueMessage: expected a string, got ${JSON.stringify(queueMessage)}`)
  if (typeof textToolCalls !== 'boolean') throw new TypeError(`textToolCalls: expected true or false, got ${JSON.stringify(textToolCalls)}`)
  if (onEvent !== undefined && typeof onEvent !== 'function') throw new TypeError('onEvent: expected a function')
  return {
    upstreams: normalized,
    models: models.map((model) => model.trim()),
    maxBodyBytes,
    maxResponseBytes,
    readTimeoutMs,
    connectTimeoutMs,
    unhealthyCooldownMs,
    stickyHeader,
    stickyTtlMs,
    stickyMaxImbalance,
    maxStickyKeys,
    batchMaxWaitMs,
    maxQueued,
    maxWaitMs,
    queueNotify,
    notifyAfterMs,
    queueMessage,
    keepAliveMs,
    textToolCalls,
    toolMode,
    maxFinishedJobs,
    onEvent,
    now: _internal.now ?? Date.now,
    generateId: _internal.generateId ?? (() => crypto.randomUUID().replaceAll('-', '')),
    dispatcherFactory: _internal.dispatcherFactory,
  }
}

function positiveInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${name}: expected a whole number >= 1, got ${JSON.stringify(value)}`)
  }
}

function nonNegativeInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`${name}: expected a whole number >= 0, got ${JSON.stringify(value)}`)
  }
}

function nonNegativeNumber(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name}: expected a number >= 0, got ${JSON.stringify(value)}`)
  }
}
