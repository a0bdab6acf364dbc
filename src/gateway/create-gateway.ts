/**
 * `createGateway()`: the whole gateway as one web-standard `fetch(Request) → Response`.
 * Routes requests, turns each model call into a queued job, and composes the pieces.
 * @module
 */
import { InvalidRequestError, NotFoundError, QueuegateError, UnavailableError } from '../errors.js'
import { isStackOverflow, nestedTooDeeply } from './nesting.js'
import { authenticate } from './gateway-keys.js'
import type { QueueScheduler } from '../queue/queue-scheduler.js'
import type { ToolRegistry } from '../tools/types.js'
import { createCallPlan, runStages } from './call-plan.js'
import { endpointFor } from './endpoints.js'
import type { GatewayOptions } from './gateway-options.js'
import { reportInternalError } from './internal-error.js'
import { createGatewayServices } from './gateway-services.js'
import { readRequestJson } from './request-body.js'
import { headerLookup, requestPath } from './request-access.js'
import { answerClient } from './model-call.js'
import { answerAgent } from '../agents/answer-agent.js'
import { lightResponse, setResponseHeader } from './light-response.js'
import { markUnrouted } from './bridge-protocol.js'
import { checkHost } from './allowed-hosts.js'
import { addCorsHeaders, isPreflight, preflightResponse } from './cors.js'
import { MEMORY_PATH, memoryRoute } from './memory-routes.js'
import { createDashboard } from '../dashboard/dashboard.js'
import type { Dashboard } from '../dashboard/dashboard.js'

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
  /**
   * The tool registry (`toolServers`, `mcpServers` or `toolRegistry`), if any: `tools.ready()`
   * resolves once every server answered its first listing or failed it, and rejects on a tool
   * name offered by two servers.
   */
  readonly tools: ToolRegistry | undefined
}

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
  // The dashboard (src/dashboard/) sees the gateway's events before the caller's onEvent does.
  let dashboard: Dashboard | undefined
  const services = createGatewayServices(options?.dashboard === true ? { ...options, onEvent: (event) => (dashboard?.onEvent(event), options.onEvent?.(event)) } : options)
  const { options: resolved, clock, scheduler, catalog, health: upstreamHealth, jobs, running } = services
  if (resolved.dashboard) dashboard = createDashboard({ scheduler, health: upstreamHealth, jobs, clock, defaultModel: (upstream) => catalog.defaultFor(upstream) })
  const upstreams = [...services.upstreams.values()]
  let closing = false
  let closed: Promise<void> | undefined
  catalog.start()
  // A variant whose model no upstream serves works for nobody: say so once the lists are known.
  void (catalog.ready() ?? Promise.resolve()).then(() => {
    for (const variant of resolved.variants.values()) {
      if (!catalog.accepts(variant.model) && !resolved.variants.has(variant.model)) {
        resolved.onEvent?.({ type: 'warning', message: `variant ${JSON.stringify(variant.id)}: no upstream serves its model ${JSON.stringify(variant.model)}; requests for it get 404` })
      }
    }
  })

  /** `/v1/models` lists the variants and the agents after the models. */
  function withVariants(models: Array<Record<string, unknown> & { id: string }>): Array<Record<string, unknown>> {
    if (resolved.variants.size === 0 && resolved.agents.size === 0) return models
    const listed = new Set(models.map((model) => model.id))
    const created = Math.floor(clock.now() / 1000)
    const variants = [...resolved.variants.values()].filter((variant) => !listed.has(variant.id)).map((variant) => ({ id: variant.id, object: 'model', created, owned_by: 'queuegate', parent: variant.model }))
    const agents = [...resolved.agents.keys()].filter((id) => !listed.has(id)).map((id) => ({ id, object: 'model', created, owned_by: 'queuegate', kind: 'agent' }))
    return [...models, ...variants, ...agents]
  }
  upstreamHealth.start()
  if (resolved.toolMode === 'execute' && services.tools === undefined) {
    resolved.onEvent?.({ type: 'warning', message: 'toolMode execute: no tool servers are configured; tool calls are passed through to the client' })
  }
  resolved.metrics?.bind({
    snapshot: () => scheduler.snapshot(),
    health: (id) => ({ state: upstreamHealth.status(id).state, serving: upstreamHealth.serving(id) }),
    models: () => [...new Set([...catalog.knownIds(), ...resolved.variants.keys()])],
  })
  const metricsPath = resolved.metrics === undefined ? false : resolved.metricsPath

  async function route(request: Request, requestId: string): Promise<Response> {
    // A foreign Host first (DNS rebinding), whatever the path; then a CORS preflight, which carries no key.
    if (resolved.allowedHosts !== undefined) checkHost(resolved.allowedHosts, headerLookup(request), request.url)
    if (resolved.corsOrigins !== undefined && isPreflight(request.method, headerLookup(request))) return preflightResponse(resolved.corsOrigins, headerLookup(request))
    const path = requestPath(request)
    // Keys first, before a body is read or anything about the upstreams shown.
    // (The metrics' labels name the upstreams: behind the keys too.)
    const key = resolved.apiKeys.length > 0 && (path.startsWith('/v1/') || path === '/models' || path === metricsPath) ? authenticate(resolved.apiKeys, headerLookup(request)) : undefined
    if (request.method === 'GET' || request.method === 'HEAD') {
      if (path === metricsPath && resolved.metrics !== undefined) {
        return lightResponse(await resolved.metrics.render(), 200, { 'content-type': resolved.metrics.contentType, 'cache-control': 'no-store' })
      }
      if (path === '/healthz' || path === '/health') return json(health(showsUpstreams(request)))
      const page = dashboard?.route(path)
      if (page !== undefined) return page
      if (dashboard === undefined && path.startsWith('/v1/dashboard/')) throw new NotFoundError('The dashboard is off (option dashboard; the CLI serves it unless --no-dashboard).', 'dashboard_off')
      if (path === '/readyz') {
        // Readiness: 503 while shutting down or while no upstream is in rotation (issue 12).
        if (closing) throw new UnavailableError('The gateway is shutting down.', 'shutting_down')
        if (!upstreamHealth.canServe()) throw new UnavailableError('No upstream can serve: every upstream is ejected, loading or unreachable.', 'no_healthy_upstream')
        return json({ ready: true })
      }
      if (path === '/v1/models' || path === '/models') return json({ object: 'list', data: withVariants(await catalog.list()) })
      if (path.startsWith('/v1/jobs/')) {
        const id = jobIdOf(path)
        // Another replica's job (issue 14): the shared state knows it.
        if (jobs.get(id) === undefined && shared?.lookup !== undefined) {
          const elsewhere = await shared.lookup(id)
          if (elsewhere !== undefined) return json(elsewhere)
        }
        return json(jobStatus(id))
      }
    }
    if (path.startsWith(MEMORY_PATH)) return await memoryRoute(services.memory, request, path, key)
    const endpoint = request.method === 'POST' ? endpointFor(path) : undefined
    if (endpoint !== undefined) {
      if (closing) throw new UnavailableError('The gateway is shutting down.', 'shutting_down')
      const { text, body } = await readRequestJson(request, resolved.maxBodyBytes, resolved.requireJsonContentType)
      const plan = createCallPlan({ jobId: requestId, request, headers: headerLookup(request), path, endpoint, key, text, body, toolMode: resolved.toolMode })
      try {
        const staged = runStages(services.stages, plan)
        if (staged !== undefined) await staged
      } catch (error) {
        // A body nested thousands of levels deep overflows the stack of whatever walks it (the thread key's hash).
        throw isStackOverflow(error) ? nestedTooDeeply(error) : error
      }
      return await (plan.agent !== undefined ? answerAgent(services, plan) : answerClient(services, plan))
    }
    if (isKnownPath(path) || path === metricsPath) {
      throw new QueuegateError(`Method ${request.method} is not allowed on ${path}.`, { status: 405, type: 'invalid_request_error', code: 'method_not_allowed' })
    }
    // Marked: mounted as middleware (Express), the bridge passes the request on to `next()`.
    return markUnrouted(json(new NotFoundError(`No route for ${request.method} ${path}.`, 'route_not_found').toJSON(), 404))
  }

  /** With gateway keys, only a request carrying one sees upstream URLs and errors on `/healthz`. */
  function showsUpstreams(request: Request): boolean {
    if (resolved.apiKeys.length === 0) return true
    try {
      authenticate(resolved.apiKeys, headerLookup(request))
      return true
    } catch {
      return false
    }
  }

  const shared = resolved.schedulerState?.authority
  function health(showUpstreams: boolean): Record<string, unknown> {
    const snapshot = scheduler.snapshot()
    return {
      // Liveness and more: false while shutting down, or when no upstream is in rotation (issue 12).
      ok: !closing && upstreamHealth.canServe(),
      upstreams: upstreams.length,
      // Several replicas sharing slots (issue 14): which mode this one is in.
      ...(shared === undefined ? {} : { shared: { ...shared.status(), store: showUpstreams ? shared.status().store : undefined } }),
      queued: snapshot.queued,
      running: snapshot.running,
      workers: snapshot.upstreams.map((state, index) => {
        const status = upstreamHealth.status(state.id)
        return {
          id: index,
          // Upstream ids are URLs (or names) and errors name them: with keys, for key holders only.
          upstream: showUpstreams ? state.id : undefined,
          slots: state.slots,
          running: state.running,
          queued: state.queued,
          // In rotation and not known to be down (all stay in rotation when none serves).
          healthy: state.healthy && upstreamHealth.serving(state.id),
          state: status.state,
          failures: status.failures,
          last_error: showUpstreams ? (status.lastError ?? null) : undefined,
          last_check: status.lastCheck === undefined ? null : new Date(status.lastCheck).toISOString(),
        }
      }),
    }
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
      // routing: 'cache-aware': why its upstream was chosen.
      ...(record.route === undefined ? {} : { route: record.route }),
      // Execute mode (tool-loop.ts), while the job runs: its round and the tools running now.
      ...(record.toolRound === undefined ? {} : { tool_round: record.toolRound, tools_running: record.toolsRunning ?? null }),
    }
  }

  async function fetch(request: Request): Promise<Response> {
    const requestId = resolved.generateId()
    let response: Response
    try {
      response = await route(request, requestId)
    } catch (error) {
      if (!QueuegateError.isInstance(error)) reportInternalError(resolved.onEvent, requestId, error)
      response = errorResponse(error)
    }
    setResponseHeader(response, 'x-queuegate-job-id', requestId)
    if (resolved.corsOrigins !== undefined) addCorsHeaders(resolved.corsOrigins, headerLookup(request), response)
    return response
  }

  async function close(closeOptions: { graceMs?: number | undefined } = {}): Promise<void> {
    closed ??= (async () => {
      closing = true
      dashboard?.close()
      resolved.metrics?.close?.()
      scheduler.close()
      upstreamHealth.close()
      catalog.close()
      await running.idle(closeOptions.graceMs ?? 10_000)
      running.abortAll(new UnavailableError('The gateway is shutting down.', 'shutting_down'))
      services.deadlines.close()
      // Turns still being stored (their embeddings need the upstreams), then the memory's file.
      await services.memory?.close().catch((error: unknown) => resolved.onEvent?.({ type: 'warning', message: `memory: closing failed: ${error instanceof Error ? error.message : String(error)}` }))
      await Promise.allSettled(upstreams.map((upstream) => upstream.dispatcher.close()))
      if (services.ownsTools === true) await services.tools?.close()
    })()
    return closed
  }

  return { fetch, close, scheduler, tools: services.tools }
}

/** The job id of a `/v1/jobs/{id}` path; 400 for a malformed percent escape. */
function jobIdOf(path: string): string {
  try {
    return decodeURIComponent(path.slice('/v1/jobs/'.length))
  } catch (error) {
    throw new InvalidRequestError('The job id in the path has a malformed percent escape.', { code: 'invalid_job_id', cause: error })
  }
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
