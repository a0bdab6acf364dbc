/**
 * The thinnest Node proxy: node:http request piped to node:http response, both ways, with a
 * keep-alive Agent. The benchmark's floor for any Node gateway.
 * @module
 */
import http from 'node:http'

/** A server that forwards every request to `upstreamUrl` (its origin) as is and pipes the answer back. */
export function createPipeProxy(upstreamUrl: string): http.Server {
  const target = new URL(upstreamUrl)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 })
  return http.createServer((incoming, outgoing) => {
    const request = http.request(
      { hostname: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers, agent },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers)
        response.pipe(outgoing)
      },
    )
    request.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502)
      outgoing.end()
    })
    // A client that hangs up aborts the upstream request too.
    outgoing.on('close', () => {
      if (!outgoing.writableFinished) request.destroy()
    })
    incoming.pipe(request)
  })
}
