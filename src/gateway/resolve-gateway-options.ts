/**
 * Applies the defaults of {@link GatewayOptions} and validates them, naming the first bad option.
 * @module
 */
import type { ReasoningMode } from '../reasoning/reasoning-transform.js'
import { clockWith, systemClock } from './clock.js'
import { resolveGatewayKeys } from './gateway-keys.js'
import { resolveVariants } from './variants.js'
import type { Variant } from './variants.js'
import { resolveAllowedHosts } from './allowed-hosts.js'
import { resolveCorsOrigins } from './cors.js'
import { resolveMemoryOptions } from './memory-options.js'
import type { Agent } from '../agents/types.js'
import type { GatewayEvent } from './gateway-events.js'
import type { GatewayOptions, QueueNotifyMode, ResolvedGatewayOptions, ToolMode, UnknownToolPolicy } from './gateway-options.js'

const QUEUE_NOTIFY_MODES: readonly QueueNotifyMode[] = ['reasoning', 'content', 'comment', 'never']
const TOOL_MODES: readonly ToolMode[] = ['execute', 'passthrough', 'suppress']
const UNKNOWN_TOOL_POLICIES: readonly UnknownToolPolicy[] = ['error', 'passthrough', 'ignore']
const REASONING_MODES: readonly ReasoningMode[] = ['split', 'strip', 'keep']

