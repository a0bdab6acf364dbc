/**
 * `npm run bench:faults`: the fault matrix of issue 12, re-run on loopback. Each row starts fake
 * llama.cpp upstreams (or a bare node:http server for answers the fake does not give), a gateway
 * behind the real node:http bridge, and sends a few requests with the official `openai` client;
 * then it records what the client saw, whether every slot came back (nothing running or queued at
 * the gateway, nothing open at the upstreams), and whether the call was retried. The last row is
 * an abort storm. Bounded: a handful of requests per row (the storm: 300), short deadlines, about
 * 15 s in all; prints a Markdown table (the README's).
 *
 * Run: `npm run bench:faults` (or `node_modules/.bin/node --import tsx bench/faults.ts`).
 * @module
 */
import http from 'node:http'
import OpenAI, { APIError } from 'openai'
import { createGateway } from '../src/index.js'
import type { GatewayEvent, GatewayOptions } from '../src/index.js'
import { createRequestListener } from '../src/server/index.js'
import { startFakeUpstream } from '../test/e2e/fake-upstream.js'
import type { FakeUpstream, FakeUpstreamOptions } from '../test/e2e/fake-upstream.js'
import { listen } from '../test/helpers/listen.js'
import type { Listening } from '../test/helpers/listen.js'

/** One row of the table. */
interface Row {
  fault: string
  client: string
  slots: string
  retried: string
}

/** What a row sets up: upstreams (fake options, or a raw handler), gateway options, the request. */
interface Case {
  fault: string
  upstreams: Array<FakeUpstreamOptions | http.RequestListener | 'closed'>
  gateway?: Partial<GatewayOptions>
  stream?: boolean
}

const DEADLINES: Partial<GatewayOptions> = { ttfbTimeoutMs: 500, stallTimeoutMs: 300 }
const hello = { model: 'fake-model', messages: [{ role: 'user' as const, content: 'hi' }] }

function raw(contentType: string, body: string): http.RequestListener {
  return (incoming, outgoing) => {
    incoming.resume()
    incoming.on('end', () => {
      outgoing.writeHead(200, { 'content-type': contentType })
      outgoing.end(body)
    })
  }
}

const chunk = (content: string): string => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`

const CASES: Case[] = [
  { fault: 'one of two upstreams answers 500 at once', upstreams: [{ failure: { kind: 'status', status: 500 } }, { tokens: 2 }] },
  { fault: 'one of two answers 429 (Retry-After: 5)', upstreams: [{ failure: { kind: 'status', status: 429, headers: { 'retry-after': '5' } } }, { tokens: 2 }] },
  { fault: 'the whole pool answers 503 (Retry-After: 120)', upstreams: [{ failure: { kind: 'status', status: 503, headers: { 'retry-after': '120' } } }, { failure: { kind: 'status', status: 503, headers: { 'retry-after': '120' } } }] },
  { fault: 'one of two refuses connections', upstreams: ['closed', { tokens: 2 }] },
  { fault: 'one of two resets after the request was sent', upstreams: [{ failure: { kind: 'drop', afterChunks: 0 } }, { tokens: 2 }] },
  { fault: 'one of two never answers (first-byte deadline 0.5 s)', upstreams: [{ failure: { kind: 'hang' } }, { tokens: 2 }], gateway: DEADLINES },
  { fault: 'the only upstream never answers', upstreams: [{ failure: { kind: 'hang' } }], gateway: DEADLINES },
  { fault: 'stream: headers, then nothing', upstreams: [{ failure: { kind: 'hang-after-headers' } }, { tokens: 2 }], gateway: DEADLINES, stream: true },
  { fault: 'stream cut after 3 events', upstreams: [{ tokens: 6, failure: { kind: 'drop', afterChunks: 3 } }, { tokens: 2 }], stream: true },
  { fault: 'stream stalls after 3 events (stall deadline 0.3 s)', upstreams: [{ tokens: 6, failure: { kind: 'stall', afterChunks: 3 } }], gateway: DEADLINES, stream: true },
  { fault: 'stream trickles a byte every 10 ms, no event', upstreams: [{ tokens: 6, failure: { kind: 'trickle', afterChunks: 2, everyMs: 10 } }], gateway: DEADLINES, stream: true },
  { fault: 'stream runs past --max-duration (1 s)', upstreams: [{ tokens: 400, tokenDelayMs: 5 }], gateway: { maxDurationMs: 1000 }, stream: true },
  { fault: 'upstream error event mid-stream', upstreams: [{ chunks: [{ content: 'partial' }, { error: { code: 500, message: 'model crashed', type: 'server_error' } }] }], stream: true },
  { fault: 'an SSE event that is not JSON', upstreams: [raw('text/event-stream', `${chunk('Hello')}data: <b>proxy error</b>\n\n${chunk('!')}data: [DONE]\n\n`)], stream: true },
  { fault: 'a 200 HTML page', upstreams: [raw('text/html', '<html>502 Bad Gateway</html>')] },
  { fault: 'upstream 400 (bad request)', upstreams: [{ failure: { kind: 'status', status: 400 } }, { tokens: 2 }] },
]

/** What the client got: `200`, a status and code, or the stream's end. */
async function ask(client: OpenAI, stream: boolean): Promise<string> {
  try {
    if (!stream) {
      await client.chat.completions.create(hello)
      return '200'
    }
    const answer = await client.chat.completions.create({ ...hello, stream: true })
    let events = 0
    for await (const part of answer) {
      void part
      events += 1
    }
    return `200, ${events} events, [DONE]`
  } catch (error) {
    if (!(error instanceof APIError)) return `client error: ${(error as Error).message}`
    if (error.status === undefined) return `200, then error event \`${(error as APIError & { code?: string }).code ?? (error.error as { code?: string } | undefined)?.code ?? '?'}\``
    const retryAfter = error.headers?.get('retry-after')
    return `${error.status} \`${error.code ?? '?'}\`${retryAfter ? ` (Retry-After: ${retryAfter})` : ''}`
  }
}

