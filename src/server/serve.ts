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
  const { port = 8080, host = '127.0.0.1', onError } = options
  const gateway = 'fetch' in options.gateway ? options.gateway : createGateway(options.gateway)
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, createRequestListener(gateway.fetch, { onError }))
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