/** Applies defaults and throws a `TypeError` naming the first bad option. */
export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('createGateway: expected an options object')
  const {
    upstreams,
    models = [],
    apiKeys = [],
    variants = [],
    agents = {},
    aliases = {},
    discoverModels = true,
    modelRefreshMs = 60_000,
    maxBodyBytes = 10 * 1024 * 1024,
    maxResponseBytes = 64 * 1024 * 1024,
    readTimeoutMs = 3_600_000,
    connectTimeoutMs = 10_000,
    unhealthyCooldownMs = 10_000,
    healthIntervalMs = 10_000,
    ejectAfterFailures = 3,
    maxRetries = 2,
    ttfbTimeoutMs = 120_000,
    stallTimeoutMs = 60_000,
    maxDurationMs = 0,
    stickyHeader = 'X-Chat-Id',
    stickyTtlMs = 600_000,
    stickyMaxImbalance = 2,
    maxStickyKeys = 100_000,
    routing = 'sticky',
    schedulerState,
    batchMaxWaitMs = 30_000,
    maxQueued = 1000,
    maxWaitMs = 0,
    queueNotify = 'reasoning',
    notifyAfterMs = 1200,
    queueMessage = 'Queued: position {position} of {queued}, about {eta}s',
    keepAliveMs = 15_000,
    textToolCalls = true,
    toolRegistry,
    // Tool servers make a registry too (gateway-services.ts builds it).
    toolMode = toolRegistry !== undefined || (Array.isArray(options.toolServers) && options.toolServers.length > 0) || (Array.isArray(options.mcpServers) && options.mcpServers.length > 0) ? 'execute' : 'passthrough',
    injectTools = true,
    unknownToolPolicy = 'error',
    maxToolIters = 6,
    releaseSlotDuringTools = false,
    reasoning = 'split',
    forwardReasoning = true,
    reasoningStartsInThink = 'auto',
    reasoningStartWindow = 0,
    maxFinishedJobs = 10_000,
    requireJsonContentType = false,
    allowedHosts,
    corsOrigins,
    memory,
    toolServers = [],
    mcpServers = [],
    toolTimeoutMs = 60_000,
    toolMaxBytes = 65_536,
    toolSchemaTtlMs = 300_000,
    dashboard = false,
    onEvent: clientOnEvent,
    metrics,
    metricsPath = '/metrics',
    logBodies = false,
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
  if (typeof aliases !== 'object' || aliases === null || Array.isArray(aliases)) throw new TypeError(`aliases: expected an object of public id → upstream model id, got ${JSON.stringify(aliases)}`)
  for (const [id, target] of Object.entries(aliases)) {
    if (id.trim() === '' || typeof target !== 'string' || target.trim() === '') throw new TypeError(`aliases: expected non-empty model ids, got ${JSON.stringify(id)} → ${JSON.stringify(target)}`)
  }
  if (typeof discoverModels !== 'boolean') throw new TypeError(`discoverModels: expected true or false, got ${JSON.stringify(discoverModels)}`)
  positiveInteger('modelRefreshMs', modelRefreshMs)
  positiveInteger('maxBodyBytes', maxBodyBytes)
  positiveInteger('maxResponseBytes', maxResponseBytes)
  positiveInteger('readTimeoutMs', readTimeoutMs)
  positiveInteger('connectTimeoutMs', connectTimeoutMs)
  positiveInteger('unhealthyCooldownMs', unhealthyCooldownMs)
  nonNegativeInteger('healthIntervalMs', healthIntervalMs)
  positiveInteger('ejectAfterFailures', ejectAfterFailures)
  nonNegativeInteger('maxRetries', maxRetries)
  positiveInteger('ttfbTimeoutMs', ttfbTimeoutMs)
  positiveInteger('stallTimeoutMs', stallTimeoutMs)
  nonNegativeInteger('maxDurationMs', maxDurationMs)
  positiveInteger('stickyTtlMs', stickyTtlMs)
  nonNegativeNumber('stickyMaxImbalance', stickyMaxImbalance)
  positiveInteger('maxStickyKeys', maxStickyKeys)
  if (routing !== 'sticky' && routing !== 'cache-aware') throw new TypeError(`routing must be 'sticky' or 'cache-aware', got ${JSON.stringify(routing)}`)
  nonNegativeNumber('batchMaxWaitMs', batchMaxWaitMs)
  nonNegativeInteger('maxQueued', maxQueued)
  nonNegativeNumber('maxWaitMs', maxWaitMs)
  nonNegativeNumber('notifyAfterMs', notifyAfterMs)
  positiveInteger('keepAliveMs', keepAliveMs)
  positiveInteger('maxFinishedJobs', maxFinishedJobs)
  if (!Array.isArray(toolServers)) throw new TypeError('toolServers: expected a list of URLs or { url } objects')
  if (!Array.isArray(mcpServers)) throw new TypeError('mcpServers: expected a list of URLs or { url } objects')
  positiveInteger('toolTimeoutMs', toolTimeoutMs)
  positiveInteger('toolMaxBytes', toolMaxBytes)
  positiveInteger('toolSchemaTtlMs', toolSchemaTtlMs)
  if (typeof stickyHeader !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(stickyHeader)) {
    throw new TypeError(`stickyHeader: expected an HTTP header name, got ${JSON.stringify(stickyHeader)}`)
  }
  if (!QUEUE_NOTIFY_MODES.includes(queueNotify)) {
    throw new TypeError(`queueNotify: expected one of ${QUEUE_NOTIFY_MODES.join(', ')}, got ${JSON.stringify(queueNotify)}`)
  }
  if (!TOOL_MODES.includes(toolMode)) {
    throw new TypeError(`toolMode: expected one of ${TOOL_MODES.join(', ')}, got ${JSON.stringify(toolMode)}`)
  }
  if (toolRegistry !== undefined && (typeof toolRegistry !== 'object' || toolRegistry === null || typeof toolRegistry.call !== 'function' || typeof toolRegistry.definitions !== 'function')) {
    throw new TypeError('toolRegistry: expected a ToolRegistry (createToolRegistry)')
  }
  if (typeof injectTools !== 'boolean') throw new TypeError(`injectTools: expected true or false, got ${JSON.stringify(injectTools)}`)
  if (!UNKNOWN_TOOL_POLICIES.includes(unknownToolPolicy)) {
    throw new TypeError(`unknownToolPolicy: expected one of ${UNKNOWN_TOOL_POLICIES.join(', ')}, got ${JSON.stringify(unknownToolPolicy)}`)
  }
  nonNegativeInteger('maxToolIters', maxToolIters)
  if (typeof releaseSlotDuringTools !== 'boolean') throw new TypeError(`releaseSlotDuringTools: expected true or false, got ${JSON.stringify(releaseSlotDuringTools)}`)
  if (!REASONING_MODES.includes(reasoning)) {
    throw new TypeError(`reasoning: expected one of ${REASONING_MODES.join(', ')}, got ${JSON.stringify(reasoning)}`)
  }
  if (typeof forwardReasoning !== 'boolean') throw new TypeError(`forwardReasoning: expected true or false, got ${JSON.stringify(forwardReasoning)}`)
  if (reasoningStartsInThink !== 'auto' && typeof reasoningStartsInThink !== 'boolean') {
    throw new TypeError(`reasoningStartsInThink: expected "auto", true or false, got ${JSON.stringify(reasoningStartsInThink)}`)
  }
  if (typeof reasoningStartWindow !== 'number' || !Number.isInteger(reasoningStartWindow) || reasoningStartWindow < 0) {
    throw new TypeError(`reasoningStartWindow: expected a whole number of characters >= 0, got ${JSON.stringify(reasoningStartWindow)}`)
  }
  if (typeof queueMessage !== 'string') throw new TypeError(`queueMessage: expected a string, got ${JSON.stringify(queueMessage)}`)
  if (typeof logBodies !== 'boolean') throw new TypeError(`logBodies: expected true or false, got ${JSON.stringify(logBodies)}`)
  if (typeof textToolCalls !== 'boolean') throw new TypeError(`textToolCalls: expected true or false, got ${JSON.stringify(textToolCalls)}`)
  if (typeof requireJsonContentType !== 'boolean') throw new TypeError(`requireJsonContentType: expected true or false, got ${JSON.stringify(requireJsonContentType)}`)
  if (clientOnEvent !== undefined && typeof clientOnEvent !== 'function') throw new TypeError('onEvent: expected a function')
  if (metrics !== undefined && (typeof metrics !== 'object' || metrics === null || typeof metrics.observe !== 'function' || typeof metrics.render !== 'function' || typeof metrics.bind !== 'function')) {
    throw new TypeError('metrics: expected a metrics collector (createGatewayMetrics() from queuegate/observe)')
  }
  if (metricsPath !== false && (typeof metricsPath !== 'string' || !metricsPath.startsWith('/') || metricsPath.startsWith('/v1/'))) {
    throw new TypeError(`metricsPath: expected a path like /metrics (not under /v1/), or false, got ${JSON.stringify(metricsPath)}`)
  }
  // The collector sees every event first; one function either way (nothing to check per event).
  const onEvent =
    metrics === undefined
      ? clientOnEvent
      : clientOnEvent === undefined
        ? (event: GatewayEvent) => metrics.observe(event)
        : (event: GatewayEvent) => {
            metrics.observe(event)
            clientOnEvent(event)
          }
  if (typeof dashboard !== 'boolean') throw new TypeError(`dashboard: expected true or false, got ${JSON.stringify(dashboard)}`)
  const resolvedVariants = resolveVariants(variants)
  const clock = _internal.clock === undefined && _internal.now === undefined ? systemClock : clockWith({ ...(_internal.now === undefined ? {} : { now: _internal.now }), ..._internal.clock })
  return {
    upstreams: normalized,
    models: models.map((model) => model.trim()),
    aliases: new Map(Object.entries(aliases).map(([id, target]) => [id.trim(), target.trim()])),
    apiKeys: resolveGatewayKeys(apiKeys),
    variants: resolvedVariants,
    agents: resolveAgents(agents, resolvedVariants),
    discoverModels,
    modelRefreshMs,
    maxBodyBytes,
    maxResponseBytes,
    readTimeoutMs,
    connectTimeoutMs,
    unhealthyCooldownMs,
    healthIntervalMs,
    ejectAfterFailures,
    maxRetries,
    ttfbTimeoutMs,
    stallTimeoutMs,
    maxDurationMs,
    stickyHeader,
    stickyTtlMs,
    stickyMaxImbalance,
    maxStickyKeys,
    routing,
    schedulerState,
    batchMaxWaitMs,
    maxQueued,
    maxWaitMs,
    queueNotify,
    notifyAfterMs,
    queueMessage,
    keepAliveMs,
    textToolCalls,
    toolMode,
    toolRegistry,
    injectTools,
    unknownToolPolicy,
    maxToolIters,
    releaseSlotDuringTools,
    reasoning,
    forwardReasoning,
    reasoningStartsInThink,
    reasoningStartWindow,
    maxFinishedJobs,
    requireJsonContentType,
    allowedHosts: resolveAllowedHosts(allowedHosts),
    corsOrigins: resolveCorsOrigins(corsOrigins),
    memory: resolveMemoryOptions(memory),
    toolServers,
    mcpServers,
    toolTimeoutMs,
    toolMaxBytes,
    toolSchemaTtlMs,
    dashboard,
    onEvent,
    metrics,
    metricsPath,
    logBodies,
    now: clock.now,
    clock,
    generateId: _internal.generateId ?? (() => crypto.randomUUID().replaceAll('-', '')),
    dispatcherFactory: _internal.dispatcherFactory,
    stages: _internal.stages,
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

/** Agents by id; an id must be unique among agents and variants. */
function resolveAgents(agents: Record<string, Agent>, variants: ReadonlyMap<string, Variant>): Map<string, Agent> {
  if (typeof agents !== 'object' || agents === null || Array.isArray(agents)) throw new TypeError(`agents: expected an object of model id → agent function, got ${JSON.stringify(agents)}`)
  const resolved = new Map<string, Agent>()
  for (const [id, agent] of Object.entries(agents)) {
    if (id.trim() === '' || id !== id.trim()) throw new TypeError(`agents: expected model ids without surrounding spaces, got ${JSON.stringify(id)}`)
    if (typeof agent !== 'function') throw new TypeError(`agents: ${JSON.stringify(id)} is not a function (an agent is an async generator function or a function)`)
    if (variants.has(id)) throw new TypeError(`agents: ${JSON.stringify(id)} is also a variant's id`)
    resolved.set(id, agent)
  }
  return resolved
}
