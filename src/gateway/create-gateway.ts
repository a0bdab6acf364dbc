/**
 * `createGateway()`: the whole gateway as one web-standard `fetch(Request) → Response`.
 * Routes requests, turns each model call into a queued job, and composes the pieces.
 * @module
 */
import { NotFoundError, QueuegateError, UnavailableError, UpstreamError } from '../errors.js'
import { QueueScheduler } from '../queue/queue-scheduler.js'
import { jobClassFor, threadKeyFor } from '../queue/thread-key.js'
import { resolveGatewayOptions } from './gateway-options.js'
import type { GatewayOptions, ResolvedGatewayOptions } from './gateway-options.js'
import { JobRegistry } from './job-registry.js'
import { RunningJobs } from './running-jobs.js'
import { UpstreamHealth } from './upstream-health.js'
import { callUpstream, createUpstream, upstreamFailure } from './upstream.js'
import type { Upstream } from './upstream.js'
import { readRequestJson } from './request-body.js'
import { headerLookup, requestPath } from './request-access.js'
import { handleModelCall } from './model-call.js'
import { lightResponse, setResponseHeader } from './light-response.js'
import type { GatewayContext } from './model-call.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'

/** A running gateway. */
export interface Gateway {
  /** Answers one request; never rejects (every failure is an OpenAI-shaped error response). */
  fetch: (request: Request) => Promise<Response>
  /**
   * Stops taking requests: waiting jobs get 503, running ones may finish for `graceMs`
   * (default 10 s) and are then aborted; upstream connections are closed.
   */
  close: (options?: { graceMs?: number | undefined }) => Promise<void>
  /** The scheduler, for metrics and inspection. */
  readonly scheduler: QueueScheduler
}

/** Paths whose body is a chat completion request. */
const CHAT_PATHS = new Set(['/v1/chat/completions', '/v1/chat/completions_passthrough', '/v1/agent/chat/completions'])

/**
 * Creates a gateway over a pool of upstream servers.
 *
 * @example
 * ```ts
 * const gateway = createGateway({ upstreams: [{ url: 'http://127.0.0.1:8080/v1', slots: 2 }] })
 * http.createServer(createRequestListener(gateway.fetch)).listen(8000)
 * ```
 */
export function createGateway(options: GatewayOptions): Gateway {
  const resolved = resolveGatewayOptions(options)
  const upstreams: Upstream[] = resolved.upstreams.map((upstream) =>
    createUpstream(upstream, { readTimeoutMs: resolved.readTimeoutMs, connectTimeoutMs: resolved.connectTimeoutMs, dispatcherFactory: resolved.dispatcherFactory }),
  )
  const ids = new Set<string>()
  for (const upstream of upstreams) {
    if (ids.has(upstream.id)) throw new TypeError(`upstreams: ${JSON.stringify(upstream.id)} is listed twice (raise its slots instead)`)
    ids.add(upstream.id)
  }
  const scheduler = new QueueScheduler({
    upstreams: upstreams.map((upstream) => ({ id: upstream.id, slots: upstream.slots, models: upstream.models, slotAffinity: upstream.slotAffinity })),
    stickyTtlMs: resolved.stickyTtlMs,
    stickyMaxImbalance: resolved.stickyMaxImbalance,
    maxStickyKeys: resolved.maxStickyKeys,
    batchMaxWaitMs: resolved.batchMaxWaitMs,
    maxQueued: resolved.maxQueued,
    maxWaitMs: resolved.maxWaitMs,
    now: resolved.now,
  })
  const jobs = new JobRegistry({ maxFinished: resolved.maxFinishedJobs })
  const running = new RunningJobs()
  const modelIds = configuredModels(resolved, upstreams)
  let closing = false
  let closed: Promise<void> | undefined
  const upstreamHealth = new UpstreamHealth(scheduler, {
    cooldownMs: resolved.unhealthyCooldownMs,
    onChange: (upstream, healthy) => resolved.onEvent?.({ type: 'upstream-health', upstream, healthy, cooldownMs: resolved.unhealthyCooldownMs }),
    serves: (id, model) => {
      const models = upstreams.find((upstream) => upstream.id === id)?.models
      return model === undefined || models === undefined || models.includes(model)
    },
  })
  const context: GatewayContext = {
    health: upstreamHealth,
    options: resolved,
    upstreams: new Map(upstreams.map((upstream) => [upstream.id, upstream])),
    scheduler,
    jobs,
    modelIds,
    running,
  }
  const upstreamModels = createUpstreamModelCache(upstreams)
  const routesByKey = upstreams.length > 1 || upstreams.some((upstream) => upstream.slotAffinity)

  async function route(request: Request, requestId: string): Promise<Response> {
    const path = requestPath(request)
    if (request.method === 'GET' || request.method === 'HEAD') {
      if (path === '/healthz' || path === '/health') return json(health())
      if (path === '/v1/models' || path === '/models') return json(await listModels())
      if (path.startsWith('/v1/jobs/')) return json(jobStatus(decodeURIComponent(path.slice('/v1/jobs/'.length))))
    }
    if (request.method === 'POST' && path.startsWith('/v1/')) {
      if (closing) throw new UnavailableError('The gateway is shutting down.', 'shutting_down')
      const { text, body } = await readRequestJson(request, resolved.maxBodyBytes)
      const headers = headerLookup(request)
      return await handleModelCall(context, {
        request,
        path,
        jobId: requestId,
        text,
        body,
        chat: CHAT_PATHS.has(path),
        jobClass: jobClassFor({ headers, path }),
        // The key only chooses among upstreams and llama.cpp slots: with one upstream and no slot
        // affinity there is no choice to make, and no hash to compute.
        threadKey: routesByKey ? threadKeyFor({ headers, body, stickyHeader: resolved.stickyHeader }) : '',
      })
    }
    if (isKnownPath(path)) {
      throw new QueuegateError(`Method ${request.method} is not allowed on ${path}.`, { status: 405, type: 'invalid_request_error', code: 'method_not_allowed' })
    }
    throw new NotFoundError(`No route for ${request.method} ${path}.`, 'route_not_found')
  }

  function health(): Record<string, unknown> {
    const snapshot = scheduler.snapshot()
    return {
      ok: !closing,
      upstreams: upstreams.length,
      queued: snapshot.queued,
      running: snapshot.running,
      workers: snapshot.upstreams.map((state, index) => ({
        id: index,
        upstream: state.id,
        slots: state.slots,
        running: state.running,
        queued: state.queued,
        healthy: state.healthy,
      })),
    }
  }

  async function listModels(): Promise<Record<string, unknown>> {
    const created = Math.floor(resolved.now() / 1000)
    if (modelIds.length > 0) {
      return { object: 'list', data: modelIds.map((id) => ({ id, object: 'model', created, owned_by: 'queuegate' })) }
    }
    return { object: 'list', data: await upstreamModels.list() }
  }

  function jobStatus(id: string): Record<string, unknown> {
    const record = jobs.get(id)
    if (record === undefined) throw new NotFoundError(`No job with id ${JSON.stringify(id)} (finished jobs are kept for a while, not forever).`, 'job_not_found')
    const position = record.status === 'queued' ? scheduler.position(id) : undefined
    const now = resolved.now()
    const startedOrNow = record.startedAt ?? (record.status === 'queued' ? now : record.endedAt ?? now)
    return {
      id: record.id,
      object: 'queuegate.job',
      status: record.status,
      kind: record.kind,
      model: record.model ?? null,
      stream: record.stream,
      upstream: record.upstream ?? position?.upstream ?? null,
      slot: record.slot ?? null,
      position: position?.position ?? null,
      queued: position?.queued ?? null,
      eta_ms: position?.etaMs ?? null,
      created_at: record.createdAt,
      started_at: record.startedAt ?? null,
      ended_at: record.endedAt ?? null,
      wait_ms: startedOrNow - record.createdAt,
      error: record.error ?? null,
    }
  }

  async function fetch(request: Request): Promise<Response> {
    const requestId = resolved.generateId()
    let response: Response
    try {
      response = await route(request, requestId)
    } catch (error) {
      response = errorResponse(error)
    }
    setResponseHeader(response, 'x-queuegate-job-id', requestId)
    return response
  }

  async function close(closeOptions: { graceMs?: number | undefined } = {}): Promise<void> {
    closed ??= (async () => {
      closing = true
      scheduler.close()
      upstreamHealth.close()
      await running.idle(closeOptions.graceMs ?? 10_000)
      running.abortAll(new UnavailableError('The gateway is shutting down.', 'shutting_down'))
      await Promise.allSettled(upstreams.map((upstream) => upstream.dispatcher.close()))
    })()
    return closed
  }

  return { fetch, close, scheduler }
}

