/**
 * The dashboard's load on the gateway: requests per second of the fast path (streamed, zero-delay
 * upstream, no transforms) with the dashboard off, on with no page open, and on with 5 pages open
 * (5 connections reading `GET /v1/dashboard/events`, as 5 browser tabs do). Same layout as
 * bench/gateway.ts (the fake upstream and the gateways in worker threads, the load client and the
 * pages in the main thread), 6 interleaved rounds per cell. Each row is its own gateway, so the
 * pages are connected only to the row that says so.
 *
 * Run: `node_modules/.bin/node --import tsx bench/dashboard.ts [--quick]` (after `npm run build`:
 * queuegate from dist/), under the machine lock.
 * @module
 */
import { cpus, loadavg } from 'node:os'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { QUEUEGATE_BUILD } from './bench-targets.js'
import { startWorkers } from './gateway.js'
import type { BenchTarget } from './gateway.js'
import { createLoadPool, measure, summarize } from './load.js'
import type { LoadSample } from './load.js'

const ROUNDS = 6
const PAGES = 5

interface Row {
  name: string
  target: BenchTarget
  pages: number
}

const ROWS: Row[] = [
  { name: 'dashboard off', target: { name: 'off', kind: 'queuegate', gateway: { dashboard: false } }, pages: 0 },
  { name: 'dashboard on, 0 pages', target: { name: 'on', kind: 'queuegate', gateway: { dashboard: true } }, pages: 0 },
  { name: `dashboard on, ${PAGES} pages`, target: { name: 'pages', kind: 'queuegate', gateway: { dashboard: true } }, pages: PAGES },
]

/** A page: one events stream, read to the end; counts the snapshots it got. */
function openPage(url: string): { events: () => number; bytes: () => number; close: () => Promise<void> } {
  const pool = new Pool(url, { connections: 1 })
  const controller = new AbortController()
  let events = 0
  let bytes = 0
  const reading = (async () => {
    const { body } = await pool.request({ path: '/v1/dashboard/events', method: 'GET', signal: controller.signal })
    for await (const part of body) {
      const text = (part as Buffer).toString('utf8')
      bytes += part.length
      events += text.split('\n\n').length - 1
    }
  })().catch(() => {})
  return {
    events: () => events,
    bytes: () => bytes,
    async close() {
      controller.abort()
      await reading
      await pool.close().catch(() => {})
    },
  }
}

/** Runs the dashboard bench and prints one row per setting and mode. */
export async function run(options: { quick?: boolean | undefined; print?: ((line: string) => void) | undefined } = {}): Promise<void> {
  const { quick = false, print = console.log } = options
  const host = await startWorkers()
  const pools: Pool[] = []
  const pages: Array<ReturnType<typeof openPage>> = []
  try {
    print(`dashboard bench: node ${process.version}, ${cpus().length} cpus (load avg ${loadavg()[0]!.toFixed(2)}); fast path (no transforms), zero-delay upstream, 20 tokens; ${ROUNDS} interleaved rounds per cell; queuegate from ${QUEUEGATE_BUILD}/`)
    const urls = new Map<string, string>()
    for (const row of ROWS) urls.set(row.name, await host.start(row.target))
    const poolOf = new Map<string, Pool>()
    for (const row of ROWS) {
      const pool = createLoadPool(urls.get(row.name)!, 64)
      pools.push(pool)
      poolOf.set(row.name, pool)
      for (let i = 0; i < row.pages; i++) pages.push(openPage(urls.get(row.name)!))
    }
    const scale = quick ? 0.25 : 1
    for (const stream of [true, false]) {
      const body = JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'Say something.' }], stream })
      for (const row of ROWS) await measure(poolOf.get(row.name)!, { path: '/v1/chat/completions', body, stream, concurrency: 8, requests: 0, warmup: Math.ceil(1500 * scale), maxMs: 1000 })
      const samples = new Map<string, LoadSample[]>()
      const eventsBefore = pages.reduce((sum, page) => sum + page.events(), 0)
      const started = performance.now()
      for (let round = 0; round < ROUNDS; round++) {
        for (const row of ROWS) {
          await host.reset()
          const sample = await measure(poolOf.get(row.name)!, { path: '/v1/chat/completions', body, stream, concurrency: 16, requests: Math.ceil((30_000 * scale) / ROUNDS), warmup: 32, maxMs: (3000 * scale) / ROUNDS })
          samples.set(row.name, [...(samples.get(row.name) ?? []), sample])
        }
      }
      const seconds = (performance.now() - started) / 1000
      const events = pages.reduce((sum, page) => sum + page.events(), 0) - eventsBefore
      print('')
      print(`${stream ? 'stream' : 'json'}, concurrency 16 (the pages got ${events} snapshots in ${seconds.toFixed(1)} s, ${(events / seconds / Math.max(1, pages.length)).toFixed(1)} per page per second)`)
      const off = summarize(samples.get(ROWS[0]!.name) ?? [])
      for (const row of ROWS) {
        const result = summarize(samples.get(row.name) ?? [])
        const versus = row === ROWS[0] ? '' : `${(result.rps / off.rps).toFixed(2)}x req/s of off, p50 ${result.p50 - off.p50 >= 0 ? '+' : ''}${(result.p50 - off.p50).toFixed(2)} ms`
        print(`  ${row.name.padEnd(24)} ${String(result.n).padStart(6)} req  p50 ${result.p50.toFixed(2).padStart(6)} ms  p99 ${result.p99.toFixed(2).padStart(6)} ms  ${result.rps.toFixed(0).padStart(6)} req/s  ${versus}`)
        if (result.errors > 0) print(`    ${result.errors} errors, first: ${result.firstError ?? ''}`)
      }
    }
    print(`pages: ${pages.length}, ${(pages.reduce((sum, page) => sum + page.bytes(), 0) / 1024).toFixed(0)} KiB of snapshots read`)
  } finally {
    await Promise.all(pages.map((page) => page.close()))
    await Promise.all(pools.map((pool) => pool.close()))
    await host.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } })
  await run({ quick: values.quick })
}
