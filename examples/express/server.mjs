// queuegate mounted in an Express app, beside routes of your own.
// Run: npm run build && UPSTREAM=http://127.0.0.1:8080/v1 node examples/express/server.mjs
import { pathToFileURL } from 'node:url'
import express from 'express'
import { createGateway } from 'queuegate'
import { createRequestListener } from 'queuegate/server'

/** Starts the example; resolves once it listens. */
export async function start({ upstream = 'http://127.0.0.1:8080/v1', port = 8000, host = '127.0.0.1' } = {}) {
  const gateway = createGateway({ upstreams: [{ url: upstream, slots: 1 }] })
  const app = express()
  app.get('/hello', (_request, response) => {
    response.json({ hello: 'from express' })
  })
  // Everything else (/v1/*, /healthz) goes to queuegate. Do not put express.json() before it:
  // the gateway reads the raw body itself (with its own size limit).
  app.use(createRequestListener(gateway.fetch))
  const server = await new Promise((resolve) => {
    const listening = app.listen(port, host, () => resolve(listening))
  })
  const { port: actual } = server.address()
  return {
    url: `http://${host}:${actual}`,
    async close() {
      await gateway.close({ graceMs: 1000 })
      await new Promise((resolve) => {
        server.close(resolve)
        server.closeAllConnections()
      })
    },
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const running = await start({ upstream: process.env.UPSTREAM, port: Number(process.env.PORT ?? 8000) })
  console.error(`queuegate express example listening on ${running.url}`)
  process.once('SIGINT', () => void running.close())
}
