/**
 * Builds the server's settings from, in rising precedence: a JSON5 config file, environment
 * variables (the first version's names keep working), and command-line flags. A bad value
 * fails with one line that names the setting and what it expected.
 * @module
 */
import JSON5 from 'json5'
import { aliasObject, aliasPairs, boolean, ConfigError, fileApiKeys, fileMcpServers, fileToolServers, fileUpstreams, fileVariants, fromString, integer, list, nonEmpty, nonEmptyList, oneOf, port, QUEUE_NOTIFY, REASONING_MODE, seconds, STARTS_IN_THINK, secondsOrZero, stringList, TOOL_MODE, UNKNOWN_TOOL_POLICY, variantSpecs } from './config-values.js'
import type { GatewayOptions, QueueNotifyMode, ToolMode, UnknownToolPolicy } from '../gateway/gateway-options.js'
import type { ReasoningMode } from '../reasoning/reasoning-transform.js'
import type { UpstreamOptions } from '../gateway/upstream.js'
import { hasUrlCredentials, redactUrl } from '../gateway/upstream.js'
import type { VariantOptions } from '../gateway/variants.js'
import { fileMemory, MEMORY_SETTINGS, memoryConfig } from './memory-settings.js'
import type { McpServerOptions } from '../tools/mcp-source.js'
import type { OpenApiServerOptions } from '../tools/openapi-source.js'

/** Log levels, quietest first. */
export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const
/** How much the CLI logs. */
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Everything the CLI needs to start. */
export interface CliConfig {
  gateway: GatewayOptions
  port: number
  host: string
  logLevel: LogLevel
  /** `text` lines or `json` objects (pino). */
  logFormat: 'text' | 'json'
  /** Serve Prometheus metrics (prom-client). */
  metrics: boolean
  /** Serve them on a listener of their own at this port (on `host`), not on the gateway's port. */
  metricsPort: number | undefined
  /** How long running requests may finish on SIGINT/SIGTERM. */
  shutdownGraceMs: number
  /** Limits on clients' connections (serve's options; issue 12). */
  clients: ClientLimits
  /** The request checks against web pages (gateway options; main.ts sets the Host list by the listen address). */
  security: SecuritySettings
  /** Notes for the log (e.g. a setting accepted but not yet acted on). */
  warnings: string[]
  /** The local memory store's log file (`--memory-file`), opened by the CLI. */
  memoryFile?: string | undefined
  /** Agent modules to load (`--agent`, `QUEUEGATE_AGENTS`, `agents` in the config file), as written. */
  agentModules: string[]
  /** `--redis` (issue 14): the shared scheduler state's Redis, built by main.ts; undefined: this process alone. */
  redis?: RedisSettings | undefined
}

/** Where the replicas share their scheduler state. */
export interface RedisSettings {
  url: string
  keyPrefix: string | undefined
  leaseTtlMs: number
}

export { ConfigError } from './config-values.js'

/** Checks against web pages reaching the gateway (issue 12). */
export interface SecuritySettings {
  /** 415 for bodies that are not JSON. @default true */
  requireJson: boolean
  /** `--allowed-hosts` (host names besides the loopback ones; `*` turns the check off). */
  allowedHosts: string[] | undefined
  /** `--cors-origin`. */
  corsOrigins: string[] | undefined
}

/** How long clients may take and how many may connect (`serve()`'s options of the same names). */
export interface ClientLimits {
  headersTimeoutMs: number
  /** 0: none. */
  bodyTimeoutMs: number
  /** 0: none. */
  maxConnections: number
  /** 0: none. */
  clientIdleTimeoutMs: number
}

/** Flag values as commander hands them over (strings, booleans, or undefined when not given). */
export type CliFlags = Record<string, string | boolean | undefined>

/** Inputs of {@link loadConfig}. */
export interface LoadConfigInput {
  flags: CliFlags
  env: Record<string, string | undefined>
  /** Reads the config file (injected so tests need no files). */
  readFile: (path: string) => string
  /** Upstreams that replace the configured ones (`--demo`: the simulated servers); none need be configured then. */
  upstreams?: UpstreamOptions[] | undefined
}

/** A setting: its flag (commander's camelCase key), its env names, and its parser. */
interface Setting {
  key: SettingKey
  flag: string
  env: string[]
  parse: (raw: string, name: string) => unknown
}

