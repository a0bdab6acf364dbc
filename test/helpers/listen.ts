/**
 * `listen()`: start a node:http server on 127.0.0.1 on a free port, and close it with its sockets.
 * @module
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** A server listening on loopback. */
export interface Listening {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string
  port: number
  server: http.Server
  /** Stops accepting, destroys every open socket (keep-alive ones too) and resolves once closed. */
  close(): Promise<void>
}

/**
 * Listens on `127.0.0.1:0` with either a ready `http.Server` or a request listener (a
 * `createRequestListener(gateway.fetch)` result, an Express app).
 * @example const gateway = await listen(createRequestListener(gateway.fetch)) // afterEach: await gateway.close()
 */
export async function listen(serverOrListener: http.Server | http.RequestListener): Promise<Listening> {
  const server = serverOrListener instanceof http.Server ? serverOrListener : http.createServer(serverOrListener)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closed
    },
  }
}
