/**
 * Scaling out over Redis (issue 14): what sharing the scheduler state costs and gives, in one run.
 *
 * - Round trips per job: Redis's own `INFO commandstats` (scripts run, PUBLISH excluded: those ride inside
 *   the scripts) before and after each cell, divided by the jobs: acquire + release, plus the heartbeats.
 * - Added latency at concurrency 1: one replica on Redis against the same gateway without it (in-memory
 *   state), non-stream and stream, interleaved rounds.
 * - Throughput at concurrency 64: one replica without Redis, one with, and two with (32 connections each).
 * - Contended: 2 replicas, an upstream with 4 slots, concurrency 16: jobs wait, so the global order works.
 *
 * Layout: the fake upstream (20 tokens, zero delay) runs in a worker thread, each replica is a
 * `bin/queuegate.js` process (dist/: run `npm run build` first), redis-server another process (started here
 * on a free port, no persistence), and the load client this thread. The machine's cores are shared by all of
 * them: on 2 cores a second replica cannot add throughput the way it does on a bigger machine.
 *
 * Run: `node_modules/.bin/node --import tsx bench/redis.ts [--quick] [--contended]` (`--contended`: that cell only) (under `flock /tmp/qg-cpu.lock` on a
 * shared machine).
 * @module
 */
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import { Redis } from 'ioredis'
import type { Pool } from 'undici'
import { freePort, startRedis } from '../test/scale/redis-server.js'
import type { TestRedis } from '../test/scale/redis-server.js'
import { createLoadPool, measure, summarize } from './load.js'
import type { LoadCell, LoadResult, LoadSample } from './load.js'

const root = fileURLToPath(new URL('..', import.meta.url))

interface Replica {
  url: string
  close(): Promise<void>
}