type SettingKey =
  | 'upstreams'
  | 'slots'
  | 'models'
  | 'modelAlias'
  | 'apiKey'
  | 'variant'
  | 'agent'
  | 'upstreamKey'
  | 'modelDiscovery'
  | 'modelRefresh'
  | 'healthInterval'
  | 'maxRetries'
  | 'ttfbTimeout'
  | 'stallTimeout'
  | 'maxDuration'
  | 'port'
  | 'host'
  | 'readTimeout'
  | 'logLevel'
  | 'stickyHeader'
  | 'stickyTtl'
  | 'slotAffinity'
  | 'routing'
  | 'redis'
  | 'leaseTtlMs'
  | 'batchMaxWaitMs'
  | 'maxQueued'
  | 'maxWaitMs'
  | 'notifyAfterMs'
  | 'queueNotify'
  | 'queueMessage'
  | 'textToolcalls'
  | 'toolMode'
  | 'injectTools'
  | 'unknownToolPolicy'
  | 'maxToolIters'
  | 'releaseSlotDuringTools'
  | 'reasoning'
  | 'forwardReasoning'
  | 'reasoningStartsInThink'
  | 'reasoningStartWindow'
  | 'maxBodyBytes'
  | 'shutdownGraceMs'
  | 'logFormat'
  | 'logBodies'
  | 'metrics'
  | 'metricsPort'
  | 'headersTimeout'
  | 'bodyTimeout'
  | 'maxConnections'
  | 'clientIdleTimeout'
  | 'requireJson'
  | 'allowedHosts'
  | 'corsOrigin'
  | 'toolserver'
  | 'toolserverPrefix'
  | 'mcp'
  | 'toolTimeout'
  | 'toolMaxBytes'
  | 'toolSchemaTtl'
  | 'dashboard'

