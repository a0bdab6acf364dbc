/**
 * A gateway that cannot be turned against its host (issue 12), over real sockets on 127.0.0.1:
 * POSTs that are not JSON (how a web page reaches a localhost service without CORS) get 415, a
 * foreign `Host` (DNS rebinding) 403, CORS headers only for configured origins, an upstream URL's
 * password is used as Basic auth and shown nowhere, and with gateway keys only `/healthz` and
 * `/readyz` are open, without upstream URLs. Each check is an option; the CLI turns the first
 * two on, and library callers that post `text/plain` bodies keep working without them.
 */
import http from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createGateway } from 'queuegate'
import type { GatewayEvent } from 'queuegate'
import type { RunningServer } from 'queuegate/server'
import { main } from '../../src/cli/main.js'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { hello, startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

let upstreams: FakeUpstream[] = []
let gateway: TestGateway | undefined
let cli: RunningServer | undefined
const gateways: Array<{ close: (options?: { graceMs?: number }) => Promise<void> }> = []

afterEach(async () => {
  await gateway?.close()
  await cli?.close({ graceMs: 0 })
  for (const other of gateways.splice(0)) await other.close({ graceMs: 0 })
  await Promise.all(upstreams.map((upstream) => upstream.close()))
  gateway = undefined
  cli = undefined
  upstreams = []
})

async function upstream(options: Parameters<typeof startFakeUpstream>[0] = { tokens: 2 }): Promise<FakeUpstream> {
  const started = await startFakeUpstream(options)
  upstreams.push(started)
  return started
}

/** A raw request, so that `Host` (and anything else) can be whatever the test says. */
function raw(url: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url)
    const request = http.request({ host: target.hostname, port: target.port, path: options.path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (part: string) => (body += part))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
    })
    request.on('error', reject)
    request.end(options.body)
  })
}

const chatBody = JSON.stringify(hello)

describe('415 for request bodies that are not JSON', () => {
  it('with requireJsonContentType, a text/plain, form or untyped POST is refused before anything is queued; JSON types pass', async () => {
    const fake = await upstream()
    gateway = await startQueuegate({ upstreams: [fake.url], requireJsonContentType: true })
    for (const contentType of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType }
      const refused = await raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers, body: chatBody })
      expect(refused.status, String(contentType)).toBe(415)
      expect(JSON.parse(refused.body)).toEqual({ error: { message: expect.stringContaining('application/json'), type: 'invalid_request_error', param: null, code: 'unsupported_media_type' } })
    }
    expect(fake.requests).toHaveLength(0)
    for (const contentType of ['application/json', 'Application/JSON; charset=utf-8', 'application/vnd.api+json']) {
      const accepted = await raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': contentType }, body: chatBody })
      expect(accepted.status, contentType).toBe(200)
    }
    const completion = await gateway.client.chat.completions.create(hello)
    expect(completion.choices[0]?.message.content).toBe('tok0 tok1')
  })

  it('by default (the library), gateway.fetch(new Request(url, { method: "POST", body })) with its text/plain type works', async () => {
    const fake = await upstream()
    const direct = createGateway({ upstreams: [fake.url], discoverModels: false, healthIntervalMs: 0 })
    gateways.push(direct)
    const request = new Request('http://gateway/v1/chat/completions', { method: 'POST', body: chatBody })
    expect(request.headers.get('content-type')).toBe('text/plain;charset=UTF-8')
    const response = await direct.fetch(request)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ choices: [{ message: { content: 'tok0 tok1' } }] })
    // And over the node bridge with default options.
    gateway = await startQueuegate({ upstreams: [fake.url] })
    const overSocket = await raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'text/plain' }, body: chatBody })
    expect(overSocket.status).toBe(200)
  })
})

