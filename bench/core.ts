/**
 * The gateway core alone: µs of `gateway.fetch` per request, with no sockets. The upstream is
 * a dispatcher in the same thread that answers every call at once (the same 20-token answer as
 * the gateway bench, in one chunk), so what is measured is queuegate's own work per request:
 * reading and checking the body, the thread key, the scheduler, the job records, the upstream
 * handler, re-framing the SSE answer and handing the response over. It is the part of the
 * gateway bench's overhead that queuegate's code decides; the rest is node:http and undici.
 *
 * Two kinds of request: the one the node bridge builds (carries the accessor of
 * `gateway/bridge-protocol.ts`, as every request through `createRequestListener` does), and a
 * standard `new Request(...)` (queuegate embedded in another server's fetch handler). 16 at a
 * time, 5 rounds of 40 000 after a warm-up; the median round is printed.
 *
 * Run: `node_modules/.bin/node --import tsx bench/core.ts` (after `npm run build`; `npm run bench`
 * does both).
 * @module
 */
import { pathToFileURL } from 'node:url'
import { QUEUEGATE_BUILD } from './bench-targets.js'

interface Gateway {
  fetch(request: Request): Promise<Response>
  close(): Promise<void>
}

/** One 20-token answer, as the fake llama.cpp sends it (SSE), and as one JSON body. */
function answers(): { sse: Uint8Array; json: Uint8Array } {
  let sse = ''
  for (let index = 0; index < 22; index++) {
    const delta = index === 0 ? '{"role":"assistant","content":null}' : index === 21 ? '{}' : `{"content":" tok${index - 1}"}`
    const finish = index === 21 ? '"stop"' : 'null'
    sse += `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1795310855,"model":"fake-model","choices":[{"index":0,"delta":${delta},"finish_reason":${finish}}]}\n\n`
  }
  sse += 'data: [DONE]\n\n'
  const content = Array.from({ length: 20 }, (_, index) => (index === 0 ? 'tok0' : ` tok${index}`)).join('')
  const json = JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', created: 1795310855, model: 'fake-model', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] })
  // Buffers, as undici hands them over (their indexOf is node's memchr, which the re-framer's scan gets).
  return { sse: Buffer.from(sse), json: Buffer.from(json) }
}

/** An undici-shaped dispatcher that answers every request at once (a microtask later), from memory. */
function instantDispatcher(): unknown {
  const { sse, json } = answers()
  return {
    dispatch(options: { headers: Record<string, string> }, handler: Record<string, (...args: unknown[]) => void>) {
      const stream = options.headers.accept === 'text/event-stream'
      const controller = { pause() {}, resume() {}, abort(reason: Error) { handler.onResponseError?.(controller, reason) } }
      queueMicrotask(() => {
        handler.onRequestStart?.(controller, {})
        handler.onResponseStart?.(controller, 200, { 'content-type': stream ? 'text/event-stream' : 'application/json' }, 'OK')
        handler.onResponseData?.(controller, stream ? sse : json)
        handler.onResponseEnd?.(controller, {})
      })
      return true
    },
    close: async () => {},
    destroy: async () => {},
  }
}

// The two keys of gateway/bridge-protocol.ts.
const BRIDGE_REQUEST = Symbol.for('queuegate.bridge-request/1')
const RESPONSE_PARTS = Symbol.for('queuegate.bridge-response/1')

/** A request as the node bridge hands it over: the fast accessors, nothing built. */
function bridgeRequest(body: Uint8Array): Request {
  const headers: Record<string, string> = { host: '127.0.0.1', 'content-type': 'application/json', 'content-length': String(body.byteLength) }
  return {
    method: 'POST',
    url: 'http://127.0.0.1/v1/chat/completions',
    signal: new AbortController().signal,
    [BRIDGE_REQUEST]: {
      target: '/v1/chat/completions',
      get: (name: string) => headers[name.toLowerCase()] ?? null,
      readBody: async () => body,
      watch() {},
      unwatch() {},
    },
  } as unknown as Request
}

function webRequest(body: Uint8Array): Request {
  return new Request('http://127.0.0.1/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: body as Uint8Array<ArrayBuffer> })
}

const nullSink = { write: () => true, end: () => {}, error: () => {} }

/** Runs one request to the end of its answer. */
async function once(gateway: Gateway, request: Request): Promise<void> {
  const response = await gateway.fetch(request)
  const parts = (response as unknown as Record<symbol, { body: unknown } | undefined>)[RESPONSE_PARTS]
  const body = parts?.body as { start?: (sink: typeof nullSink) => void } | undefined
  if (response.status !== 200) throw new Error(`status ${response.status}: ${await response.text()}`)
  if (parts === undefined) await response.arrayBuffer()
  else if (typeof body?.start === 'function') body.start(nullSink)
}

/** Prints µs per request of the gateway core, by request kind and mode. */
export async function run(options: { print?: (line: string) => void } = {}): Promise<void> {
  const { print = console.log } = options
  const entry = QUEUEGATE_BUILD === 'dist' ? '../dist/index.js' : '../src/index.js'
  const { createGateway } = (await import(entry)) as { createGateway: (options: Record<string, unknown>) => Gateway }
  const gateway = createGateway({ upstreams: [{ url: 'http://bench.invalid/v1', slots: 256 }], _internal: { dispatcherFactory: instantDispatcher } })
  const encoder = new TextEncoder()
  print(`gateway core (no sockets; an in-memory upstream answers at once): µs per request, 16 at a time, median of 5 rounds; queuegate from ${QUEUEGATE_BUILD}/`)
  try {
    for (const [kind, makeRequest] of [
      ['node bridge request', bridgeRequest],
      ['web Request', webRequest],
    ] as const) {
      for (const stream of [true, false]) {
        const body = encoder.encode(JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'Say something.' }], stream }))
        const round = async (requests: number): Promise<number> => {
          const started = performance.now()
          for (let done = 0; done < requests; done += 16) await Promise.all(Array.from({ length: 16 }, () => once(gateway, makeRequest(body))))
          return ((performance.now() - started) * 1000) / requests
        }
        await round(20_000)
        const rounds: number[] = []
        for (let index = 0; index < 5; index++) rounds.push(await round(40_000))
        rounds.sort((a, b) => a - b)
        print(`  ${kind.padEnd(20)} ${(stream ? 'stream' : 'json').padEnd(6)} ${(rounds[2] as number).toFixed(2).padStart(6)} µs  (rounds ${rounds[0]!.toFixed(2)}–${rounds[4]!.toFixed(2)})`)
      }
    }
  } finally {
    await gateway.close()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run()