/** Every setting the CLI knows, with the first version's environment names. */
export const SETTINGS: readonly Setting[] = [
  { key: 'upstreams', flag: 'upstreams', env: ['LLM_UPSTREAMS', 'QUEUEGATE_UPSTREAMS'], parse: (raw, name) => nonEmptyList(raw, name) },
  { key: 'slots', flag: 'slots', env: ['LLM_SLOTS', 'QUEUEGATE_SLOTS'], parse: integer(1) },
  { key: 'models', flag: 'models', env: ['PROXY_MODELS', 'LLM_MODELS'], parse: (raw) => list(raw) },
  { key: 'variant', flag: 'variant', env: ['QUEUEGATE_VARIANTS'], parse: (raw, name) => variantSpecs(raw, name) },
  { key: 'agent', flag: 'agent', env: ['QUEUEGATE_AGENTS'], parse: (raw) => list(raw) },
  { key: 'apiKey', flag: 'apiKey', env: ['QUEUEGATE_API_KEYS'], parse: (raw) => list(raw) },
  { key: 'upstreamKey', flag: 'upstreamKey', env: ['UPSTREAM_API_KEY', 'HF_TOKEN'], parse: nonEmpty },
  { key: 'modelAlias', flag: 'modelAlias', env: ['MODEL_ALIASES'], parse: (raw, name) => aliasPairs(raw, name) },
  { key: 'modelDiscovery', flag: 'modelDiscovery', env: ['MODEL_DISCOVERY'], parse: boolean },
  { key: 'modelRefresh', flag: 'modelRefresh', env: ['MODEL_REFRESH_SEC'], parse: seconds },
  { key: 'healthInterval', flag: 'healthInterval', env: ['HEALTH_INTERVAL_SEC'], parse: secondsOrZero },
  { key: 'maxRetries', flag: 'maxRetries', env: ['MAX_RETRIES'], parse: integer(0) },
  { key: 'ttfbTimeout', flag: 'ttfbTimeout', env: ['TTFB_TIMEOUT_SEC'], parse: seconds },
  { key: 'stallTimeout', flag: 'stallTimeout', env: ['STALL_TIMEOUT_SEC'], parse: seconds },
  { key: 'maxDuration', flag: 'maxDuration', env: ['MAX_DURATION_SEC'], parse: secondsOrZero },
  { key: 'port', flag: 'port', env: ['PORT'], parse: (raw, name) => port(raw, name) },
  { key: 'host', flag: 'host', env: ['HOST'], parse: nonEmpty },
  { key: 'readTimeout', flag: 'readTimeout', env: ['LLM_READ_TIMEOUT'], parse: seconds },
  { key: 'logLevel', flag: 'logLevel', env: ['LOG_LEVEL'], parse: oneOf<LogLevel>(LOG_LEVELS, { warning: 'warn', critical: 'error', fatal: 'error' }) },
  { key: 'stickyHeader', flag: 'stickyHeader', env: ['STICKY_HEADER'], parse: nonEmpty },
  { key: 'stickyTtl', flag: 'stickyTtl', env: ['AFFINITY_TTL_SEC'], parse: seconds },
  { key: 'slotAffinity', flag: 'slotAffinity', env: ['SLOT_AFFINITY'], parse: boolean },
  { key: 'routing', flag: 'routing', env: ['ROUTING'], parse: oneOf<'sticky' | 'cache-aware'>(['sticky', 'cache-aware']) },
  { key: 'redis', flag: 'redis', env: ['QUEUEGATE_REDIS_URL'], parse: nonEmpty },
  { key: 'leaseTtlMs', flag: 'leaseTtlMs', env: ['QUEUEGATE_LEASE_TTL_MS'], parse: integer(300) },
  { key: 'batchMaxWaitMs', flag: 'batchMaxWaitMs', env: ['BATCH_MAX_WAIT_MS'], parse: integer(0) },
  { key: 'maxQueued', flag: 'maxQueued', env: ['MAX_QUEUED'], parse: integer(0) },
  { key: 'maxWaitMs', flag: 'maxWaitMs', env: ['MAX_WAIT_MS'], parse: integer(0) },
  { key: 'notifyAfterMs', flag: 'notifyAfterMs', env: ['QUEUE_NOTIFY_MIN_MS'], parse: integer(0) },
  { key: 'queueNotify', flag: 'queueNotify', env: ['QUEUE_NOTIFY_USER'], parse: QUEUE_NOTIFY },
  { key: 'queueMessage', flag: 'queueMessage', env: ['QUEUE_MESSAGE'], parse: (raw) => raw },
  { key: 'textToolcalls', flag: 'textToolcalls', env: ['TEXT_TOOLCALL_DETECT'], parse: boolean },
  { key: 'toolMode', flag: 'toolMode', env: ['TOOLCALL_MODE'], parse: TOOL_MODE },
  // Server-side tools (execute mode: the tool loop).
  { key: 'injectTools', flag: 'injectTools', env: ['INJECT_TOOLS'], parse: boolean },
  { key: 'unknownToolPolicy', flag: 'unknownToolPolicy', env: ['UNKNOWN_TOOL_POLICY'], parse: UNKNOWN_TOOL_POLICY },
  { key: 'maxToolIters', flag: 'maxToolIters', env: ['MAX_TOOL_ITERS'], parse: integer(0) },
  { key: 'releaseSlotDuringTools', flag: 'releaseSlotDuringTools', env: ['RELEASE_SLOT_DURING_TOOLS'], parse: boolean },
  { key: 'reasoning', flag: 'reasoning', env: ['REASONING_MODE'], parse: REASONING_MODE },
  { key: 'forwardReasoning', flag: 'forwardReasoning', env: ['FORWARD_REASONING'], parse: boolean },
  { key: 'reasoningStartsInThink', flag: 'reasoningStartsInThink', env: ['REASONING_STARTS_IN_THINK'], parse: STARTS_IN_THINK },
  { key: 'reasoningStartWindow', flag: 'reasoningStartWindow', env: ['REASONING_START_WINDOW'], parse: integer(0) },
  { key: 'maxBodyBytes', flag: 'maxBodyBytes', env: ['MAX_BODY_BYTES'], parse: integer(1) },
  { key: 'shutdownGraceMs', flag: 'shutdownGraceMs', env: ['SHUTDOWN_GRACE_MS'], parse: integer(0) },
  { key: 'logFormat', flag: 'logFormat', env: ['LOG_FORMAT'], parse: oneOf<'text' | 'json'>(['text', 'json']) },
  { key: 'logBodies', flag: 'logBodies', env: ['LOG_BODIES'], parse: boolean },
  { key: 'metrics', flag: 'metrics', env: ['METRICS'], parse: boolean },
  { key: 'metricsPort', flag: 'metricsPort', env: ['METRICS_PORT'], parse: (raw, name) => port(raw, name) },
  // Client limits (issue 12).
  { key: 'headersTimeout', flag: 'headersTimeout', env: ['HEADERS_TIMEOUT_SEC'], parse: seconds },
  { key: 'bodyTimeout', flag: 'bodyTimeout', env: ['BODY_TIMEOUT_SEC'], parse: secondsOrZero },
  { key: 'maxConnections', flag: 'maxConnections', env: ['MAX_CONNECTIONS'], parse: integer(0) },
  { key: 'clientIdleTimeout', flag: 'clientIdleTimeout', env: ['CLIENT_IDLE_TIMEOUT_SEC'], parse: secondsOrZero },
  // Security (issue 12).
  { key: 'requireJson', flag: 'requireJson', env: ['REQUIRE_JSON'], parse: boolean },
  { key: 'allowedHosts', flag: 'allowedHosts', env: ['ALLOWED_HOSTS'], parse: (raw) => list(raw) },
  { key: 'corsOrigin', flag: 'corsOrigin', env: ['CORS_ORIGINS'], parse: (raw) => list(raw) },
  { key: 'toolserver', flag: 'toolserver', env: ['TOOLSERVER_URL'], parse: (raw) => list(raw) },
  { key: 'toolserverPrefix', flag: 'toolserverPrefix', env: ['TOOLSERVER_PREFIX'], parse: nonEmpty },
  { key: 'mcp', flag: 'mcp', env: ['MCP_SERVERS'], parse: (raw) => list(raw) },
  { key: 'toolTimeout', flag: 'toolTimeout', env: ['TOOL_TIMEOUT_SEC'], parse: seconds },
  { key: 'toolMaxBytes', flag: 'toolMaxBytes', env: ['TOOL_MAX_BYTES'], parse: integer(1) },
  { key: 'toolSchemaTtl', flag: 'toolSchemaTtl', env: ['TOOLSERVER_SCHEMA_TTL_SEC'], parse: seconds },
  { key: 'dashboard', flag: 'dashboard', env: ['QUEUEGATE_DASHBOARD'], parse: boolean },
]

