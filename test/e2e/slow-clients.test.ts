/**
 * Slow and broken clients (issue 12), over raw sockets on 127.0.0.1 against `serve()`: a request
 * body that never finishes, headers that never end, more connections than allowed, a streaming
 * client that stops reading, clients that never read a large whole answer, and input node's
 * HTTP parser refuses. Each gets a bounded answer or a closed connection, and the slot comes back.
 * Timeouts are short here (hundreds of ms); every wait has a deadline several times longer.
 */
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createRequestListener, serve } from 'queuegate/server'
import type { RunningServer, ServeOptions } from 'queuegate/server'
import type { GatewayEvent } from 'queuegate'
import OpenAI from 'openai'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { withTimeout } from '../helpers/with-timeout.js'

let upstream: FakeUpstream | undefined
let running: RunningServer | undefined
const sockets: net.Socket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await running?.close({ graceMs: 0 })
  await upstream?.close()
  running = undefined
  upstream = undefined
})

async function start(options: Omit<ServeOptions, 'gateway' | 'port'>, events: GatewayEvent[] = []): Promise<RunningServer> {
  upstream ??= await startFakeUpstream()
  running = await serve({
    ...options,
    port: 0,
    gateway: { upstreams: [upstream.url], discoverModels: false, healthIntervalMs: 0, onEvent: (event) => events.push(event) },
  })
  return running
}

/** A raw connection; `text` collects what arrives (unless the socket is paused), `closed` resolves on close. */
function connect(url: string): Promise<{ socket: net.Socket; text: () => string; closed: Promise<void> }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname)
    sockets.push(socket)
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (part: string) => (text += part))
    const closed = new Promise<void>((done) => socket.once('close', () => done()))
    socket.once('error', () => {})
    socket.once('connect', () => resolve({ socket, text: () => text, closed }))
    socket.once('error', reject)
  })
}

/** The JSON body of a raw HTTP answer. */
function bodyOf(answer: string): unknown {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
}

