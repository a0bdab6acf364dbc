/**
 * What every request's call plan and model call share: the options, the clock, the upstreams,
 * the scheduler, health, the model catalog, job records and the stages. Built once by
 * `createGateway()` (and by tests that call `callModel` without HTTP).
 * @module
 */
import { QueueScheduler } from '../queue/queue-scheduler.js'
import { UnavailableError } from '../errors.js'
import { CacheAwareRouter } from '../queue/cache-aware-router.js'
import type { CallStage } from './call-plan.js'
import type { Clock } from './clock.js'
import { resolveGatewayOptions } from './resolve-gateway-options.js'
import type { GatewayOptions, ResolvedGatewayOptions } from './gateway-options.js'
import type { GatewayEvent } from './gateway-events.js'
import { JobRegistry } from './job-registry.js'
import { ModelCatalog } from './model-catalog.js'
import { RunningJobs } from './running-jobs.js'
import { defaultStages } from './stages/index.js'
import { UpstreamHealth } from './upstream-health.js'
import { createUpstream } from './upstream.js'
import { createUpstreamProbe } from './upstream-probe.js'
import { LlamaSlotsWatch } from './llama-slots.js'
import type { SlotsCorrection } from './llama-slots.js'
import { CallDeadlines } from './call-deadlines.js'
import type { Upstream } from './upstream.js'
import { ChatMemory } from './chat-memory.js'
import { createMemoryEmbedder } from './memory-embedder.js'
import type { ToolRegistry } from '../tools/types.js'
import { createToolRegistry } from '../tools/tool-registry.js'
import { createStartMemory } from './stages/reasoning.js'
import { templateOpensThinkAt } from './template-hints.js'

/** A health probe's deadline: `/health` answers at once even on a busy llama.cpp. */
const PROBE_TIMEOUT_MS = 5000

/** The gateway's shared pieces. */
export interface GatewayServices {
  readonly options: ResolvedGatewayOptions
  readonly clock: Clock
  /** By id, in configuration order. */
  readonly upstreams: ReadonlyMap<string, Upstream>
  readonly scheduler: QueueScheduler
  readonly health: UpstreamHealth
  readonly catalog: ModelCatalog
  readonly jobs: JobRegistry
  readonly running: RunningJobs
  /** First-byte, stall and total deadlines of running calls. */
  readonly deadlines: CallDeadlines
  /** The call plan's stages, in order. */
  readonly stages: readonly CallStage[]
  /** Chat memory, when configured. */
  readonly memory: ChatMemory | undefined
  /** The cost-model router (`routing: 'cache-aware'`), fed the prefill rates answers report; undefined otherwise. */
  readonly router?: CacheAwareRouter | undefined
  /** Server-side tools (execute mode): the `toolRegistry` option, else the tool servers' tools; undefined when none are configured. */
  readonly tools?: ToolRegistry | undefined
  /** Whether the gateway built `tools` (and so closes it). */
  readonly ownsTools?: boolean | undefined
}

