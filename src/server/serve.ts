/**
 * `serve()`: a gateway on a node:http server, with a graceful stop.
 * @module
 */
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createGateway } from '../gateway/create-gateway.js'
import type { Gateway } from '../gateway/create-gateway.js'
import type { GatewayOptions } from '../gateway/gateway-options.js'
import { answerClientError } from './client-error.js'
import { createRequestListener } from './request-listener.js'

/** Options of {@link serve}. */
export interface ServeOptions {
  /** A gateway, or the options to create one. */
  gateway: Gateway | GatewayOptions
  /** @default 8080 */
  port?: number | undefined
  /** @default '127.0.0.1' */
  host?: string | undefined
  /** Errors the bridge could not answer (logged by the CLI). */
  onError?: ((error: unknown) => void) | undefined
  /** A client must send its request headers within this (408 after), in ms. @default 30 000 */
  headersTimeoutMs?: number | undefined
  /**
   * A client must send its whole request, headers and body, within this (408 after), in ms;
   * the time the answer takes does not count. 0: no limit. @default 120 000
   */
  bodyTimeoutMs?: number | undefined
  /** Open connections at most; more are closed as they arrive. 0: no limit. @default 2048 */
  maxConnections?: number | undefined
  /** See {@link RequestListenerOptions.clientIdleTimeoutMs}. @default 60 000 */
  clientIdleTimeoutMs?: number | undefined
}

/** A listening server. */
export interface RunningServer {
  /** `http://host:port`. */
  url: string
  server: Server
  gateway: Gateway
  /**
   * Stops accepting connections, answers waiting jobs 503, lets running ones finish for
   * `graceMs` (default 10 s), then aborts them and closes every connection.
   */
  close: (options?: { graceMs?: number | undefined }) => Promise<void>
}

/** Starts a gateway on node:http. */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { port = 8080, host = '127.0.0.1', onError, headersTimeoutMs = 30_000, bodyTimeoutMs = 120_000, maxConnections = 2048, clientIdleTimeoutMs } = options
  for (const [name, value] of Object.entries({ headersTimeoutMs, bodyTimeoutMs, maxConnections })) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < (name === 'headersTimeoutMs' ? 1 : 0)) throw new TypeError(`serve: ${name} must be a whole number >= ${name === 'headersTimeoutMs' ? 1 : 0}; got ${JSON.stringify(value)}.`)
  }
  const gateway = 'fetch' in options.gateway ? options.gateway : createGateway(options.gateway)
  const server = createServer(
    {
      keepAliveTimeout: 65_000,
      // Node counts the request timeout from the request's start, so it also covers the headers; it must not be shorter.
      headersTimeout: bodyTimeoutMs === 0 ? headersTimeoutMs : Math.min(headersTimeoutMs, bodyTimeoutMs),
      requestTimeout: bodyTimeoutMs,
      // How often node looks for requests past their timeouts: a quarter of the shorter one (7.5 s by default), 30 s at most.
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(Math.min(headersTimeoutMs, bodyTimeoutMs || headersTimeoutMs) / 4))),
    },
    createRequestListener(gateway.fetch, { onError, clientIdleTimeoutMs }),
  )
  if (maxConnections > 0) server.maxConnections = maxConnections
  // Node's own 400/408/431 answers, with an OpenAI error body.
  server.on('clientError', answerClientError)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${shownHost}:${address.port}`,
    server,
    gateway,
    close(closeOptions = {}) {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeIdleConnections()
        await gateway.close({ graceMs: closeOptions.graceMs })
        server.closeAllConnections()
        await stopped
      })()
      return closing
    },
  }
}
