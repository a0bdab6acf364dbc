/**
 * Runs the `queuegate` server: parse flags, load the config, serve (with `/metrics` unless
 * `--no-metrics`, on `--metrics-port` when given), log the gateway's events to stderr (text or
 * JSON, observe/event-log.ts), stop gracefully on SIGINT/SIGTERM.
 * @module
 */
import { readFileSync } from 'node:fs'
import { serve } from '../server/serve.js'
import { createMemoryFile } from '../server/memory-file.js'
import type { RunningServer } from '../server/serve.js'
import { createGateway } from '../gateway/create-gateway.js'
import type { Gateway } from '../gateway/create-gateway.js'
import { serveMetrics } from '../server/serve-metrics.js'
import { createEventLogger } from '../observe/event-log.js'
import { ConfigError, loadConfig } from './load-config.js'
import type { CliConfig, LogLevel } from './load-config.js'
import { LOOPBACK_HOSTS } from '../gateway/allowed-hosts.js'
import { redactUrl } from '../gateway/upstream.js'
import type { GatewayOptions } from '../gateway/gateway-options.js'
import { createProgram } from './program.js'
import type { RedisSchedulerState } from '../scale/redis-scheduler-state.js'
import { loadAgentModules } from './load-agents.js'

/** What {@link main} may be handed instead of the process's own. */
export interface MainOptions {
  argv: string[]
  env: Record<string, string | undefined>
  /** Where log lines go. @default stderr */
  log?: ((line: string) => void) | undefined
  /** Install SIGINT/SIGTERM handlers. @default true */
  handleSignals?: boolean | undefined
  /** Where `--demo` prints its instructions. @default stdout */
  print?: ((line: string) => void) | undefined
}