describe('Host check against DNS rebinding', () => {
  it('with allowedHosts, a request naming another host is 403 (whatever the path); the listed names pass, any port', async () => {
    const fake = await upstream()
    gateway = await startQueuegate({ upstreams: [fake.url], allowedHosts: ['localhost', '127.0.0.1', '[::1]', 'gpu-box.lan', '.example.org'] })
    const port = new URL(gateway.url).port
    for (const host of ['evil.example', `evil.example:${port}`, 'localhost.evil.example', 'example.org.evil.example', `127.0.0.2:${port}`]) {
      for (const path of ['/healthz', '/v1/models']) {
        const refused = await raw(gateway.url, { path, headers: { host } })
        expect(refused.status, `${host} ${path}`).toBe(403)
        expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'host_not_allowed', type: 'invalid_request_error' } })
      }
    }
    const post = await raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers: { host: 'attacker.test', 'content-type': 'application/json' }, body: chatBody })
    expect(post.status).toBe(403)
    expect(fake.requests).toHaveLength(0)
    for (const host of [`localhost:${port}`, 'LOCALHOST', `127.0.0.1:${port}`, `[::1]:${port}`, 'gpu-box.lan:8080', 'example.org', 'api.example.org']) {
      expect((await raw(gateway.url, { path: '/healthz', headers: { host } })).status, host).toBe(200)
    }
    // The official client sends Host 127.0.0.1:port.
    expect((await gateway.client.chat.completions.create(hello)).choices[0]?.message.content).toBe('tok0 tok1')
  })

  it('without allowedHosts (the library default), any Host is served', async () => {
    const fake = await upstream()
    gateway = await startQueuegate({ upstreams: [fake.url] })
    expect((await raw(gateway.url, { path: '/healthz', headers: { host: 'anything.example' } })).status).toBe(200)
  })

  it('rejects allowedHosts entries that are not host names', () => {
    expect(() => createGateway({ upstreams: ['http://127.0.0.1:1'], allowedHosts: ['http://localhost'] })).toThrow(/allowedHosts/)
    expect(() => createGateway({ upstreams: ['http://127.0.0.1:1'], allowedHosts: [''] })).toThrow(/allowedHosts/)
  })
})

describe('CORS only where configured', () => {
  it('without corsOrigins no response carries CORS headers, and a preflight is not answered as one', async () => {
    const fake = await upstream()
    gateway = await startQueuegate({ upstreams: [fake.url] })
    const preflight = await raw(gateway.url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' } })
    expect(preflight.status).toBe(405)
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined()
    const post = await raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers: { origin: 'http://app.example', 'content-type': 'application/json' }, body: chatBody })
    expect(post.status).toBe(200)
    expect(post.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('with corsOrigins, a listed origin gets its preflight (204) and the headers on answers; another origin gets neither', async () => {
    const fake = await upstream()
    gateway = await startQueuegate({ upstreams: [fake.url], corsOrigins: ['http://app.example'], apiKeys: ['browser-key-0001'], requireJsonContentType: true })
    const preflight = await raw(gateway.url, {
      method: 'OPTIONS',
      path: '/v1/chat/completions',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': 'http://app.example',
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type',
      vary: expect.stringContaining('Origin'),
    })
    const post = await raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers: { origin: 'http://app.example', 'content-type': 'application/json', authorization: 'Bearer browser-key-0001' }, body: chatBody })
    expect(post.status).toBe(200)
    expect(post.headers['access-control-allow-origin']).toBe('http://app.example')
    expect(post.headers['access-control-expose-headers']).toContain('x-queuegate-job-id')
    // Errors carry them too, so that the page can read why.
    const denied = await raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers: { origin: 'http://app.example', 'content-type': 'application/json' }, body: chatBody })
    expect(denied.status).toBe(401)
    expect(denied.headers['access-control-allow-origin']).toBe('http://app.example')

    const otherPreflight = await raw(gateway.url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } })
    expect(otherPreflight.status).toBe(403)
    expect(otherPreflight.headers['access-control-allow-origin']).toBeUndefined()
    const otherPost = await raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers: { origin: 'http://evil.example', 'content-type': 'application/json', authorization: 'Bearer browser-key-0001' }, body: chatBody })
    expect(otherPost.headers['access-control-allow-origin']).toBeUndefined()
  })

  it("corsOrigins ['*'] answers any origin", async () => {
    const fake = await upstream()
    gateway = await startQueuegate({ upstreams: [fake.url], corsOrigins: ['*'] })
    const preflight = await raw(gateway.url, { method: 'OPTIONS', path: '/v1/models', headers: { origin: 'http://anywhere.example', 'access-control-request-method': 'GET' } })
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe('http://anywhere.example')
  })
})