async function settle(check: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (check()) return true
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return check()
}

async function runCase(entry: Case): Promise<Row> {
  const fakes: FakeUpstream[] = []
  const raws: Listening[] = []
  const urls: string[] = []
  for (const upstream of entry.upstreams) {
    if (upstream === 'closed') {
      const closed = await listen(() => {})
      urls.push(closed.url)
      await closed.close()
    } else if (typeof upstream === 'function') {
      const server = await listen(upstream)
      raws.push(server)
      urls.push(server.url)
    } else {
      const fake = await startFakeUpstream(upstream)
      fakes.push(fake)
      urls.push(fake.url)
    }
  }
  const events: GatewayEvent[] = []
  const gateway = createGateway({ upstreams: urls, discoverModels: false, healthIntervalMs: 0, ...entry.gateway, onEvent: (event) => events.push(event) })
  const server = await listen(createRequestListener(gateway.fetch))
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 10_000 })
  try {
    const seen = new Set<string>()
    for (let index = 0; index < 3; index++) seen.add(await ask(client, entry.stream === true))
    const restored = await settle(() => {
      const snapshot = gateway.scheduler.snapshot()
      return snapshot.running === 0 && snapshot.queued === 0 && fakes.every((fake) => fake.active === 0 && fake.waiting === 0)
    }, 3000)
    const retries = events.filter((event) => event.type === 'upstream-error' && event.retry !== undefined && event.retry !== 'unreachable').length
    const failovers = events.filter((event) => event.type === 'upstream-error' && event.retry === 'unreachable').length
    return {
      fault: entry.fault,
      client: [...seen].join('; '),
      slots: restored ? 'yes' : 'NO',
      retried: retries > 0 ? `yes (${retries} of 3)` : failovers > 0 ? `moved (${failovers}; nothing was sent)` : 'no',
    }
  } finally {
    await gateway.close({ graceMs: 0 })
    await server.close()
    await Promise.all([...fakes.map((fake) => fake.close()), ...raws.map((listening) => listening.close())])
  }
}

/** 300 streaming requests over 2 slots, each abandoned by its client within 30 ms. */
async function abortStorm(): Promise<Row> {
  const fake = await startFakeUpstream({ slots: 2, tokens: 40, tokenDelayMs: 1 })
  const gateway = createGateway({ upstreams: [{ url: fake.url, slots: 2 }], discoverModels: false, healthIntervalMs: 0 })
  const server = await listen(createRequestListener(gateway.fetch))
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 10_000 })
  let maxRunning = 0
  gateway.scheduler.on('job-start', () => (maxRunning = Math.max(maxRunning, gateway.scheduler.snapshot().running)))
  let random = 12345
  const next = (): number => ((random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  try {
    let aborted = 0
    const one = async (): Promise<void> => {
      const controller = new AbortController()
      const timer = setTimeout(() => controller.abort(), Math.floor(next() * 30))
      try {
        const stream = await client.chat.completions.create({ ...hello, stream: true }, { signal: controller.signal })
        for await (const part of stream) void part
      } catch {
        if (controller.signal.aborted) aborted += 1
      } finally {
        clearTimeout(timer)
      }
    }
    for (let wave = 0; wave < 10; wave++) await Promise.all(Array.from({ length: 30 }, () => one()))
    const restored = await settle(() => gateway.scheduler.snapshot().running === 0 && fake.active === 0 && fake.waiting === 0, 5000)
    const after = await ask(client, true)
    return {
      fault: `abort storm: 300 streams over 2 slots, ${aborted} abandoned by their client`,
      client: `499 in the log; the next request: ${after}; at most ${maxRunning} running at the gateway, ${fake.maxInFlight} in flight at the upstream`,
      slots: restored ? 'yes' : 'NO',
      retried: 'no',
    }
  } finally {
    await gateway.close({ graceMs: 0 })
    await server.close()
    await fake.close()
  }
}

/** Runs the matrix and prints the table. */
export async function run(print: (line: string) => void = console.log): Promise<Row[]> {
  const started = performance.now()
  const rows: Row[] = []
  for (const entry of CASES) rows.push(await runCase(entry))
  rows.push(await abortStorm())
  print('| fault | what the client sees | slot restored | retried |')
  print('| --- | --- | --- | --- |')
  for (const row of rows) print(`| ${row.fault} | ${row.client} | ${row.slots} | ${row.retried} |`)
  print(`\n(${rows.length} rows in ${((performance.now() - started) / 1000).toFixed(1)} s)`)
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) await run()
