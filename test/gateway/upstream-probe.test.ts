/**
 * The default health probe against real node:http servers: llama.cpp's `/health` (200, 503 while
 * loading), servers without it (404: `/v1/models` instead, and remembered), and unreachable ones.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Agent } from 'undici'
import { createUpstreamProbe } from '../../src/gateway/upstream-probe.js'
import { createUpstream } from '../../src/gateway/upstream.js'
import type { Upstream } from '../../src/gateway/upstream.js'

interface Server {
  url: string
  paths: string[]
  close(): Promise<void>
}

async function serve(answer: (path: string) => { status: number; body?: string } | 'hang'): Promise<Server> {
  const paths: string[] = []
  const server = http.createServer((incoming, outgoing) => {
    const path = incoming.url ?? '/'
    paths.push(path)
    const reply = answer(path)
    if (reply === 'hang') return
    outgoing.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body ?? '{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

describe('createUpstreamProbe', () => {
  const opened: Array<{ close(): Promise<void> }> = []
  const upstreams: Upstream[] = []

  afterEach(async () => {
    await Promise.all(upstreams.map((upstream) => upstream.dispatcher.close()))
    await Promise.all(opened.map((item) => item.close()))
    upstreams.length = 0
    opened.length = 0
  })

  const upstreamAt = (url: string, apiRoot = '/v1'): Upstream => {
    const upstream = createUpstream(
      { url: `${url}${apiRoot}` },
      { readTimeoutMs: 5000, connectTimeoutMs: 1000, dispatcherFactory: (_origin, options) => new Agent({ ...options, keepAliveTimeout: 10 }) },
    )
    upstreams.push(upstream)
    return upstream
  }

  const never = (): AbortSignal => new AbortController().signal

  it('llama.cpp: GET /health at the origin (not below the API root); 200 is healthy, 503 is loading', async () => {
    let status = 503
    const server = await serve((path) => (path === '/health' ? { status, body: '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}' } : { status: 500 }))
    opened.push(server)
    const probe = createUpstreamProbe({ timeoutMs: 2000 })
    const upstream = upstreamAt(server.url, '/api/v1')
    expect(await probe(upstream, never())).toEqual({ state: 'loading', error: expect.stringContaining('/health answered 503: {"error":{"code":503,"message":"Loading model"') })
    status = 200
    expect(await probe(upstream, never())).toEqual({ state: 'healthy' })
    expect(server.paths).toEqual(['/health', '/health'])
  })

  it('a server without /health (404) is asked GET {apiRoot}/models, from then on only that', async () => {
    let modelsStatus = 200
    const server = await serve((path) => (path === '/v1/models' ? { status: modelsStatus, body: '{"data":[]}' } : { status: 404 }))
    opened.push(server)
    const probe = createUpstreamProbe({ timeoutMs: 2000 })
    const upstream = upstreamAt(server.url)
    expect(await probe(upstream, never())).toEqual({ state: 'healthy' })
    modelsStatus = 500
    expect(await probe(upstream, never())).toEqual({ state: 'down', error: '/v1/models answered 500: {"data":[]}' })
    expect(server.paths).toEqual(['/health', '/v1/models', '/v1/models'])
  })

  it('another status on /health is down, with the status in the error', async () => {
    const server = await serve(() => ({ status: 500, body: 'oops' }))
    opened.push(server)
    expect(await createUpstreamProbe({ timeoutMs: 2000 })(upstreamAt(server.url), never())).toEqual({ state: 'down', error: '/health answered 500: oops' })
  })

  it('an unreachable upstream is down with the connect error; an aborted probe is down with the abort reason', async () => {
    const closed = await serve(() => ({ status: 200 }))
    await closed.close()
    const probe = createUpstreamProbe({ timeoutMs: 2000 })
    const refused = await probe(upstreamAt(closed.url), never())
    expect(refused).toEqual({ state: 'down', error: expect.stringMatching(/could not be reached.*ECONNREFUSED/) })

    const hanging = await serve(() => 'hang')
    opened.push(hanging)
    const controller = new AbortController()
    const pending = probe(upstreamAt(hanging.url), controller.signal)
    setTimeout(() => controller.abort(new Error('probe deadline')), 20)
    expect(await pending).toEqual({ state: 'down', error: expect.stringMatching(/probe deadline|aborted/) })
  })
})
