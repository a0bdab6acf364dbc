/**
 * Runs the `queuegate` server: parse flags, load the config, serve, log one line per
 * request to stderr, stop gracefully on SIGINT/SIGTERM.
 * @module
 */
import { readFileSync } from 'node:fs'
import { serve } from '../server/serve.js'
import { createMemoryFile } from '../server/memory-file.js'
import type { RunningServer } from '../server/serve.js'
import { createGateway } from '../gateway/create-gateway.js'
import type { Gateway } from '../gateway/create-gateway.js'
import type { GatewayEvent } from '../gateway/gateway-options.js'
import { ConfigError, LOG_LEVELS, loadConfig } from './load-config.js'
import type { CliConfig, LogLevel } from './load-config.js'
import { LOOPBACK_HOSTS } from '../gateway/allowed-hosts.js'
import { redactUrl } from '../gateway/upstream.js'
import type { GatewayOptions } from '../gateway/gateway-options.js'
import { createProgram } from './program.js'
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
    const level = LOG_LEVELS.indexOf(config.logLevel)
    const logAt = (at: LogLevel, message: string): void => {
      if (LOG_LEVELS.indexOf(at) <= level) log(`${new Date().toISOString()} ${at} ${message}`)
    }
    for (const warning of config.warnings) logAt('warn', warning)
    const agents = config.agentModules.length > 0 ? await loadAgentModules(config.agentModules, process.cwd()) : undefined
    let gateway: Gateway
    try {
      const memory = config.gateway.memory === undefined || config.memoryFile === undefined ? config.gateway.memory : { ...config.gateway.memory, storage: createMemoryFile(config.memoryFile) }
      gateway = createGateway({ ...config.gateway, ...securityOptions(config), memory, ...(agents === undefined ? {} : { agents }), onEvent: (event) => logEvent(logAt, event) })
    } catch (error) {
      await demo?.close()
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
    if (demo !== undefined) {
      const close = server.close
      server.close = async (closeOptions) => {
        await close(closeOptions)
        await demo.close()
      }
    }
    running = server
    // Passwords in upstream URLs never reach the log.
    const upstreams = config.gateway.upstreams.map((upstream) => (typeof upstream === 'string' ? redactUrl(upstream) : `${redactUrl(upstream.url)} (${upstream.slots ?? 1} slot${(upstream.slots ?? 1) === 1 ? '' : 's'})`))
    logAt('info', `queuegate listening on ${server.url} -> ${upstreams.join(', ')}`)
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
          process.exit(1)
        }
        stopping = true
        logAt('info', `${signal}: no new requests; waiting up to ${config.shutdownGraceMs} ms for running ones`)
        void server.close({ graceMs: config.shutdownGraceMs }).then(() => {
          logAt('info', 'stopped')
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

function logEvent(logAt: (level: LogLevel, message: string) => void, event: GatewayEvent): void {
  if (event.type === 'upstream-health') {
    if (event.healthy) logAt('info', `upstream=${event.upstream} back in rotation`)
    else logAt('warn', `upstream=${event.upstream} unreachable: out of rotation for ${event.cooldownMs} ms`)
    return
  }
  if (event.type === 'upstream-state') {
    if (event.state === 'healthy') logAt('info', `upstream=${event.upstream} healthy: back in rotation`)
    else logAt('warn', `upstream=${event.upstream} ${event.state}: out of rotation${event.error === undefined ? '' : `: ${event.error}`}`)
    return
  }
  if (event.type === 'upstream-error') {
    const next =
      event.retry === 'another-upstream' ? '; retried on another upstream'
      : event.retry === 'unreachable' ? '; nothing was sent: running it elsewhere'
      : event.retry === 'after-retry-after' ? `; retried after its Retry-After (${event.waitMs ?? 0} ms)`
      : ''
    logAt('warn', `job=${event.jobId} upstream=${event.upstream} upstream error: ${event.message}${next}`)
    return
  }
  if (event.type === 'upstream-models') {
    if (event.error !== undefined) logAt('warn', `upstream=${event.upstream} models could not be read (it serves any model until they can): ${event.error}`)
    else logAt('debug', `upstream=${event.upstream} models=${event.models === undefined ? '(none listed: any)' : event.models.join(',')}`)
    return
  }
  if (event.type === 'warning') {
    logAt('warn', event.message)
    return
  }
  if (event.type === 'internal-error') {
    logAt('error', `job=${event.jobId} internal error: ${event.stack ?? event.message}`)
    return
  }
  if (event.type === 'answer-hook-error') {
    logAt('warn', `job=${event.jobId} answer hook failed: ${event.message}`)
    return
  }
  const parts = [
    `job=${event.jobId}`,
    `${event.method} ${event.path}`,
    `status=${event.status}`,
    `upstream=${event.upstream ?? '-'}`,
    `model=${event.model ?? '-'}`,
    `stream=${event.stream}`,
    `wait_ms=${Math.round(event.waitMs)}`,
    `total_ms=${Math.round(event.totalMs)}`,
  ]
  if (event.key !== undefined) parts.push(`key=${event.key}`)
  if (event.error !== undefined) parts.push(`error=${JSON.stringify(event.error)}`)
  // A failure is a warning, also one that came after the answer started (status 200, an error event).
  logAt((event.status >= 500 || event.error !== undefined) && event.status !== 499 ? 'warn' : 'info', parts.join(' '))
}