describe('a password in an upstream URL', () => {
  it('is sent as Basic auth and appears in no log line, /healthz answer, error or event', async () => {
    const fake = await upstream()
    const lines: string[] = []
    const events: GatewayEvent[] = []
    const withPassword = fake.url.replace('http://', 'http://alice:s3cr%40t-pw@')
    // A second upstream with a password that cannot be reached: its errors must not show it either.
    const down = 'http://bob:hunter2-pw@127.0.0.1:1/v1'
    cli = (await main({
      argv: ['node', 'queuegate', '--port', '0', '--log-level', 'debug', '--upstreams', `${withPassword}/v1,${down}`, '--health-interval', '0'],
      env: {},
      log: (line) => lines.push(line),
      handleSignals: false,
    })) as RunningServer
    const completion = await fetch(`${cli.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-chat-id': 'a' }, body: chatBody })
    expect(completion.status).toBe(200)
    const chat = fake.requests.find((request) => request.path === '/v1/chat/completions')
    expect(chat?.headers.authorization).toBe(`Basic ${Buffer.from('alice:s3cr@t-pw').toString('base64')}`)
    // Requests until one went to the unreachable upstream (sticky keys spread them), each answered somehow.
    for (let index = 0; index < 6; index++) {
      const answer = await fetch(`${cli.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-chat-id': `c${index}` }, body: chatBody })
      await answer.text()
    }
    const health = await (await fetch(`${cli.url}/healthz`)).text()
    // A gateway on the unreachable one alone: its 502 and its events name the upstream, not the password.
    const direct = createGateway({ upstreams: [down], discoverModels: false, healthIntervalMs: 0, onEvent: (event) => events.push(event) })
    gateways.push(direct)
    const error = await direct.fetch(new Request('http://gateway/v1/chat/completions', { method: 'POST', body: chatBody }))
    expect(error.status).toBe(502)
    const errorText = await error.text()
    expect(errorText).toContain('127.0.0.1:1')
    const everything = [lines.join('\n'), health, JSON.stringify(events), errorText].join('\n')
    expect(lines.join('\n')).toContain('alice:***@')
    expect(JSON.stringify(events)).toContain('127.0.0.1:1')
    for (const secret of ['s3cr', 'hunter2']) expect(everything).not.toContain(secret)
    expect(() => createGateway({ upstreams: [{ url: withPassword, apiKey: 'also-a-key' }] })).toThrow(/password in its URL and an apiKey/)
    try {
      createGateway({ upstreams: ['ftp://carol:pw-in-error@host/v1'] })
      expect.unreachable()
    } catch (failure) {
      expect(String(failure)).not.toContain('pw-in-error')
    }
  })
})

describe('with gateway keys', () => {
  it('/v1/jobs and every other /v1 path (the memory endpoints too) need a key; /healthz and /readyz stay open and show no upstream URL then', async () => {
    const fake = await upstream()
    gateway = await startQueuegate({ upstreams: [fake.url], apiKeys: ['ops-key-000001'] })
    for (const path of ['/v1/jobs/abc', '/v1/memory/threads', '/v1/memory/search?q=x', '/models']) {
      expect((await fetch(`${gateway.url}${path}`)).status, path).toBe(401)
    }
    expect((await fetch(`${gateway.url}/v1/memory/threads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401)
    const port = new URL(fake.url).port
    const open = await fetch(`${gateway.url}/healthz`)
    expect(open.status).toBe(200)
    const openText = await open.text()
    expect(openText).not.toContain(port)
    expect(JSON.parse(openText)).toMatchObject({ ok: true, workers: [{ id: 0, slots: 1, healthy: true }] })
    const ready = await fetch(`${gateway.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.text()).not.toContain(port)
    // With a key, /healthz shows the upstreams.
    const keyed = await fetch(`${gateway.url}/healthz`, { headers: { authorization: 'Bearer ops-key-000001' } })
    expect(await keyed.text()).toContain(`127.0.0.1:${port}`)
    // Without keys configured, /healthz shows them to anyone (a loopback gateway for one user).
    const { close } = gateway
    gateway = undefined
    await close()
    gateway = await startQueuegate({ upstreams: [fake.url] })
    expect(await (await fetch(`${gateway.url}/healthz`)).text()).toContain(`127.0.0.1:${port}`)
  })
})

describe('the CLI turns the checks on', () => {
  it('on loopback: 415 for text/plain and 403 for a foreign Host by default; --allowed-hosts adds names; --no-require-json and --allowed-hosts "*" turn them off', async () => {
    const fake = await upstream()
    const start = async (...flags: string[]): Promise<RunningServer> => {
      const server = (await main({ argv: ['node', 'queuegate', '--port', '0', '--log-level', 'silent', '--upstreams', fake.url, '--health-interval', '0', ...flags], env: {}, handleSignals: false })) as RunningServer
      gateways.push(server)
      return server
    }
    const strict = await start('--allowed-hosts', 'gpu-box.lan')
    expect((await raw(strict.url, { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'text/plain' }, body: chatBody })).status).toBe(415)
    expect((await raw(strict.url, { path: '/healthz', headers: { host: 'rebound.example' } })).status).toBe(403)
    expect((await raw(strict.url, { path: '/healthz', headers: { host: 'gpu-box.lan' } })).status).toBe(200)
    expect((await raw(strict.url, { path: '/healthz', headers: { host: 'localhost:1234' } })).status).toBe(200)
    expect((await raw(strict.url, { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: chatBody })).status).toBe(200)

    const open = await start('--no-require-json', '--allowed-hosts', '*')
    expect((await raw(open.url, { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'text/plain' }, body: chatBody })).status).toBe(200)
    expect((await raw(open.url, { path: '/healthz', headers: { host: 'rebound.example' } })).status).toBe(200)

    const cors = await start('--cors-origin', 'http://app.example')
    const preflight = await raw(cors.url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' } })
    expect(preflight.status).toBe(204)
  })
})
