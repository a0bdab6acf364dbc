/**
 * `serveMetrics()`: a gateway's metrics on a node:http listener of their own (the CLI's
 * `--metrics-port`): `GET /metrics` and nothing else, without gateway keys, so that Prometheus
 * scrapes a port the clients do not reach.
 * @module
 */
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { GatewayMetricsSink } from '../gateway/gateway-events.js'

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions {
  metrics: Pick<GatewayMetricsSink, 'render' | 'contentType'>
  port: number
  /** @default '127.0.0.1' */
  host?: string | undefined
}

/** A listening metrics server. */
export interface MetricsServer {
  /** `http://host:port` (scrape `${url}/metrics`). */
  url: string
  server: Server
  close(): Promise<void>
}

/** Starts the metrics listener. */
export async function serveMetrics(options: ServeMetricsOptions): Promise<MetricsServer> {
  const { metrics, port, host = '127.0.0.1' } = options
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: the metrics are on GET /metrics.\n')
      return
    }
    metrics.render().then(
      (text) => response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${shownHost}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