/** Starts `queuegate` from dist/ and resolves once it listens (15 s at most). */
async function startReplica(upstreamUrl: string, slots: number, redisUrl: string | undefined): Promise<Replica> {
  // Warnings only (no line per request, as the in-process gateway bench runs): the port is chosen here.
  const port = await freePort()
  const args = ['bin/queuegate.js', '--upstreams', `${upstreamUrl}/v1`, '--slots', String(slots), '--port', String(port), '--no-dashboard', '--no-metrics', '--no-model-discovery', '--health-interval', '0', '--log-level', 'warn']
  if (redisUrl !== undefined) args.push('--redis', redisUrl)
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH ?? '' } })
  child.stdout.resume()
  child.stderr.setEncoding('utf8')
  let output = ''
  child.stderr.on('data', (text: string) => {
    output = (output + text).slice(-8192)
  })
  const url = `http://127.0.0.1:${port}`
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`replica exited with ${child.exitCode}: ${output}`)
    const up = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false,
    )
    if (up) break
    if (attempt > 300) throw new Error(`replica did not start within 15 s: ${output}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    url,
    async close() {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** The fake upstream in its own thread (bench-worker.ts), with `slots` slots. */
async function startUpstream(slots: number): Promise<{ url: string; close(): Promise<void> }> {
  const worker = new Worker(new URL('./bench-worker.ts', import.meta.url), { workerData: { role: 'upstream', slots } })
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('error', reject)
    worker.once('message', (message: { url?: string }) => resolve(message.url as string))
  })
  return {
    url,
    async close() {
      await worker.terminate()
    },
  }
}

/** Scripts Redis ran so far (EVALSHA + EVAL). */
async function scriptCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats')
  let calls = 0
  for (const match of info.matchAll(/cmdstat_(evalsha|eval):calls=(\d+)/g)) calls += Number(match[2])
  return calls
}

function cell(stream: boolean, concurrency: number, requests: number): LoadCell {
  const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'hi' }], stream })
  return { path: '/v1/chat/completions', body, stream, concurrency, requests, maxMs: 60_000, warmup: Math.min(200, requests) }
}

/** The slowest request of the cells run so far (a stall would show here before it shows in p99). */
let maxLatency = 0

/** Runs `requests` over the pools at once (the concurrency split evenly), `rounds` times; one summary. */
async function run(pools: Pool[], stream: boolean, concurrency: number, requests: number, rounds: number): Promise<LoadResult[]> {
  const results: LoadResult[] = []
  for (let round = 0; round < rounds; round++) {
    const samples: LoadSample[] = await Promise.all(pools.map((pool) => measure(pool, cell(stream, Math.max(1, concurrency / pools.length), Math.ceil(requests / pools.length)))))
    // Parallel pools: their wall times overlap, so req/s is the sum of each pool's.
    const merged = summarize(samples)
    merged.rps = samples.reduce((sum, sample) => sum + summarize([sample]).rps, 0)
    for (const sample of samples) for (const latency of sample.latencies) if (latency > maxLatency) maxLatency = latency
    results.push(merged)
  }
  return results
}

function line(label: string, result: LoadResult, extra = ''): string {
  return `${label.padEnd(34)} n=${String(result.n).padStart(6)}  p50 ${result.p50.toFixed(3).padStart(7)} ms  p99 ${result.p99.toFixed(2).padStart(7)} ms  ${result.rps.toFixed(0).padStart(6)} req/s${result.errors > 0 ? `  ERRORS ${result.errors} (${result.firstError})` : ''}${extra}`
}

function merge(results: LoadResult[]): LoadResult {
  const n = results.reduce((sum, r) => sum + r.n, 0)
  return {
    n,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    firstError: results.find((r) => r.firstError !== undefined)?.firstError,
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    ttftP50: Number.NaN,
    ttftP99: Number.NaN,
    rps: results.reduce((sum, r) => sum + r.rps * r.n, 0) / n,
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, contended: { type: 'boolean' } } })
  if (!existsSync(new URL('../dist/cli/index.js', import.meta.url))) throw new Error('bench/redis.ts runs the built CLI: npm run build first')
  const quick = values.quick === true
  const rounds = quick ? 2 : 4
  const n1 = quick ? 500 : 1500
  const n64 = quick ? 4000 : 12_000
  console.log(`redis bench: node ${process.version}, ${cpus().length} cpus (load avg ${loadavg()[0]?.toFixed(2)}), ${rounds} interleaved rounds per cell; fake upstream 20 tokens, zero delay`)
  const redis: TestRedis = await startRedis()
  const stats = new Redis(redis.url, { lazyConnect: true })
  await stats.connect()
  const upstream = await startUpstream(256)
  const closers: Array<() => Promise<void>> = [async () => redis.close(), async () => void stats.disconnect(), () => upstream.close()]
  const pool = (replica: Replica, connections: number): Pool => {
    const created = createLoadPool(replica.url, connections)
    closers.unshift(() => created.close())
    return created
  }
  try {
    if (values.contended !== true) await uncontended({ upstream, redis, stats, pool, closers, rounds, n1, n64 })
    await Promise.all(closers.splice(0, closers.length - 3).map((close) => close()))
    // Contended: 4 slots shared by 2 replicas, jobs queue: registration, refusals, the global order.
    console.log('\ncontended: upstream with 4 slots, two Redis replicas, concurrency 16, stream')
    const small = await startUpstream(4)
    closers.unshift(() => small.close())
    const pair = [await startReplica(small.url, 4, redis.url), await startReplica(small.url, 4, redis.url)]
    closers.unshift(...pair.map((replica) => () => replica.close()))
    const pools16 = [pool(pair[0] as Replica, 8), pool(pair[1] as Replica, 8)]
    const requests = quick ? 1000 : 3000
    const before = await scriptCalls(stats)
    maxLatency = 0
    const contended = (await run(pools16, true, 16, requests, 1))[0] as LoadResult
    const calls = (await scriptCalls(stats)) - before
    console.log(line('  two replicas, Redis', contended, `  ${(calls / (contended.n + 2 * Math.min(200, Math.ceil(requests / 2)))).toFixed(2)} round trips/job, slowest ${maxLatency.toFixed(1)} ms`))
  } finally {
    for (const close of closers) await close().catch(() => undefined)
  }
}

/** Concurrency 1 and 64 on an upstream that never queues: without Redis, with it, and two replicas. */
async function uncontended(context: {
  upstream: { url: string }
  redis: TestRedis
  stats: Redis
  pool: (replica: Replica, connections: number) => Pool
  closers: Array<() => Promise<void>>
  rounds: number
  n1: number
  n64: number
}): Promise<void> {
  const { upstream, redis, stats, pool, closers, rounds, n1, n64 } = context
  {
    const plain = await startReplica(upstream.url, 256, undefined)
    const shared = [await startReplica(upstream.url, 256, redis.url), await startReplica(upstream.url, 256, redis.url)]
    closers.unshift(() => plain.close(), ...shared.map((replica) => () => replica.close()))
    const plain1 = pool(plain, 1)
    const shared1 = pool(shared[0] as Replica, 1)
    console.log('\nconcurrency 1 (the Redis replica alone: its twin idles)')
    for (const stream of [false, true]) {
      const without: LoadResult[] = []
      const withRedis: LoadResult[] = []
      let calls = 0
      let jobs = 0
      for (let round = 0; round < rounds; round++) {
        without.push(...(await run([plain1], stream, 1, n1, 1)))
        const before = await scriptCalls(stats)
        const result = (await run([shared1], stream, 1, n1, 1))[0] as LoadResult
        calls += (await scriptCalls(stats)) - before
        jobs += result.n + Math.min(200, n1)
        withRedis.push(result)
      }
      const a = merge(without)
      const b = merge(withRedis)
      console.log(line(`  ${stream ? 'stream' : 'json'}  in-memory state`, a))
      console.log(line(`  ${stream ? 'stream' : 'json'}  Redis state`, b, `  +${(b.p50 - a.p50).toFixed(3)} ms p50, ${(calls / jobs).toFixed(2)} round trips/job`))
    }
    console.log('\nconcurrency 64, stream')
    const plain64 = pool(plain, 64)
    const one64 = pool(shared[0] as Replica, 64)
    const two64 = [pool(shared[0] as Replica, 32), pool(shared[1] as Replica, 32)]
    const rows: Record<string, LoadResult[]> = { 'one replica, in-memory': [], 'one replica, Redis': [], 'two replicas, Redis': [] }
    let calls64 = 0
    let jobs64 = 0
    for (let round = 0; round < rounds; round++) {
      rows['one replica, in-memory']?.push(...(await run([plain64], true, 64, n64, 1)))
      rows['one replica, Redis']?.push(...(await run([one64], true, 64, n64, 1)))
      const before = await scriptCalls(stats)
      const two = (await run(two64, true, 64, n64, 1))[0] as LoadResult
      calls64 += (await scriptCalls(stats)) - before
      jobs64 += two.n + 2 * Math.min(200, Math.ceil(n64 / 2))
      rows['two replicas, Redis']?.push(two)
    }
    const base = merge(rows['one replica, in-memory'] as LoadResult[])
    for (const [label, results] of Object.entries(rows)) {
      const merged = merge(results)
      console.log(line(`  ${label}`, merged, label === 'two replicas, Redis' ? `  ${(merged.rps / base.rps).toFixed(2)}x req/s, ${(calls64 / jobs64).toFixed(2)} round trips/job` : label.includes('Redis') ? `  ${(merged.rps / base.rps).toFixed(2)}x req/s` : ''))
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now()
  await main()
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`)
}