/** Keys a config file may hold, each mapped to how its value is checked. */
const FILE_KEYS: Record<string, (value: unknown, name: string) => unknown> = {
  upstreams: (value, name) => fileUpstreams(value, name),
  slots: fromString(integer(1)),
  models: (value, name) => stringList(value, name),
  aliases: (value, name) => aliasObject(value, name),
  apiKeys: (value, name) => fileApiKeys(value, name),
  variants: (value, name) => fileVariants(value, name),
  agents: (value, name) => stringList(value, name),
  upstreamKey: fromString(nonEmpty),
  discoverModels: fromString(boolean),
  modelRefresh: fromString(seconds),
  modelRefreshMs: fromString(integer(1)),
  port: fromString(port),
  host: fromString(nonEmpty),
  readTimeout: fromString(seconds),
  readTimeoutMs: fromString(integer(1)),
  logLevel: fromString(SETTINGS.find((setting) => setting.key === 'logLevel')!.parse),
  stickyHeader: fromString(nonEmpty),
  stickyTtl: fromString(seconds),
  stickyTtlMs: fromString(integer(1)),
  stickyMaxImbalance: fromString(integer(0)),
  maxStickyKeys: fromString(integer(1)),
  slotAffinity: fromString(boolean),
  routing: fromString(oneOf<'sticky' | 'cache-aware'>(['sticky', 'cache-aware'])),
  redis: (value, name) => fileRedis(value, name),
  leaseTtlMs: fromString(integer(300)),
  batchMaxWaitMs: fromString(integer(0)),
  maxQueued: fromString(integer(0)),
  maxWaitMs: fromString(integer(0)),
  notifyAfterMs: fromString(integer(0)),
  queueNotify: fromString(QUEUE_NOTIFY),
  queueMessage: fromString((raw) => raw),
  keepAliveMs: fromString(integer(1)),
  textToolCalls: fromString(boolean),
  toolMode: fromString(TOOL_MODE),
  injectTools: fromString(boolean),
  unknownToolPolicy: fromString(UNKNOWN_TOOL_POLICY),
  maxToolIters: fromString(integer(0)),
  releaseSlotDuringTools: fromString(boolean),
  reasoning: fromString(REASONING_MODE),
  forwardReasoning: fromString(boolean),
  reasoningStartsInThink: fromString(STARTS_IN_THINK),
  reasoningStartWindow: fromString(integer(0)),
  maxBodyBytes: fromString(integer(1)),
  maxResponseBytes: fromString(integer(1)),
  connectTimeoutMs: fromString(integer(1)),
  unhealthyCooldownMs: fromString(integer(1)),
  healthInterval: fromString(secondsOrZero),
  healthIntervalMs: fromString(integer(0)),
  ejectAfterFailures: fromString(integer(1)),
  maxRetries: fromString(integer(0)),
  ttfbTimeout: fromString(seconds),
  ttfbTimeoutMs: fromString(integer(1)),
  stallTimeout: fromString(seconds),
  stallTimeoutMs: fromString(integer(1)),
  maxDuration: fromString(secondsOrZero),
  maxDurationMs: fromString(integer(0)),
  shutdownGraceMs: fromString(integer(0)),
  logFormat: fromString(SETTINGS.find((setting) => setting.key === 'logFormat')!.parse),
  logBodies: fromString(boolean),
  metrics: fromString(boolean),
  metricsPort: fromString(port),
  headersTimeout: fromString(seconds),
  bodyTimeout: fromString(secondsOrZero),
  maxConnections: fromString(integer(0)),
  clientIdleTimeout: fromString(secondsOrZero),
  requireJson: fromString(boolean),
  allowedHosts: (value, name) => stringList(value, name),
  corsOrigins: (value, name) => stringList(value, name),
  memory: (value, name) => fileMemory(value, name),
  toolServers: (value, name) => fileToolServers(value, name),
  toolServerPrefix: fromString(nonEmpty),
  mcpServers: (value, name) => fileMcpServers(value, name),
  toolTimeout: fromString(seconds),
  toolTimeoutMs: fromString(integer(1)),
  toolMaxBytes: fromString(integer(1)),
  toolSchemaTtl: fromString(seconds),
  toolSchemaTtlMs: fromString(integer(1)),
  dashboard: fromString(boolean),
}