function configuredModels(options: ResolvedGatewayOptions, upstreams: Upstream[]): string[] {
  const ids = new Set(options.models)
  for (const upstream of upstreams) for (const model of upstream.models ?? []) ids.add(model)
  return [...ids]
}

function isKnownPath(path: string): boolean {
  return path === '/healthz' || path === '/v1/models' || path.startsWith('/v1/')
}

function json(body: unknown, status = 200): Response {
  return lightResponse(JSON.stringify(body), status, { 'content-type': 'application/json' })
}

/** Any thrown value as an OpenAI-shaped error response. */
export function errorResponse(error: unknown): Response {
  if (QueuegateError.isInstance(error)) return error.toResponse()
  const message = error instanceof Error ? error.message : String(error)
  return new QueuegateError(`Internal error: ${message}`, { status: 500, code: 'internal_error' }).toResponse()
}

/** The union of the upstreams' own `/v1/models`, cached for a few seconds. */
function createUpstreamModelCache(upstreams: Upstream[]): { list: () => Promise<Array<Record<string, unknown>>> } {
  let cached: { at: number; data: Array<Record<string, unknown>> } | undefined
  let inflight: Promise<Array<Record<string, unknown>>> | undefined
  const ttlMs = 10_000
  async function load(): Promise<Array<Record<string, unknown>>> {
    const results = await Promise.allSettled(
      upstreams.map(async (upstream) => {
        try {
          const response = await callUpstream(upstream, { path: '/models', method: 'GET', timeoutMs: 10_000 })
          const text = await response.body.text(4 * 1024 * 1024)
          if (response.status >= 400) throw new UpstreamError(`Upstream ${upstream.id} answered ${response.status} to /models.`)
          const parsed = safeParseJson(text)
          const data = parsed.success && isJsonObject(parsed.value) && Array.isArray(parsed.value.data) ? parsed.value.data : []
          return data.filter((item): item is Record<string, unknown> => isJsonObject(item) && typeof item.id === 'string')
        } catch (error) {
          throw upstreamFailure(upstream, error)
        }
      }),
    )
    const seen = new Map<string, Record<string, unknown>>()
    for (const result of results) if (result.status === 'fulfilled') for (const model of result.value) if (!seen.has(String(model.id))) seen.set(String(model.id), model)
    if (seen.size === 0) {
      const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')
      if (failure !== undefined) throw failure.reason
    }
    return [...seen.values()]
  }
  return {
    async list() {
      if (cached !== undefined && Date.now() - cached.at < ttlMs) return cached.data
      inflight ??= load().finally(() => {
        inflight = undefined
      })
      const data = await inflight
      cached = { at: Date.now(), data }
      return data
    },
  }
}
