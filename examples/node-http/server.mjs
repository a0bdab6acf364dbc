// queuegate inside a plain node:http server.
// Run: npm run build && UPSTREAM=http://127.0.0.1:8080/v1 node examples/node-http/server.mjs
import http from 'node:http'
import { pathToFileURL } from 'node:url'
import { createGateway } from 'queuegate'
import { createRequestListener } from 'queuegate/server'

/** Starts the example; resolves once it listens. */
export async function start({ upstream = 'http://127.0.0.1:8080/v1', port = 8000, host = '127.0.0.1' } = {}) {
  const gateway = createGateway({
    upstreams: [{ url: upstream, slots: 1 }],
    onEvent: (event) => {
      if (event.type === 'request-end') console.error(`${event.path} ${event.status} waited ${event.waitMs} ms`)
    },
  })
  const server = http.createServer(createRequestListener(gateway.fetch))
  await new Promise((resolve) => server.listen(port, host, resolve))
  const { port: actual } = server.address()
  const url = `http://${host}:${actual}`
  return {
    url,
    /** The OpenAI base URL. */
    baseURL: `${url}/v1`,
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
  console.error(`queuegate example listening on ${running.url}`)
  process.once('SIGINT', () => void running.close())
}