/** Reads and checks the config file into a flat record of settings. */
function readConfigFile(path: string, readFile: (path: string) => string): Record<string, unknown> {
  let text: string
  try {
    text = readFile(path)
  } catch (error) {
    throw new ConfigError(`--config: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`)
  }
  let parsed: unknown
  try {
    parsed = JSON5.parse(text)
  } catch (error) {
    throw new ConfigError(`--config: ${path} is not valid JSON5: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`--config: ${path} must hold an object of settings`)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(parsed)) {
    const check = FILE_KEYS[key]
    if (check === undefined) throw new ConfigError(`${path}: unknown setting ${JSON.stringify(key)} (known: ${Object.keys(FILE_KEYS).join(', ')})`)
    out[key] = check(value, `${path}: ${key}`)
  }
  // Seconds and milliseconds spellings of the same setting normalize to one key.
  if (out.readTimeout !== undefined) out.readTimeoutMs ??= Math.round((out.readTimeout as number) * 1000)
  if (out.stickyTtl !== undefined) out.stickyTtlMs ??= Math.round((out.stickyTtl as number) * 1000)
  if (out.modelRefresh !== undefined) out.modelRefreshMs ??= Math.round((out.modelRefresh as number) * 1000)
  if (out.healthInterval !== undefined) out.healthIntervalMs ??= Math.round((out.healthInterval as number) * 1000)
  for (const key of ['ttfbTimeout', 'stallTimeout', 'maxDuration']) {
    if (out[key] !== undefined) out[`${key}Ms`] ??= Math.round((out[key] as number) * 1000)
    delete out[key]
  }
  if (out.toolTimeout !== undefined) out.toolTimeoutMs ??= Math.round((out.toolTimeout as number) * 1000)
  if (out.toolSchemaTtl !== undefined) out.toolSchemaTtlMs ??= Math.round((out.toolSchemaTtl as number) * 1000)
  delete out.toolTimeout
  delete out.toolSchemaTtl
  delete out.readTimeout
  delete out.stickyTtl
  delete out.modelRefresh
  delete out.healthInterval
  return out
}

/** The config file's `redis`: a URL, or `{ url, keyPrefix }`. */
function fileRedis(value: unknown, name: string): { url: string; keyPrefix?: string | undefined } {
  if (typeof value === 'string') return { url: nonEmpty(value, name) }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${name}: expected a URL or { url, keyPrefix }, got ${JSON.stringify(value)}`)
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) if (key !== 'url' && key !== 'keyPrefix') throw new ConfigError(`${name}: unknown setting ${JSON.stringify(key)} (known: url, keyPrefix)`)
  if (typeof record.url !== 'string' || record.url === '') throw new ConfigError(`${name}.url: expected a redis:// URL`)
  if (record.keyPrefix !== undefined && typeof record.keyPrefix !== 'string') throw new ConfigError(`${name}.keyPrefix: expected a string, got ${JSON.stringify(record.keyPrefix)}`)
  return { url: record.url, keyPrefix: record.keyPrefix as string | undefined }
}

