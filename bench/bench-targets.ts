/**
 * Starts what the gateway benchmark measures against one upstream: nothing (direct), the pipe
 * proxy, or queuegate with given options. Used in the proxy worker, or in-process.
 * @module
 */
import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import http from 'node:http'
import type { FakeResponseOptions, FakeUpstreamOptions } from '../test/e2e/fake-upstream.js'
import { listen } from '../test/helpers/listen.js'
import { createPipeProxy } from './pipe-proxy.js'

/**
 * The benchmark's fake upstream: zero delay, 20 tokens, enough slots that it never queues. A
 * request body may carry `bench_upstream` (fake response options, e.g. `{ tokenDelayMs: 2 }`) to
 * pace that one answer; the gateway and the pipe forward the body unchanged.
 */
export function benchUpstreamOptions(): FakeUpstreamOptions {
  return {
    slots: 256,
    tokens: 20,
    ttftMs: 0,
    tokenDelayMs: 0,
    respond: (request) => {
      const body = request.body as { bench_upstream?: FakeResponseOptions } | undefined
      return body?.bench_upstream
    },
  }
}

/**
 * Metrics and logs on a queuegate target, as the CLI runs them: `json` is prom-client metrics in
 * the gateway's registry (process metrics included) and one pino JSON line per request at `info`,
 * written as the CLI writes stderr (buffered, asynchronous) to /dev/null.
 */
export type ObserveMode = 'json'

/** What serves a target. */
export type TargetKind = 'direct' | 'pipe' | 'queuegate' | 'queuegate-baseline'

/** A started target: where to send requests, and how to stop it. */
export interface StartedTarget {
  url: string
  close(): Promise<void>
}

interface Gateway {
  fetch(request: Request): Promise<Response>
  close(): Promise<void>
}
type CreateGateway = (options: Record<string, unknown>) => Gateway
type CreateRequestListener = (fetch: (request: Request) => Promise<Response>) => http.RequestListener

/**
 * queuegate as users run it: the built package in dist/ (`npm run bench` builds first). The
 * sources under tsx run measurably slower (tsx wraps every function expression in a naming
 * helper), so they are used only when dist/ is missing, and the bench header says which ran.
 */
export const QUEUEGATE_BUILD: 'dist' | 'src' = existsSync(new URL('../dist/index.js', import.meta.url)) ? 'dist' : 'src'

/**
 * Another build of queuegate to measure beside this one in the same run (a change's before and
 * after): a folder holding a built `index.js` and `server/index.js`, e.g. a copy of dist/ made
 * before the change. Its rows are named `queuegate before`.
 */
export const BASELINE_BUILD: string | undefined = process.env.QUEUEGATE_BENCH_BASELINE || undefined

interface Observe {
  createGatewayMetrics(): unknown
  createEventLogger(options: Record<string, unknown>): Promise<{ event(event: unknown): void; flush(): void }>
}

/** queuegate/observe from the same build as the gateway. */
async function loadObserve(): Promise<Observe> {
  return (await import(QUEUEGATE_BUILD === 'dist' ? '../dist/observe/index.js' : '../src/observe/index.js')) as Observe
}

async function loadQueuegate(baseline = false): Promise<{ createGateway: CreateGateway; createRequestListener: CreateRequestListener } | string> {
  try {
    const [corePath, serverPath] = baseline
      ? [pathToFileURL(`${BASELINE_BUILD}/index.js`).href, pathToFileURL(`${BASELINE_BUILD}/server/index.js`).href]
      : QUEUEGATE_BUILD === 'dist'
        ? ['../dist/index.js', '../dist/server/index.js']
        : ['../src/index.js', '../src/server/index.js']
    const core: Record<string, unknown> = await import(corePath)
    const server: Record<string, unknown> = await import(serverPath)
    if (typeof core.createGateway !== 'function') return 'createGateway is not exported from src/index.ts yet'
    if (typeof server.createRequestListener !== 'function') return 'createRequestListener is not exported from src/server/index.ts yet'
    return { createGateway: core.createGateway as CreateGateway, createRequestListener: server.createRequestListener as CreateRequestListener }
  } catch (error) {
    return `queuegate failed to load: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** `undefined` when queuegate can be benchmarked, else why not. */
export async function probeQueuegate(): Promise<string | undefined> {
  const loaded = await loadQueuegate()
  return typeof loaded === 'string' ? loaded : undefined
}

/**
 * Starts one target in front of `upstreamUrl` (the fake's base URL). For queuegate, `slots` is
 * the upstream's slot count and `gateway` extra `createGateway` options.
 */
export async function startTarget(kind: TargetKind, upstreamUrl: string, options: { slots: number; gateway?: Record<string, unknown> | undefined; observe?: ObserveMode | undefined }): Promise<StartedTarget> {
  if (kind === 'direct') return { url: upstreamUrl, close: async () => {} }
  if (kind === 'pipe') return listen(createPipeProxy(upstreamUrl))
  const loaded = await loadQueuegate(kind === 'queuegate-baseline')
  if (typeof loaded === 'string') throw new Error(loaded)
  let observed: Record<string, unknown> = {}
  if (options.observe === 'json') {
    const observe = await loadObserve()
    const logger = await observe.createEventLogger({ format: 'json', level: 'info', destination: '/dev/null' })
    observed = { metrics: observe.createGatewayMetrics(), onEvent: (event: unknown) => logger.event(event) }
  }
  const gateway = loaded.createGateway({ upstreams: [{ url: `${upstreamUrl}/v1`, slots: options.slots }], ...options.gateway, ...observed })
  const listening = await listen(loaded.createRequestListener(gateway.fetch))
  return {
    url: listening.url,
    async close() {
      await listening.close()
      await gateway.close()
    },
  }
}
