/**
 * Gateway overhead: in one run, against the same fake llama.cpp upstream (zero delay, 20 tokens,
 * 256 slots so it never queues), compare a direct call, the thinnest Node proxy (bench/pipe-proxy.ts)
 * and queuegate, non-stream and stream, at concurrency 1, 16 and 64: p50/p99 latency, time to the
 * first content delta (streams), req/s, and each against its baseline (direct unless said):
 * added ms at concurrency 1, throughput ratio at 16 and 64. A second section paces the tokens
 * (2 ms each) so time to first token shows whether a proxy streams or buffers.
 *
 * How it runs (layout `workers`, the default): the fake upstream runs in one worker thread, the
 * target under test (the pipe proxy or queuegate, each on its own port) in a second, and the
 * undici load client in the main thread, so no two of them share an event loop. Measured on this
 * 2-core machine (2026-11), `--layout inprocess` (all three on one loop) caps the direct baseline
 * at ~35-40k req/s instead of 45-80k and charges the client's and the upstream's work to every
 * proxy: the pipe added +2.0 ms p50 at concurrency 64 stream in-process against +1.2-1.6 ms in
 * workers, and queuegate's p99 there went to 100 ms. It is kept for comparison only. Each cell
 * runs in 6 rounds interleaved over the targets (a b c a b c …) after one warm-up pass over
 * all of them, so JIT warm-up and drift on a shared machine do not land on one target. Figures
 * still move by ±30% between runs at concurrency 16 and 64 when other processes use the CPUs;
 * the header prints the load average.
 *
 * Run: `node_modules/.bin/node --import tsx bench/gateway.ts [--quick] [--no-queuegate]
 * [--only name,name] [--layout workers|inprocess]`. The whole run takes ~70 s (`--quick` ~14 s).
 * @module
 */
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import type { Pool } from 'undici'
import { cpus, loadavg } from 'node:os'
import { startFakeUpstream } from '../test/e2e/fake-upstream.js'
import type { FakeResponseOptions } from '../test/e2e/fake-upstream.js'
import { BASELINE_BUILD, QUEUEGATE_BUILD, benchUpstreamOptions, probeQueuegate, startTarget } from './bench-targets.js'
import type { ObserveMode, StartedTarget, TargetKind } from './bench-targets.js'
import type { WorkerRequest } from './bench-worker.js'
import { createLoadPool, measure, summarize } from './load.js'
import type { LoadResult, LoadSample } from './load.js'

/** One thing to measure. Adding a comparison is adding one of these to {@link TARGETS}. */
export interface BenchTarget {
  /** Row label; also what `baseline` and `--only` refer to. */
  name: string
  kind: TargetKind
  /** Extra `createGateway` options (queuegate only). */
  gateway?: Record<string, unknown> | undefined
  /** Metrics and info logs on, as the CLI runs them (queuegate only): see bench-targets.ts. */
  observe?: ObserveMode | undefined
  /** Extra fields of every request body (e.g. `tools`). */
  body?: Record<string, unknown> | undefined
  /** The target this one is compared with, same mode and concurrency. @default 'direct' */
  baseline?: string | undefined
  /** Which modes to run. @default [false, true] (non-stream, stream) */
  streams?: boolean[] | undefined
  /** Which concurrencies to run. @default every concurrency of each section */
  concurrency?: number[] | undefined
}

/** One declared tool, for the tool-call detection comparison. */
export const BENCH_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
]