/** Polls `check` every 20 ms until true, at most `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms: number, label: string): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`${label}: not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function connections(server: RunningServer): Promise<number> {
  return new Promise((resolve, reject) => server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))))
}

function chatRequest(body: unknown): string {
  const text = JSON.stringify(body)
  return `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`
}

describe('slow clients', () => {
  it('a body that stops arriving gets a 408 with an OpenAI error body and its connection closed; nothing goes upstream', async () => {
    const server = await start({ bodyTimeoutMs: 600, headersTimeoutMs: 400 })
    const started = Date.now()
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(server.url)))
    for (const client of clients) {
      // 9 MB announced, 256 KiB sent, then silence (the 20 × 9 MB, scaled down).
      client.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${9 * 1024 * 1024}\r\n\r\n`)
      client.socket.write(Buffer.alloc(256 * 1024, 0x20))
    }
    await withTimeout(Promise.all(clients.map((client) => client.closed)), 8000, 'every stalled upload closed')
    expect(Date.now() - started).toBeGreaterThanOrEqual(500)
    for (const client of clients) {
      expect(client.text()).toMatch(/^HTTP\/1\.1 408 /)
      expect(bodyOf(client.text())).toEqual({ error: { message: expect.stringContaining('did not arrive in time'), type: 'invalid_request_error', param: null, code: 'request_timeout' } })
    }
    expect(upstream!.requests).toHaveLength(0)
    expect(await connections(server)).toBe(0)
  })

  it('headers that never end get a 408 too', async () => {
    const server = await start({ headersTimeoutMs: 400, bodyTimeoutMs: 5000 })
    const client = await connect(server.url)
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
    await withTimeout(client.closed, 8000, 'slow headers closed')
    expect(client.text()).toMatch(/^HTTP\/1\.1 408 /)
    expect(bodyOf(client.text())).toMatchObject({ error: { code: 'request_timeout' } })
  })

  it('connections beyond maxConnections are closed at once; the ones inside keep working', async () => {
    const server = await start({ maxConnections: 3 })
    const held = await Promise.all(Array.from({ length: 3 }, () => connect(server.url)))
    await until(async () => (await connections(server)) === 3, 3000, 'three connections open')
    const extra = await connect(server.url)
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await withTimeout(extra.closed, 3000, 'the fourth connection closed')
    expect(extra.text()).toBe('')
    held[0]!.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await until(() => held[0]!.text().includes('"ok":true'), 3000, 'a held connection answered')
    held[1]!.socket.destroy()
    await until(async () => (await connections(server)) === 2, 3000, 'a slot for a connection freed')
    const health = await fetch(`${server.url}/healthz`)
    expect(health.status).toBe(200)
  })

  it('a streaming client that stops reading is dropped after clientIdleTimeoutMs: its job ends and the slot serves the next request', async () => {
    const events: GatewayEvent[] = []
    // About 13 MB of SSE: far more than the socket buffers between a paused client and the gateway hold.
    upstream = await startFakeUpstream({ chunks: Array.from({ length: 200 }, () => ({ content: 'x'.repeat(64 * 1024) })) })
    const server = await start({ clientIdleTimeoutMs: 500 }, events)
    const reader = await connect(server.url)
    reader.socket.write(chatRequest({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }))
    await until(() => reader.text().includes('data: '), 5000, 'the stream started')
    reader.socket.pause()
    const pausedAt = Date.now()
    await until(() => events.some((event) => event.type === 'request-end'), 10_000, 'the stalled stream ended')
    const end = events.find((event) => event.type === 'request-end')
    expect(end).toMatchObject({ status: 499 })
    expect(Date.now() - pausedAt).toBeGreaterThanOrEqual(400)
    // The one slot is free: the next request is answered.
    upstream.setOptions({ chunks: undefined, tokens: 3 })
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 10_000 })
    const answer = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'next' }] })
    expect(answer.choices[0]?.message.content).toBe('tok0 tok1 tok2')
  })

  it('clients that never read a large whole answer are dropped after clientIdleTimeoutMs, their bytes let go', async () => {
    // 8 clients, each a ~16 MB non-streamed answer they never read (the 8 × 50 MB, scaled down).
    upstream = await startFakeUpstream({ slots: 8, chunks: Array.from({ length: 16 }, () => ({ content: 'y'.repeat(1024 * 1024) })) })
    const server = await start({ clientIdleTimeoutMs: 500 })
    const clients = await Promise.all(Array.from({ length: 8 }, () => connect(server.url)))
    for (const client of clients) {
      client.socket.pause()
      client.socket.write(chatRequest({ model: 'fake-model', messages: [{ role: 'user', content: 'big' }] }))
    }
    await until(() => upstream!.requests.filter((request) => request.state === 'ended').length === 8, 10_000, 'all 8 answers sent')
    await until(async () => (await connections(server)) === 0, 10_000, 'every non-reading client dropped')
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { running: number; queued: number }
    expect(health).toMatchObject({ running: 0, queued: 0 })
  })

  it('a client that reads slowly but steadily is not dropped', async () => {
    upstream = await startFakeUpstream({ chunks: Array.from({ length: 200 }, () => ({ content: 'z'.repeat(64 * 1024) })) })
    // Pauses of 150 ms against a 1.5 s timeout: a loaded machine's stalls of the test process do not drop it.
    const server = await start({ clientIdleTimeoutMs: 1500 })
    const reader = await connect(server.url)
    reader.socket.write(chatRequest({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }))
    // Read in short bursts with pauses shorter than the idle timeout, for at most ~15 s.
    const deadline = Date.now() + 15_000
    while (!reader.text().includes('data: [DONE]') && Date.now() < deadline) {
      reader.socket.pause()
      await new Promise((resolve) => setTimeout(resolve, 150))
      reader.socket.resume()
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
    expect(reader.text()).toContain('data: [DONE]')
  })
})

describe('client limit options', () => {
  it('are checked: a bad value is a TypeError naming it', async () => {
    expect(() => createRequestListener(() => new Response('x'), { clientIdleTimeoutMs: -1 })).toThrow(/clientIdleTimeoutMs must be a whole number/)
    await expect(serve({ gateway: { upstreams: ['http://127.0.0.1:1'] }, port: 0, bodyTimeoutMs: 1.5 })).rejects.toThrow(/bodyTimeoutMs must be a whole number/)
  })
})

describe("node's own refusals carry an OpenAI error body", () => {
  it('unparsable HTTP is a 400 and headers too large a 431, with JSON bodies; the server keeps serving', async () => {
    const server = await start({})
    const garbage = await connect(server.url)
    garbage.socket.write('NOT HTTP AT ALL\r\n\r\n')
    await withTimeout(garbage.closed, 5000, 'garbage answered')
    expect(garbage.text()).toMatch(/^HTTP\/1\.1 400 /)
    expect(garbage.text()).toMatch(/content-type: application\/json/i)
    expect(bodyOf(garbage.text())).toEqual({ error: { message: expect.stringMatching(/not valid HTTP/), type: 'invalid_request_error', param: null, code: 'bad_request' } })

    const huge = await connect(server.url)
    huge.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`)
    await withTimeout(huge.closed, 5000, 'huge headers answered')
    expect(huge.text()).toMatch(/^HTTP\/1\.1 431 /)
    expect(bodyOf(huge.text())).toMatchObject({ error: { code: 'headers_too_large', type: 'invalid_request_error' } })

    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })
})