/** `--redis` / `QUEUEGATE_REDIS_URL` over the file's `redis.url`; `--lease-ttl-ms` over `leaseTtlMs`. */
function redisSettings(layer: Record<string, unknown>, file: Record<string, unknown>): RedisSettings | undefined {
  const fromFile = file.redis as { url: string; keyPrefix?: string | undefined } | undefined
  const url = (layer.redis as string | undefined) ?? fromFile?.url
  if (url === undefined) return undefined
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError(`--redis: expected a redis:// or rediss:// URL, got ${JSON.stringify(redactUrl(url))}`)
  return { url, keyPrefix: fromFile?.keyPrefix, leaseTtlMs: (layer.leaseTtlMs as number | undefined) ?? (file.leaseTtlMs as number | undefined) ?? 15_000 }
}

/** A setting given in seconds by flag or environment, else in ms by the file. */
function milliseconds(seconds: unknown, fileMs: unknown): number | undefined {
  return typeof seconds === 'number' ? Math.round(seconds * 1000) : (fileMs as number | undefined)
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`
}

/** Merges file < env < flags into the server's settings. */
export function loadConfig(input: LoadConfigInput): CliConfig {
  const { flags, env, readFile } = input
  const configPath = typeof flags.config === 'string' ? flags.config : env.QUEUEGATE_CONFIG
  const file = configPath === undefined ? {} : readConfigFile(configPath, readFile)
  const layer: Record<string, unknown> = {}
  for (const setting of SETTINGS) {
    const envName = setting.env.find((name) => env[name] !== undefined && env[name] !== '')
    if (envName !== undefined) layer[setting.key] = setting.parse(env[envName] as string, envName)
    const flag = flags[setting.flag]
    if (typeof flag === 'string') layer[setting.key] = setting.parse(flag, flagName(setting.flag))
    else if (typeof flag === 'boolean') layer[setting.key] = flag
  }
  // Chat memory's settings: the file's `memory` object under env under flags.
  const memoryValues: Record<string, unknown> = { ...(file.memory as Record<string, unknown> | undefined) }
  for (const setting of MEMORY_SETTINGS) {
    const envName = setting.env.find((name) => env[name] !== undefined && env[name] !== '')
    if (envName !== undefined) memoryValues[setting.key] = setting.parse(env[envName] as string, envName)
    const flag = flags[setting.flag]
    if (typeof flag === 'string') memoryValues[setting.key] = setting.parse(flag, flagName(setting.flag))
    else if (typeof flag === 'boolean') memoryValues[setting.key] = flag
  }
  const memory = memoryConfig(memoryValues, env)
  const pick = <T>(key: string, fileKey = key): T | undefined => (layer[key] ?? file[fileKey]) as T | undefined

  const warnings: string[] = [...memory.warnings]
  const upstreamList = input.upstreams ?? (layer.upstreams as string[] | undefined) ?? (file.upstreams as Array<UpstreamOptions | string> | undefined)
  if (upstreamList === undefined) throw new ConfigError('--upstreams: required (or LLM_UPSTREAMS, or upstreams in the config file): comma-separated upstream URLs')
  const defaultSlots = pick<number>('slots')
  const slotAffinity = pick<boolean>('slotAffinity')
  const upstreamKey = pick<string>('upstreamKey')
  const upstreams: UpstreamOptions[] = upstreamList.map((item) => {
    const upstream: UpstreamOptions = typeof item === 'string' ? { url: item } : { ...item }
    // A URL with a user and password authenticates with those (Basic), not the shared key.
    if (upstream.apiKey === undefined && upstreamKey !== undefined && !hasUrlCredentials(upstream.url)) upstream.apiKey = upstreamKey
    if (upstream.slots === undefined && defaultSlots !== undefined) upstream.slots = defaultSlots
    if (upstream.slotAffinity === undefined && slotAffinity !== undefined) upstream.slotAffinity = slotAffinity
    return upstream
  })
  const toolMode = pick<ToolMode>('toolMode')
  const readTimeout = layer.readTimeout as number | undefined
  const stickyTtl = layer.stickyTtl as number | undefined
  const modelRefresh = layer.modelRefresh as number | undefined
  const healthInterval = layer.healthInterval as number | undefined
  const fileAliases = file.aliases as Record<string, string> | undefined
  const flagAliases = layer.modelAlias as Record<string, string> | undefined
  const gateway: GatewayOptions = {
    upstreams,
    models: pick<string[]>('models'),
    aliases: fileAliases === undefined && flagAliases === undefined ? undefined : { ...fileAliases, ...flagAliases },
    apiKeys: (layer.apiKey as string[] | undefined) ?? (file.apiKeys as GatewayOptions['apiKeys']),
    variants: file.variants === undefined && layer.variant === undefined ? undefined : [...((file.variants as VariantOptions[] | undefined) ?? []), ...((layer.variant as VariantOptions[] | undefined) ?? [])],
    discoverModels: pick<boolean>('modelDiscovery', 'discoverModels'),
    modelRefreshMs: modelRefresh !== undefined ? Math.round(modelRefresh * 1000) : (file.modelRefreshMs as number | undefined),
    readTimeoutMs: readTimeout !== undefined ? Math.round(readTimeout * 1000) : (file.readTimeoutMs as number | undefined),
    stickyHeader: pick<string>('stickyHeader'),
    stickyTtlMs: stickyTtl !== undefined ? Math.round(stickyTtl * 1000) : (file.stickyTtlMs as number | undefined),
    stickyMaxImbalance: file.stickyMaxImbalance as number | undefined,
    maxStickyKeys: file.maxStickyKeys as number | undefined,
    routing: pick<'sticky' | 'cache-aware'>('routing'),
    batchMaxWaitMs: pick<number>('batchMaxWaitMs'),
    maxQueued: pick<number>('maxQueued'),
    maxWaitMs: pick<number>('maxWaitMs'),
    notifyAfterMs: pick<number>('notifyAfterMs'),
    queueNotify: pick<QueueNotifyMode>('queueNotify'),
    queueMessage: pick<string>('queueMessage'),
    keepAliveMs: file.keepAliveMs as number | undefined,
    textToolCalls: pick<boolean>('textToolcalls', 'textToolCalls'),
    toolMode,
    injectTools: pick<boolean>('injectTools'),
    unknownToolPolicy: pick<UnknownToolPolicy>('unknownToolPolicy'),
    maxToolIters: pick<number>('maxToolIters'),
    releaseSlotDuringTools: pick<boolean>('releaseSlotDuringTools'),
    reasoning: pick<ReasoningMode>('reasoning'),
    forwardReasoning: pick<boolean>('forwardReasoning'),
    reasoningStartsInThink: pick<'auto' | boolean>('reasoningStartsInThink'),
    reasoningStartWindow: pick<number>('reasoningStartWindow'),
    maxBodyBytes: pick<number>('maxBodyBytes'),
    maxResponseBytes: file.maxResponseBytes as number | undefined,
    connectTimeoutMs: file.connectTimeoutMs as number | undefined,
    unhealthyCooldownMs: file.unhealthyCooldownMs as number | undefined,
    healthIntervalMs: healthInterval !== undefined ? Math.round(healthInterval * 1000) : (file.healthIntervalMs as number | undefined),
    ejectAfterFailures: file.ejectAfterFailures as number | undefined,
    logBodies: pick<boolean>('logBodies'),
    memory: memory.options,
    maxRetries: pick<number>('maxRetries'),
    ttfbTimeoutMs: milliseconds(layer.ttfbTimeout, file.ttfbTimeoutMs),
    stallTimeoutMs: milliseconds(layer.stallTimeout, file.stallTimeoutMs),
    maxDurationMs: milliseconds(layer.maxDuration, file.maxDurationMs),
    ...toolSettings(layer, file),
    // The CLI serves the dashboard unless told not to (the library's default is off).
    dashboard: pick<boolean>('dashboard') ?? true,
  }
  for (const key of Object.keys(gateway) as Array<keyof GatewayOptions>) if (gateway[key] === undefined) delete gateway[key]
  return {
    gateway,
    port: pick<number>('port') ?? 8080,
    host: pick<string>('host') ?? '127.0.0.1',
    logLevel: pick<LogLevel>('logLevel') ?? 'info',
    logFormat: pick<'text' | 'json'>('logFormat') ?? 'text',
    metrics: pick<boolean>('metrics') ?? true,
    metricsPort: pick<number>('metricsPort'),
    shutdownGraceMs: pick<number>('shutdownGraceMs') ?? 10_000,
    clients: {
      headersTimeoutMs: Math.round((pick<number>('headersTimeout') ?? 30) * 1000),
      bodyTimeoutMs: Math.round((pick<number>('bodyTimeout') ?? 120) * 1000),
      maxConnections: pick<number>('maxConnections') ?? 2048,
      clientIdleTimeoutMs: Math.round((pick<number>('clientIdleTimeout') ?? 60) * 1000),
    },
    security: {
      requireJson: pick<boolean>('requireJson') ?? true,
      allowedHosts: pick<string[]>('allowedHosts'),
      corsOrigins: pick<string[]>('corsOrigin', 'corsOrigins'),
    },
    warnings,
    memoryFile: memory.file,
    agentModules: [...((file.agents as string[] | undefined) ?? []), ...((layer.agent as string[] | undefined) ?? [])],
    redis: redisSettings(layer, file),
  }
}

/**
 * The tool servers: `--toolserver`/`TOOLSERVER_URL` and `--mcp`/`MCP_SERVERS` replace the config
 * file's lists, but a URL the file also lists keeps the file's settings for it (its bearer key,
 * headers, prefix); `--toolserver-prefix` applies to servers without their own `prefix`.
 */
function toolSettings(layer: Record<string, unknown>, file: Record<string, unknown>): Partial<GatewayOptions> {
  const sameUrl = (a: string, b: string): boolean => a.replace(/\/+$/, '') === b.replace(/\/+$/, '')
  const merge = <T extends { url: string }>(urls: string[] | undefined, fromFile: Array<T | string> | undefined): Array<T | string> | undefined => {
    if (urls === undefined) return fromFile
    return urls.map((url) => fromFile?.find((entry) => typeof entry !== 'string' && sameUrl(entry.url, url)) ?? url)
  }
  const prefix = (layer.toolserverPrefix ?? file.toolServerPrefix) as string | undefined
  const toolServers = merge(layer.toolserver as string[] | undefined, file.toolServers as Array<OpenApiServerOptions | string> | undefined)?.map((entry) => {
    const server: OpenApiServerOptions = typeof entry === 'string' ? { url: entry } : { ...entry }
    if (server.prefix === undefined && prefix !== undefined) server.prefix = prefix
    return server
  })
  const mcpServers = merge(layer.mcp as string[] | undefined, file.mcpServers as Array<McpServerOptions | string> | undefined)
  const toolTimeout = layer.toolTimeout as number | undefined
  const toolSchemaTtl = layer.toolSchemaTtl as number | undefined
  return {
    toolServers,
    mcpServers,
    toolTimeoutMs: toolTimeout !== undefined ? Math.round(toolTimeout * 1000) : (file.toolTimeoutMs as number | undefined),
    toolMaxBytes: (layer.toolMaxBytes ?? file.toolMaxBytes) as number | undefined,
    toolSchemaTtlMs: toolSchemaTtl !== undefined ? Math.round(toolSchemaTtl * 1000) : (file.toolSchemaTtlMs as number | undefined),
  }
}