/** Validates the options and builds the pieces (nothing starts: `catalog.start()` begins model discovery, `health.start()` the health probes). */
export function createGatewayServices(options: GatewayOptions): GatewayServices {
  const resolved = resolveGatewayOptions(options)
  const { clock } = resolved
  const upstreams: Upstream[] = resolved.upstreams.map((upstream) =>
    createUpstream(upstream, { readTimeoutMs: resolved.readTimeoutMs, connectTimeoutMs: resolved.connectTimeoutMs, dispatcherFactory: resolved.dispatcherFactory }),
  )
  const ids = new Set<string>()
  for (const upstream of upstreams) {
    if (ids.has(upstream.id)) throw new TypeError(`upstreams: ${JSON.stringify(upstream.id)} is listed twice (raise its slots instead)`)
    ids.add(upstream.id)
  }
  const router = resolved.routing === 'cache-aware' ? new CacheAwareRouter({ now: clock.monotonic }) : undefined
  const scheduler = new QueueScheduler({
    upstreams: upstreams.map((upstream) => ({ id: upstream.id, slots: upstream.slots, models: upstream.models, slotAffinity: upstream.slotAffinity })),
    stickyTtlMs: resolved.stickyTtlMs,
    stickyMaxImbalance: resolved.stickyMaxImbalance,
    maxStickyKeys: resolved.maxStickyKeys,
    router,
    batchMaxWaitMs: resolved.batchMaxWaitMs,
    maxQueued: resolved.maxQueued,
    maxWaitMs: resolved.maxWaitMs,
    state: resolved.schedulerState,
    now: clock.monotonic,
    _internal: { setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout },
  })
  const catalog = new ModelCatalog({
    upstreams,
    models: resolved.models,
    aliases: resolved.aliases,
    discover: resolved.discoverModels,
    refreshMs: resolved.modelRefreshMs,
    timeoutMs: Math.min(resolved.connectTimeoutMs + 5000, 15_000),
    clock,
    onChange: (upstream, models) => scheduler.setUpstreamModels(upstream, models),
    onDiscover: (upstream, models, error) => {
      resolved.onEvent?.({ type: 'upstream-models', upstream, models, error: error?.message })
      if (error === undefined && models !== undefined && models.length > 0) readTemplateOnce(upstream, models)
    },
  })
  // Reasoning (issue 11): an upstream whose chat template opens a think block (llama.cpp's /props,
  // read once) starts its models' replies inside one, as the reasoning stage would learn it.
  const reasoningStarts = createStartMemory()
  const templatesRead = new Set<string>()
  const readTemplateOnce = (id: string, models: readonly string[]): void => {
    const upstream = upstreams.find((item) => item.id === id)
    if (resolved.reasoningStartsInThink !== 'auto' || upstream === undefined || templatesRead.has(id)) return
    templatesRead.add(id)
    void templateOpensThinkAt(upstream, Math.min(resolved.connectTimeoutMs + 5000, 15_000)).then((opens) => {
      if (opens) for (const model of models) reasoningStarts.learn(model)
    })
  }
  // Cache-aware routing with slot affinity: llama.cpp's /slots, read after good probes, corrects the prefix index.
  // Not with a state shared by several gateways: each watch hears only its own gateway's jobs, and would take the
  // others' for another client's and forget their slots.
  const slotsWatch = router !== undefined && resolved.schedulerState?.authority === undefined && upstreams.some((upstream) => upstream.slotAffinity) ? watchSlots(scheduler, router, resolved.onEvent) : undefined
  const probe = createUpstreamProbe({ timeoutMs: PROBE_TIMEOUT_MS })
  const health = new UpstreamHealth(scheduler, {
    cooldownMs: resolved.unhealthyCooldownMs,
    clock,
    onChange: (upstream, healthy) => resolved.onEvent?.({ type: 'upstream-health', upstream, healthy, cooldownMs: resolved.unhealthyCooldownMs }),
    onState: (upstream, state, error) => resolved.onEvent?.({ type: 'upstream-state', upstream, state, error }),
    serves: (id, model) => model === undefined || catalog.serves(id, model),
    upstreams,
    intervalMs: resolved.healthIntervalMs,
    probeAtStart: true,
    ejectAfterFailures: resolved.ejectAfterFailures,
    probeTimeoutMs: PROBE_TIMEOUT_MS,
    probe: slotsWatch === undefined ? probe : slotsWatch.wrap(probe),
  })
  const jobs = new JobRegistry({ maxFinished: resolved.maxFinishedJobs })
  const running = new RunningJobs({ clock })
  // Shared state (issue 14): a job whose slot lease ran out must stop, or the upstream runs one job too many.
  resolved.schedulerState?.authority?.onLeaseLost((jobId) => running.abortJob(jobId, new UnavailableError('The job lost its slot: this gateway was cut off from the shared state for longer than the lease.', 'lease_lost')))
  forwardSchedulerEvents(scheduler, jobs, resolved.onEvent)
  // The key only chooses among upstreams and llama.cpp slots: with one upstream and no slot
  // affinity there is no choice to make, and no hash to compute (unless the dashboard shows it:
  // it shows each job's conversation).
  const routesByKey = upstreams.length > 1 || upstreams.some((upstream) => upstream.slotAffinity) || resolved.dashboard
  const tools = resolved.toolRegistry ?? buildToolRegistry(resolved)
  // Chat memory (off: nothing built, no stage). Its embedder queues through these very services.
  let services: GatewayServices | undefined
  const memoryOptions = resolved.memory
  const memory =
    memoryOptions === undefined
      ? undefined
      : new ChatMemory({
          options: memoryOptions,
          clock,
          warn: (message) => resolved.onEvent?.({ type: 'warning', message }),
          embedder: memoryOptions.embeddings === undefined ? undefined : createMemoryEmbedder(() => services as GatewayServices, memoryOptions.embeddings),
          tools,
        })
  const stages = defaultStages({ options: resolved, catalog, routesByKey, tools, memory, reasoningStarts })
  services = {
    options: resolved,
    clock,
    upstreams: new Map(upstreams.map((upstream) => [upstream.id, upstream])),
    scheduler,
    health,
    catalog,
    jobs,
    running,
    deadlines: new CallDeadlines({ clock, ttfbMs: resolved.ttfbTimeoutMs, stallMs: resolved.stallTimeoutMs, maxDurationMs: resolved.maxDurationMs }),
    stages: resolved.stages?.(stages) ?? stages,
    memory,
    router,
    tools,
    ownsTools: resolved.toolRegistry === undefined && tools !== undefined,
  }
  return services
}