/** The default rows, in the order they print. */
export const TARGETS: BenchTarget[] = [
  { name: 'direct', kind: 'direct' },
  { name: 'pipe', kind: 'pipe' },
  { name: 'queuegate', kind: 'queuegate' },
  // `QUEUEGATE_BENCH_BASELINE=<folder of a build>`: that build beside this one, compared with it.
  ...(BASELINE_BUILD === undefined ? [] : [{ name: 'queuegate before', kind: 'queuegate-baseline' as const }]),
  // Tool-call detection on a plain answer with `tools` declared, on vs off (issue 4: ≤ 1 ms added TTFT).
  { name: 'qg tools, detect off', kind: 'queuegate', gateway: { textToolCalls: false }, body: { tools: BENCH_TOOLS }, streams: [true], concurrency: [1, 16] },
  { name: 'qg tools, detect on', kind: 'queuegate', gateway: { textToolCalls: true }, body: { tools: BENCH_TOOLS }, streams: [true], concurrency: [1, 16], baseline: 'qg tools, detect off' },
  // The reasoning split (the default) on a tag-free answer against keep (issue 11: within noise). Streams keep the
  // byte path (a byte-level trigger reads each event), whole answers pass unparsed (a byte check).
  { name: 'qg reasoning keep', kind: 'queuegate', gateway: { reasoning: 'keep' }, concurrency: [1, 16, 64] },
  { name: 'qg reasoning split', kind: 'queuegate', gateway: { reasoning: 'split' }, concurrency: [1, 16, 64], baseline: 'qg reasoning keep' },
  // Metrics (prom-client) and one JSON info line per request (pino), against both off (issue 13: within 5% at c=16).
  { name: 'qg metrics+logs', kind: 'queuegate', observe: 'json', concurrency: [1, 16], baseline: 'queuegate' },
]

/** Options of {@link run}. */
export interface BenchOptions {
  /** @default TARGETS */
  targets?: BenchTarget[] | undefined
  /** @default SECTIONS */
  sections?: BenchSection[] | undefined
  /** Measure queuegate rows; when false or when queuegate is not there yet, only direct and pipe. @default true */
  queuegate?: boolean | undefined
  /** Where the upstream and the target run; see the module comment. @default 'workers' */
  layout?: 'workers' | 'inprocess' | undefined
  /** A quarter of the requests and time, for a smoke run. @default false */
  quick?: boolean | undefined
  /** Where lines go. @default console.log */
  print?: ((line: string) => void) | undefined
}

/** A block of cells: modes × concurrencies, every target that runs them, one upstream pacing. */
export interface BenchSection {
  title: string
  streams: boolean[]
  concurrency: number[]
  /** Pacing of the fake's answers in this section (sent as `bench_upstream` in the body). */
  upstream?: FakeResponseOptions | undefined
  /** Requests per target and cell, and the cell's time cap (split over the rounds). */
  plan: (concurrency: number) => { requests: number; warmup: number; maxMs: number }
}

/**
 * The sections, in order. The first is the table. The second paces the answer (2 ms a
 * token, 40 ms an answer) so time to first token means something: at zero delay the whole answer
 * is one write and TTFT equals latency, so a proxy that buffers the stream would not show.
 */
export const SECTIONS: BenchSection[] = [
  {
    title: 'zero delay, 20 tokens',
    streams: [false, true],
    concurrency: [1, 16, 64],
    // Thousands of requests for a stable p99, capped in time so the whole run stays under a minute.
    plan: (concurrency) => ({ requests: concurrency === 1 ? 6000 : 36_000, warmup: Math.max(200, concurrency * 10), maxMs: 3000 }),
  },
  {
    title: 'paced: 20 tokens at 2 ms (40 ms an answer)',
    streams: [true],
    concurrency: [16],
    upstream: { tokenDelayMs: 2 },
    plan: () => ({ requests: 1440, warmup: 32, maxMs: 7500 }),
  },
]

/** Interleaved rounds per cell. */
const ROUNDS = 6

export interface Host {
  upstreamUrl: string
  probe(): Promise<string | undefined>
  start(target: BenchTarget): Promise<string>
  reset(): Promise<void>
  close(): Promise<void>
}

async function startInProcess(): Promise<Host> {
  const options = benchUpstreamOptions()
  const upstream = await startFakeUpstream(options)
  const started: StartedTarget[] = []
  return {
    upstreamUrl: upstream.url,
    probe: probeQueuegate,
    async start(target) {
      const one = await startTarget(target.kind, upstream.url, { slots: options.slots ?? 1, gateway: target.gateway, observe: target.observe })
      started.push(one)
      return one.url
    },
    async reset() {
      upstream.reset()
    },
    async close() {
      await Promise.all(started.map((t) => t.close()))
      await upstream.close()
    },
  }
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never
type Rpc = (request: WithoutId<WorkerRequest>) => Promise<unknown>

async function spawn(role: 'upstream' | 'proxy'): Promise<{ worker: Worker; url: string | undefined; rpc: Rpc }> {
  const worker = new Worker(new URL('./bench-worker.ts', import.meta.url), { workerData: { role } })
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  let nextId = 0
  const url = await new Promise<string | undefined>((resolve, reject) => {
    worker.once('error', reject)
    worker.once('message', (message: { url?: string }) => {
      worker.off('error', reject)
      resolve(message.url)
    })
  })
  worker.on('message', (message: { id: number; value?: unknown; error?: string }) => {
    const waiter = pending.get(message.id)
    pending.delete(message.id)
    if (message.error !== undefined) waiter?.reject(new Error(message.error))
    else waiter?.resolve(message.value)
  })
  worker.on('error', (error) => {
    for (const waiter of pending.values()) waiter.reject(error)
    pending.clear()
  })
  const rpc: Rpc = (request) =>
    new Promise((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject })
      worker.postMessage({ ...request, id })
    })
  return { worker, url, rpc }
}