/** Parses the command line and starts the server; resolves with it (or undefined for --help/--version). */
export async function main(options: MainOptions): Promise<RunningServer | undefined> {
  const { argv, env, log = (line: string) => process.stderr.write(`${line}\n`), handleSignals = true, print = (line: string) => process.stdout.write(`${line}\n`) } = options
  let running: RunningServer | undefined
  const program = createProgram(async (flags) => {
    // --demo: simulated llama.cpp servers on loopback take the upstreams' place (loaded only then).
    const demo = flags.demo === true ? await (await import('../demo/start-demo.js')).startDemo() : undefined
    let config: ReturnType<typeof loadConfig>
    try {
      config = loadConfig({ flags, env, readFile: (path) => readFileSync(path, 'utf8'), upstreams: demo?.upstreams })
    } catch (error) {
      await demo?.close()
      throw error
    }
    // Lines go to `log` when one is given (tests), else stderr (in 4 KiB blocks unless it is a terminal: observe/line-file.ts).
    const logger = await createEventLogger({ format: config.logFormat, level: config.logLevel, destination: options.log === undefined ? undefined : log })
    const logAt = (at: Exclude<LogLevel, 'silent'>, message: string): void => logger.log(at, message)
    for (const warning of config.warnings) logAt('warn', warning)
    const agents = config.agentModules.length > 0 ? await loadAgentModules(config.agentModules, process.cwd()) : undefined
    // prom-client loads only when metrics are on.
    const metrics = config.metrics ? (await import('../observe/gateway-metrics.js')).createGatewayMetrics() : undefined
    // --redis (issue 14): ioredis and the shared state load only then.
    const shared = config.redis === undefined ? undefined : await startSharedState(config, logAt)
    let gateway: Gateway
    try {
      const memory = config.gateway.memory === undefined || config.memoryFile === undefined ? config.gateway.memory : { ...config.gateway.memory, storage: createMemoryFile(config.memoryFile) }
      gateway = createGateway({
        ...config.gateway,
        ...securityOptions(config),
        memory,
        ...(agents === undefined ? {} : { agents }),
        metrics,
        metricsPath: config.metricsPort === undefined ? '/metrics' : false,
        ...(shared === undefined ? {} : { schedulerState: shared }),
        onEvent: (event) => logger.event(event),
      })
    } catch (error) {
      await Promise.all([demo?.close(), shared?.close()])
      // Option validation names the setting: report it like any other bad setting.
      if (error instanceof TypeError) throw new ConfigError(error.message)
      throw error
    }
    if (gateway.tools !== undefined) {
      // A tool name offered by two servers is a start-up error (a server that is down is only a warning).
      try {
        await gateway.tools.ready()
      } catch (error) {
        await Promise.all([gateway.close({ graceMs: 0 }), demo?.close()])
        throw new ConfigError(error instanceof Error ? error.message : String(error))
      }
    }
    let server: RunningServer
    try {
      server = await serve({
        gateway,
        port: config.port,
        host: config.host,
        ...config.clients,
        onError: (error) => logAt('error', `request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
      })
    } catch (error) {
      await Promise.all([gateway.close({ graceMs: 0 }), demo?.close()])
      throw error
    }
    const metricsServer = metrics !== undefined && config.metricsPort !== undefined ? await serveMetrics({ metrics, port: config.metricsPort, host: config.host }) : undefined
    if (shared !== undefined) {
      const close = server.close
      // The shared state closes after the running jobs ended (their releases go out first).
      server.close = async (closeOptions) => {
        await close(closeOptions)
        await shared.close()
      }
    }
    if (demo !== undefined) {
      const close = server.close
      server.close = async (closeOptions) => {
        await close(closeOptions)
        await demo.close()
      }
    }
    running = server
    if (metricsServer !== undefined) {
      const close = server.close.bind(server)
      server.close = async (closeOptions) => {
        await Promise.all([close(closeOptions), metricsServer.close()])
      }
    }
    // Passwords in upstream URLs never reach the log.
    const upstreams = config.gateway.upstreams.map((upstream) => (typeof upstream === 'string' ? redactUrl(upstream) : `${redactUrl(upstream.url)} (${upstream.slots ?? 1} slot${(upstream.slots ?? 1) === 1 ? '' : 's'})`))
    logAt('info', `queuegate listening on ${server.url} -> ${upstreams.join(', ')}`)
    if (metrics !== undefined) logAt('info', `metrics on ${metricsServer === undefined ? server.url : metricsServer.url}/metrics`)
    const memoryStore = config.gateway.memory?.store
    if (typeof memoryStore === 'string') logAt('info', `chat memory: ${memoryStore}${config.memoryFile === undefined ? '' : ` (log ${config.memoryFile})`}${config.gateway.memory?.embeddings === undefined ? '' : `, embeddings ${config.gateway.memory.embeddings}`}`)
    if (gateway.tools !== undefined) logAt('info', `tools: ${gateway.tools.definitions().map((tool) => tool.function.name).join(', ') || '(none listed yet)'}`)
    if (agents !== undefined) logAt('info', `agents served as models: ${Object.keys(agents).join(', ')}`)
    if (config.gateway.dashboard === true) logAt('info', `dashboard on ${server.url}/`)
    if (demo !== undefined) for (const line of demoInstructions(server.url, config.gateway.apiKeys !== undefined && config.gateway.apiKeys.length > 0)) print(line)
    if (handleSignals) {
      let stopping = false
      const stop = (signal: string): void => {
        if (stopping) {
          logAt('warn', `${signal} again: exiting now`)
          logger.flush()
          process.exit(1)
        }
        stopping = true
        logAt('info', `${signal}: no new requests; waiting up to ${config.shutdownGraceMs} ms for running ones`)
        void server.close({ graceMs: config.shutdownGraceMs }).then(() => {
          logAt('info', 'stopped')
          logger.flush()
          process.exit(0)
        })
      }
      process.once('SIGINT', () => stop('SIGINT'))
      process.once('SIGTERM', () => stop('SIGTERM'))
    }
  })
  program.exitOverride()
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof ConfigError) throw error
    const code = (error as { code?: string }).code
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return undefined
    throw error
  }
  return running
}

/** Connects the Redis scheduler state (`--redis`); its mode changes go to the log. */
async function startSharedState(config: CliConfig, logAt: (at: Exclude<LogLevel, 'silent'>, message: string) => void): Promise<RedisSchedulerState> {
  const settings = config.redis as NonNullable<CliConfig['redis']>
  const { createRedisSchedulerState } = await import('../scale/redis-scheduler-state.js')
  let state: RedisSchedulerState
  try {
    state = await createRedisSchedulerState({
      url: settings.url,
      keyPrefix: settings.keyPrefix,
      leaseTtlMs: settings.leaseTtlMs,
      batchMaxWaitMs: config.gateway.batchMaxWaitMs,
      stickyTtlMs: config.gateway.stickyTtlMs,
      maxStickyKeys: config.gateway.maxStickyKeys,
      onEvent: (event) => logAt(event.mode === 'local' ? 'warn' : 'info', `shared state: ${event.message}`),
    })
  } catch (error) {
    if (error instanceof TypeError) throw new ConfigError(error.message)
    throw error
  }
  const status = state.status()
  logAt('info', `shared state: Redis ${status.store} (replica ${status.replica}, lease ${settings.leaseTtlMs} ms, ${status.mode})`)
  return state
}

/**
 * The checks against web pages, on by default for the command line: JSON bodies only, and the
 * Host header checked when listening on loopback (or whenever --allowed-hosts is given).
 */
function securityOptions(config: CliConfig): Pick<GatewayOptions, 'requireJsonContentType' | 'allowedHosts' | 'corsOrigins'> {
  const { requireJson, allowedHosts, corsOrigins } = config.security
  const loopback = /^(?:localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i.test(config.host)
  const checkHosts = allowedHosts !== undefined || loopback
  return {
    requireJsonContentType: requireJson,
    allowedHosts: checkHosts ? [...LOOPBACK_HOSTS, ...(loopback && !LOOPBACK_HOSTS.includes(config.host) ? [config.host] : []), ...(allowedHosts ?? [])] : undefined,
    corsOrigins,
  }
}

/** What `--demo` prints: where to look and a request to try. */
function demoInstructions(url: string, keys: boolean): string[] {
  const body = JSON.stringify({ model: 'sim-llama-8b', stream: true, messages: [{ role: 'user', content: 'What does queuegate do?' }] })
  return [
    '',
    'queuegate demo: two simulated llama.cpp servers on loopback (sim-gpu-a, sim-gpu-b; 2 slots each; no GPU needed)',
    `  dashboard   ${url}/`,
    `  try         curl -N ${url}/v1/chat/completions -H 'content-type: application/json'${keys ? " -H 'authorization: Bearer YOUR_KEY'" : ''} -d '${body}'`,
    '  models      sim-llama-8b (both servers), sim-qwen-14b (sim-gpu-b only, writes some tool calls as text)',
    '  stop        Ctrl-C',
    '',
  ]
}
