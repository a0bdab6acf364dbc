// queuegate mounted in an Express app under /llm, beside routes of your own.
// Run: npm run build && UPSTREAM=http://127.0.0.1:8080/v1 node examples/express/server.mjs
// OpenAI clients then use http://127.0.0.1:8000/llm/v1 as their base URL.
import { pathToFileURL } from 'node:url'
import express from 'express'
import { createGateway } from 'queuegate'
import { createRequestListener } from 'queuegate/server'

/** Starts the example; resolves once it listens. */
export async function start({ upstream = 'http://127.0.0.1:8080/v1', port = 8000, host = '127.0.0.1' } = {}) {
  const gateway = createGateway({ upstreams: [{ url: upstream, slots: 1 }] })
  const app = express()
  // queuegate first, under /llm (/llm/v1/*, /llm/healthz): it reads the raw body itself, with its
  // own size limit, so no body parser may run before it. A request under /llm it has no route
  // for goes on to the routes below.
  app.use('/llm', createRequestListener(gateway.fetch))
  // Your own routes, with their body parser, after it.
  app.use(express.json())
  app.get('/hello', (_request, response) => {
    response.json({ hello: 'from express' })
  })
  app.post('/notes', (request, response) => {
    response.json({ saved: request.body })
  })
  const server = await new Promise((resolve) => {
    const listening = app.listen(port, host, () => resolve(listening))
  })
  const { port: actual } = server.address()
  const url = `http://${host}:${actual}`
  return {
    url,
    /** The OpenAI base URL. */
    baseURL: `${url}/llm/v1`,
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
  console.error(`queuegate express example listening on ${running.url} (OpenAI base URL ${running.baseURL})`)
  process.once('SIGINT', () => void running.close())
}