/** The registry of the configured tool and MCP servers (none configured: none); its warnings become `warning` events. */
function buildToolRegistry(resolved: ResolvedGatewayOptions): ToolRegistry | undefined {
  if (resolved.toolServers.length === 0 && resolved.mcpServers.length === 0) return undefined
  return createToolRegistry({
    toolServers: resolved.toolServers,
    mcpServers: resolved.mcpServers,
    timeoutMs: resolved.toolTimeoutMs,
    maxBytes: resolved.toolMaxBytes,
    schemaTtlMs: resolved.toolSchemaTtlMs,
    clock: resolved.clock,
    onWarning: (message) => resolved.onEvent?.({ type: 'warning', message }),
  })
}

/** The `/slots` watch (llama-slots.ts), told where the gateway's own jobs start and end; its corrections become `upstream-slots` events. */
function watchSlots(scheduler: QueueScheduler, router: CacheAwareRouter, onEvent: ((event: GatewayEvent) => void) | undefined): LlamaSlotsWatch {
  const onCorrection = (upstream: string, correction: SlotsCorrection) => {
    // The router's own picture of those slots (what they hold, since when) goes with the index's.
    router.forgotten(upstream, correction.reason === 'reused' ? correction.slots : undefined)
    onEvent?.({ type: 'upstream-slots', upstream, ...correction })
  }
  const watch = new LlamaSlotsWatch({ prefixes: scheduler.prefixes, onCorrection })
  scheduler.on('job-start', (event) => watch.started(event.upstream, event.slot))
  scheduler.on('job-end', (event) => watch.ended(event.upstream, event.slot))
  return watch
}

/**
 * The scheduler's `job-queued` and `job-start` as gateway events (with the job's model and its
 * sticky route). Only for a listener: without one the scheduler builds no event at all.
 */
function forwardSchedulerEvents(scheduler: QueueScheduler, jobs: JobRegistry, onEvent: ((event: GatewayEvent) => void) | undefined): void {
  if (onEvent === undefined) return
  scheduler.on('job-queued', (event) => onEvent({ type: 'job-queued', jobId: event.jobId, kind: event.class, upstream: event.upstream, queued: event.queued }))
  scheduler.on('job-start', (event) =>
    onEvent({ type: 'job-start', jobId: event.jobId, kind: event.class, model: jobs.get(event.jobId)?.model, upstream: event.upstream, slot: event.slot, waitMs: event.waitedMs, route: event.route, cache: event.cache }),
  )
}