export async function startWorkers(): Promise<Host> {
  const [upstream, proxy] = await Promise.all([spawn('upstream'), spawn('proxy')])
  const upstreamUrl = upstream.url
  if (upstreamUrl === undefined) throw new Error('the upstream worker did not report its URL')
  return {
    upstreamUrl,
    probe: async () => (await proxy.rpc({ op: 'probe' })) as string | undefined,
    start: async (target) => (await proxy.rpc({ op: 'start', kind: target.kind, upstreamUrl, slots: benchUpstreamOptions().slots ?? 1, gateway: target.gateway, observe: target.observe })) as string,
    reset: async () => {
      await upstream.rpc({ op: 'reset' })
    },
    async close() {
      await Promise.all([proxy.rpc({ op: 'close' }), upstream.rpc({ op: 'close' })])
      await Promise.all([proxy.worker.terminate(), upstream.worker.terminate()])
    },
  }
}

const fixed = (value: number, digits = 2): string => (Number.isNaN(value) ? '-' : value.toFixed(digits))
const pad = (text: string, width: number): string => (text.length >= width ? text : ' '.repeat(width - text.length) + text)
const padEnd = (text: string, width: number): string => (text.length >= width ? text : text + ' '.repeat(width - text.length))

function compare(result: LoadResult, base: LoadResult | undefined, concurrency: number, stream: boolean): string {
  if (base === undefined) return ''
  const parts = [`${result.p50 - base.p50 >= 0 ? '+' : ''}${fixed(result.p50 - base.p50)} ms p50`]
  if (stream) parts.push(`${result.ttftP50 - base.ttftP50 >= 0 ? '+' : ''}${fixed(result.ttftP50 - base.ttftP50)} ms ttft`)
  parts.push(`${fixed(result.rps / base.rps)}x req/s`)
  // The headline figure first: added time at concurrency 1, throughput at 16 and 64.
  return concurrency === 1 ? parts.join(', ') : [parts.at(-1), ...parts.slice(0, -1)].join(', ')
}

