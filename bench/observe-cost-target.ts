/**
 * The gateway process that `bench/observe-cost.ts` runs under callgrind: queuegate from dist/ in
 * front of one upstream, with metrics and logs off, or on as the CLI runs them. Plain Node (its
 * own type stripping, no tsx: nothing but the gateway runs in the measured process).
 *
 * Args: `<upstream base URL> <off|events|metrics|json|text> <slots>`. `events`: a listener
 * that does nothing (the gateway's own work for events); `metrics`: metrics, no logs. Prints the gateway's URL as its one line
 * on stdout. `json`: prom-client metrics (process metrics included) and pino JSON lines at info,
 * written as the CLI writes them (asynchronous, 4 KiB blocks) to /dev/null. `text`: the same
 * metrics and the text lines, written as the CLI writes them to a stderr that is not a terminal
 * (in 4 KiB blocks; run it with stderr on /dev/null).
 * @module
 */
import http from 'node:http'
import { pathToFileURL } from 'node:url'

const [upstreamUrl, mode = 'off', slots = '256'] = process.argv.slice(2)
if (upstreamUrl === undefined || !['off', 'events', 'metrics', 'json', 'text'].includes(mode)) throw new Error('usage: observe-cost-target.ts <upstream URL> <off|events|metrics|json|text> [slots]')

// `QUEUEGATE_COST_DIST`: another build's dist/ (observe-cost.ts's `before` mode); else this checkout's.
const costDist = process.env['QUEUEGATE_COST_DIST']
const dist = costDist === undefined ? new URL('../dist/', import.meta.url) : pathToFileURL(`${costDist.replace(/\/$/, '')}/`)
const { createGateway } = await import(new URL('index.js', dist).href)
const { createRequestListener } = await import(new URL('server/index.js', dist).href)
let observed: Record<string, unknown> = {}
if (mode === 'events') {
  // The gateway's events alone, to a listener that does nothing.
  observed = { onEvent: () => {} }
} else if (mode === 'metrics') {
  const { createGatewayMetrics } = await import(new URL('observe/index.js', dist).href)
  observed = { metrics: createGatewayMetrics() }
} else if (mode !== 'off') {
  const { createGatewayMetrics, createEventLogger } = await import(new URL('observe/index.js', dist).href)
  const logger =
    mode === 'json'
      ? await createEventLogger({ format: 'json', level: 'info', destination: '/dev/null' })
      : await createEventLogger({ format: 'text', level: 'info' })
  observed = { metrics: createGatewayMetrics(), onEvent: (event: unknown) => logger.event(event) }
}
const gateway = createGateway({ upstreams: [{ url: `${upstreamUrl}/v1`, slots: Number(slots) }], ...observed })
const server = http.createServer(createRequestListener(gateway.fetch))
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number }
  process.stdout.write(`http://127.0.0.1:${address.port}\n`)
})
process.once('SIGTERM', () => {
  server.closeAllConnections()
  server.close()
  void gateway.close({ graceMs: 0 }).then(() => process.exit(0))
})
