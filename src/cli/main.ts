/**
 * Runs the `queuegate` server: parse flags, load the config, serve (with `/metrics` unless
 * `--no-metrics`, on `--metrics-port` when given), log the gateway's events to stderr (text or
 * JSON, observe/event-log.ts), stop gracefully on SIGINT/SIGTERM.
 * @module
 */
import { readFileSync } from 'node:fs'
import { serve } from '../server/serve.js'
import type { RunningServer } from '../server/serve.js'
import { createGateway } from '../gateway/create-gateway.js'
import type { Gateway } from '../gateway/create-gateway.js'
import { serveMetrics } from '../server/serve-metrics.js'
import { createEventLogger } from '../observe/event-log.js'
import { ConfigError, loadConfig } from './load-config.js'
import type { LogLevel } from './load-config.js'
import { createProgram } from './program.js'

/** What {@link main} may be handed instead of the process's own. */
export interface MainOptions {
  argv: string[]
  env: Record<string, string | undefined>
  /** Where log lines go. @default stderr */
  log?: ((line: string) => void) | undefined
  /** Install SIGINT/SIGTERM handlers. @default true */
  handleSignals?: boolean | undefined
}

/** Parses the command line and starts the server; resolves with it (or undefined for --help/--version). */
export async function main(options: MainOptions): Promise<RunningServer | undefined> {
  const { argv, env, log = (line: string) => process.stderr.write(`${line}\n`), handleSignals = true } = options
  let running: RunningServer | undefined
  const program = createProgram(async (flags) => {
    const config = loadConfig({ flags, env, readFile: (path) => readFileSync(path, 'utf8') })
    // Lines go to `log` when one is given (tests), else stderr (json: pino's asynchronous destination).
    const logger = await createEventLogger({ format: config.logFormat, level: config.logLevel, destination: options.log === undefined && config.logFormat === 'json' ? undefined : log })
    const logAt = (at: Exclude<LogLevel, 'silent'>, message: string): void => logger.log(at, message)
    for (const warning of config.warnings) logAt('warn', warning)
    // prom-client loads only when metrics are on.
    const metrics = config.metrics ? (await import('../observe/gateway-metrics.js')).createGatewayMetrics() : undefined
    let gateway: Gateway
    try {
      gateway = createGateway({
        ...config.gateway,
        metrics,
        metricsPath: config.metricsPort === undefined ? '/metrics' : false,
        onEvent: (event) => logger.event(event),
      })
    } catch (error) {
      // Option validation names the setting: report it like any other bad setting.
      if (error instanceof TypeError) throw new ConfigError(error.message)
      throw error
    }
    const metricsServer = metrics !== undefined && config.metricsPort !== undefined ? await serveMetrics({ metrics, port: config.metricsPort, host: config.host }) : undefined
    const server = await serve({
      gateway,
      port: config.port,
      host: config.host,
      onError: (error) => logAt('error', `request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
    })
    running = server
    if (metricsServer !== undefined) {
      const close = server.close.bind(server)
      server.close = async (closeOptions) => {
        await Promise.all([close(closeOptions), metricsServer.close()])
      }
    }
    // Upstream URLs without their credentials (user:password@ never reaches a log).
    const upstreams = config.gateway.upstreams.map((upstream) => (typeof upstream === 'string' ? withoutCredentials(upstream) : `${withoutCredentials(upstream.url)} (${upstream.slots ?? 1} slot${(upstream.slots ?? 1) === 1 ? '' : 's'})`))
    logAt('info', `queuegate listening on ${server.url} -> ${upstreams.join(', ')}`)
    if (metrics !== undefined) logAt('info', `metrics on ${metricsServer === undefined ? server.url : metricsServer.url}/metrics`)
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

/** A URL as it may be logged: without `user:password@`. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.username === '' && parsed.password === '') return url
    parsed.username = ''
    parsed.password = ''
    return parsed.toString()
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//')
  }
}