/** Runs the gateway benchmark and prints one row per target, mode and concurrency. */
export async function run(options: BenchOptions = {}): Promise<void> {
  const { targets = TARGETS, sections = SECTIONS, queuegate = true, layout = 'workers', quick = false, print = console.log } = options
  const started = performance.now()
  const host = layout === 'workers' ? await startWorkers() : await startInProcess()
  const pools = new Map<string, Pool>()
  try {
    let chosen = targets
    const reason = queuegate ? await host.probe() : 'disabled (--no-queuegate)'
    if (reason !== undefined) chosen = chosen.filter((t) => t.kind !== 'queuegate')
    print(
      `gateway bench: node ${process.version}, ${cpus().length} cpus (load avg ${loadavg()[0]!.toFixed(2)}), layout ${layout}${quick ? ', quick' : ''}; ` +
        `upstream: fake llama.cpp, 256 slots; ${ROUNDS} interleaved rounds per cell; queuegate from ${QUEUEGATE_BUILD}/`,
    )
    if (reason !== undefined) print(`queuegate rows skipped: ${reason}`)
    const urls = new Map<string, string>()
    for (const target of chosen) {
      try {
        urls.set(target.name, await host.start(target))
      } catch (error) {
        print(`${target.name}: skipped, did not start: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    const poolFor = (url: string): Pool => {
      let pool = pools.get(url)
      if (pool === undefined) {
        pool = createLoadPool(url, 128)
        pools.set(url, pool)
      }
      return pool
    }
    const bodyFor = (target: BenchTarget, stream: boolean, upstream: FakeResponseOptions | undefined): string =>
      JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'Say something.' }], stream, ...target.body, ...(upstream && { bench_upstream: upstream }) })
    // One warm-up pass over every target and mode before the first measured cell: a cold JIT
    // doubles the first cell's latency, and only the first cell would pay it.
    for (const target of chosen) {
      const url = urls.get(target.name)
      if (url === undefined) continue
      for (const stream of target.streams ?? [false, true]) {
        const cell = { path: '/v1/chat/completions', body: bodyFor(target, stream, undefined), stream, concurrency: 8, requests: 0, warmup: quick ? 400 : 2000, maxMs: quick ? 200 : 1000 }
        await measure(poolFor(url), cell)
      }
    }
    const results = new Map<string, LoadResult>()
    for (const section of sections) {
      print('')
      print(`${section.title}`)
      print(`${padEnd('target', 22)} ${padEnd('mode', 6)} ${pad('conc', 4)} ${pad('n', 6)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)} ${pad('ttft p50', 9)} ${pad('ttft p99', 9)} ${pad('req/s', 8)}  vs baseline`)
      const key = (name: string, stream: boolean, concurrency: number): string => `${section.title}|${name}|${stream}|${concurrency}`
      for (const stream of section.streams) {
        for (const concurrency of section.concurrency) {
          const cellTargets = chosen.filter(
            (t) => urls.has(t.name) && (t.streams ?? [false, true]).includes(stream) && (t.concurrency ?? section.concurrency).includes(concurrency),
          )
          // Rounds interleave the targets (a b c a b c a b c) so drift on a shared 2-core machine
          // (GC, another process, CPU frequency) spreads over all of them instead of one.
          const samples = new Map<string, LoadSample[]>()
          const planned = section.plan(concurrency)
          const scale = quick ? 0.2 : 1
          for (let round = 0; round < ROUNDS; round++) {
            for (const target of cellTargets) {
              await host.reset()
              const cell = {
                path: '/v1/chat/completions',
                body: bodyFor(target, stream, section.upstream),
                stream,
                concurrency,
                requests: Math.ceil((planned.requests * scale) / ROUNDS),
                warmup: round === 0 ? Math.ceil(planned.warmup * scale) : concurrency * 2,
                maxMs: (planned.maxMs * scale) / ROUNDS,
              }
              const sample = await measure(poolFor(urls.get(target.name)!), cell)
              samples.set(target.name, [...(samples.get(target.name) ?? []), sample])
            }
          }
          for (const target of cellTargets) {
            const result = summarize(samples.get(target.name) ?? [])
            results.set(key(target.name, stream, concurrency), result)
            const baseline = target.baseline ?? (target.name === 'direct' ? undefined : 'direct')
            const base = baseline === undefined ? undefined : results.get(key(baseline, stream, concurrency))
            const versus = base === undefined ? '' : `${compare(result, base, concurrency, stream)} (vs ${baseline})`
            print(
              `${padEnd(target.name, 22)} ${padEnd(stream ? 'stream' : 'json', 6)} ${pad(String(concurrency), 4)} ${pad(String(result.n), 6)} ${pad(fixed(result.p50), 8)} ${pad(fixed(result.p99), 8)} ${pad(fixed(result.ttftP50), 9)} ${pad(fixed(result.ttftP99), 9)} ${pad(fixed(result.rps, 0), 8)}  ${versus}`,
            )
            if (result.errors > 0) print(`  ${result.errors} errors, first: ${result.firstError ?? ''}`)
          }
        }
      }
    }
    print(`(${((performance.now() - started) / 1000).toFixed(1)} s)`)
  } finally {
    await Promise.all([...pools.values()].map((pool) => pool.close()))
    await host.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'no-queuegate': { type: 'boolean', default: false },
      only: { type: 'string' },
      layout: { type: 'string', default: 'workers' },
    },
  })
  const layout = values.layout
  if (layout !== 'workers' && layout !== 'inprocess') throw new Error(`--layout must be workers or inprocess, got ${JSON.stringify(layout)}`)
  const only = values.only?.split(',').map((name) => name.trim())
  const targets = only === undefined ? TARGETS : TARGETS.filter((t) => only.includes(t.name))
  await run({ targets, queuegate: !values['no-queuegate'], layout, quick: values.quick })
}
