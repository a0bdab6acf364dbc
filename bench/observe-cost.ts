/**
 * What metrics and logs cost per request, counted in instructions rather than timed: the gateway
 * runs in a process of its own under valgrind's callgrind (`bench/observe-cost-target.ts`, from
 * dist/), the fake upstream and the load client in this one. After a warm-up (the JIT settles),
 * instrumentation is switched on for a fixed number of requests at a fixed concurrency, and the
 * instructions the gateway process executed (every thread: the main loop, GC and compiler
 * threads, libuv's pool) are divided by the requests. On a shared 2-core machine where req/s
 * moves ±10% between runs, this figure moves by well under 1%, so a 5% budget can be checked.
 * Kernel work (the syscalls of a write) is not counted: the req/s rows of bench/gateway.ts are the
 * other half of the picture.
 *
 * Modes: `off` (no metrics, no logs), `events` (a listener that does nothing), `metrics`
 * (prom-client metrics with process metrics, no logs), `json` (the metrics and a JSON line a
 * request at info, written in 4 KiB blocks to /dev/null: as `--log-format json` runs), `text`
 * (the metrics and a text line a request, the CLI's default format, to a stderr that is not a
 * terminal), `before` (`off` on another build: the folder `QUEUEGATE_BENCH_BASELINE` names, as in
 * bench/gateway.ts, so that a change's cost per request is read against the build before it).
 *
 * Run (builds nothing: run `npm run build` first):
 * `node --import tsx bench/observe-cost.ts [--requests 2000] [--warmup 6000] [--concurrency 16]
 * [--modes off,json,text] [--repeat 1]`. Each mode takes ~1-2 minutes under callgrind.
 * @module
 */
import { spawn, execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs, promisify } from 'node:util'
import { startFakeUpstream } from '../test/e2e/fake-upstream.js'
import { benchUpstreamOptions } from './bench-targets.js'
import { createLoadPool, measure } from './load.js'

const run = promisify(execFile)

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '6000' },
    concurrency: { type: 'string', default: '16' },
    modes: { type: 'string', default: 'off,json,text' },
    repeat: { type: 'string', default: '1' },
    windows: { type: 'string', default: '5' },
    'node-flags': { type: 'string', default: '' },
    cpu: { type: 'boolean', default: false },
  },
})
const requests = Number(values.requests)
const warmup = Number(values.warmup)
const concurrency = Number(values.concurrency)
const modes = values.modes.split(',').map((mode) => mode.trim())
const repeat = Number(values.repeat)
const windows = Number(values.windows)
const nodeFlags = values['node-flags'].split(' ').filter((flag) => flag !== '')
if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('dist/ is missing: run `npm run build` first')

interface Counted {
  mode: string
  stream: boolean
  perRequest: number
  errors: number
}

const body = (stream: boolean): string => JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'Say something.' }], stream })

/** Total instructions (`Ir`) of one callgrind dump file. */
function instructionsOf(file: string): number {
  const match = /^totals: (\d+)/m.exec(readFileSync(file, 'utf8'))
  if (match === null) throw new Error(`no totals in ${file}`)
  return Number(match[1])
}

/** The gateway process's arguments: the target script, the upstream, and its mode (`before` runs `off`). */
function targetArgs(upstreamUrl: string, mode: string): string[] {
  return [new URL('./observe-cost-target.ts', import.meta.url).pathname, upstreamUrl, mode === 'before' ? 'off' : mode]
}

/** The gateway process's environment: for `before`, the build to load (`QUEUEGATE_BENCH_BASELINE`). */
function targetEnv(mode: string): NodeJS.ProcessEnv {
  if (mode !== 'before') return process.env
  const baseline = process.env['QUEUEGATE_BENCH_BASELINE']
  if (baseline === undefined || !existsSync(join(baseline, 'index.js'))) throw new Error('mode before: set QUEUEGATE_BENCH_BASELINE to the dist/ folder of the build to compare with')
  return { ...process.env, QUEUEGATE_COST_DIST: baseline }
}

async function countOne(upstreamUrl: string, mode: string, dir: string): Promise<Counted[]> {
  const out = join(dir, `${mode}.%p`)
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`, `--log-file=${join(dir, `${mode}.log`)}`, process.execPath, ...nodeFlags, ...targetArgs(upstreamUrl, mode)],
    { stdio: ['ignore', 'pipe', 'ignore'], env: targetEnv(mode) },
  )
  const pid = String(child.pid)
  const control = (...args: string[]): Promise<unknown> => run('callgrind_control', [...args, pid], { timeout: 120_000 })
  try {
    const lines = createInterface({ input: child.stdout })
    const [url] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => Promise.reject(new Error(`the ${mode} gateway exited before it listened`)))])) as [string]
    const pool = createLoadPool(url, concurrency * 2)
    const results: Counted[] = []
    try {
      for (const stream of [false, true]) await measure(pool, { path: '/v1/chat/completions', body: body(stream), stream, concurrency, requests: 0, warmup, maxMs: 600_000 })
      await control('--instr=on')
      // Unmeasured: valgrind translates the code again once instrumentation is on.
      for (const stream of [false, true]) await measure(pool, { path: '/v1/chat/completions', body: body(stream), stream, concurrency, requests: 0, warmup: 200, maxMs: 600_000 })
      for (let window = 0; window < windows; window++) {
        for (const stream of [false, true]) {
          await control('--zero')
          const sample = await measure(pool, { path: '/v1/chat/completions', body: body(stream), stream, concurrency, requests, warmup: 0, maxMs: 600_000 })
          const before = new Set(readdirSync(dir))
          await control(`--dump=${mode}-${stream ? 'stream' : 'json'}-${window}`)
          const dumped = readdirSync(dir).filter((name) => !before.has(name) && name.startsWith(`${mode}.${pid}`))
          if (dumped.length !== 1) throw new Error(`expected one new dump, found ${dumped.join(', ') || 'none'}`)
          results.push({ mode, stream, perRequest: instructionsOf(join(dir, dumped[0] as string)) / sample.latencies.length, errors: sample.errors })
        }
      }
    } finally {
      await pool.close()
    }
    return results
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
}

/** CPU time (user + system, ms) a process has used so far, from /proc (10 ms ticks). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  // utime and stime are the stat file's 14th and 15th fields (the 12th and 13th after the command).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

/**
 * `--cpu`: no valgrind. Every mode's gateway runs at once, natively, and windows of requests go
 * to them in turn (off json text off json text …) so drift lands on all of them; the figure is the
 * CPU time (user + system: the writes' syscalls count here) the gateway process used per request.
 */
async function cpuTimes(upstreamUrl: string): Promise<void> {
  const children = modes.map((mode) => ({ mode, child: spawn(process.execPath, [...nodeFlags, ...targetArgs(upstreamUrl, mode)], { stdio: ['ignore', 'pipe', 'ignore'], env: targetEnv(mode) }) }))
  try {
    const targets = await Promise.all(
      children.map(async ({ mode, child }) => {
        const [url] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
        return { mode, pid: child.pid as number, pool: createLoadPool(url, concurrency * 2), figures: { json: [] as number[], stream: [] as number[] } }
      }),
    )
    for (const target of targets) for (const stream of [false, true]) await measure(target.pool, { path: '/v1/chat/completions', body: body(stream), stream, concurrency, requests: 0, warmup, maxMs: 600_000 })
    for (let window = 0; window < windows; window++) {
      for (const stream of [false, true]) {
        for (const target of targets) {
          const before = cpuMs(target.pid)
          const sample = await measure(target.pool, { path: '/v1/chat/completions', body: body(stream), stream, concurrency, requests, warmup: 0, maxMs: 600_000 })
          if (sample.errors > 0) throw new Error(`${target.mode}: ${sample.errors} errors, first: ${sample.firstError}`)
          target.figures[stream ? 'stream' : 'json'].push(((cpuMs(target.pid) - before) * 1000) / sample.latencies.length)
        }
      }
    }
    const median = (numbers: number[]): number => [...numbers].sort((a, b) => a - b)[Math.floor((numbers.length - 1) / 2)] as number
    console.log(`observe cost: gateway CPU time per request (user + system), c=${concurrency}, ${windows} windows of ${requests} requests per mode and kind, interleaved; node ${process.version}`)
    for (const target of targets) {
      for (const kind of ['json', 'stream'] as const) {
        const mine = target.figures[kind]
        const off = targets.find((one) => one.mode === 'off')?.figures[kind]
        const versus = off === undefined || target.mode === 'off' ? '' : `  ${(median(mine) / median(off)).toFixed(3)}x off`
        console.log(`${target.mode.padEnd(5)} ${kind.padEnd(6)} median ${median(mine).toFixed(1).padStart(6)} µs/request (windows: ${mine.map((one) => one.toFixed(1)).join(' ')})${versus}`)
      }
    }
    await Promise.all(targets.map((target) => target.pool.close()))
  } finally {
    for (const { child } of children) child.kill('SIGTERM')
  }
}

const upstream = await startFakeUpstream(benchUpstreamOptions())
const dir = mkdtempSync(join(tmpdir(), 'qg-callgrind-'))
try {
  if (values.cpu) {
    await cpuTimes(upstream.url)
    process.exitCode = 0
  } else {
  console.log(`observe cost: callgrind instructions per request, gateway from dist/, c=${concurrency}, ${requests} requests per cell after ${warmup} warm-up ones per mode; node ${process.version}`)
  const all: Counted[] = []
  const median = (numbers: number[]): number => {
    const sorted = [...numbers].sort((a, b) => a - b)
    return sorted.length % 2 === 1 ? (sorted[(sorted.length - 1) / 2] as number) : ((sorted[sorted.length / 2 - 1] as number) + (sorted[sorted.length / 2] as number)) / 2
  }
  const figures = (mode: string, stream: boolean, round?: number): number[] =>
    all.filter((one, index) => one.mode === mode && one.stream === stream && (round === undefined || Math.floor(index / (modes.length * windows * 2)) === round)).map((one) => one.perRequest)
  for (let round = 0; round < repeat; round++) {
    for (const mode of modes) {
      const counted = await countOne(upstream.url, mode, dir)
      all.push(...counted)
      for (const stream of [false, true]) {
        const mine = figures(mode, stream, round)
        const off = figures('off', stream, round)
        const versus = mode === 'off' || off.length === 0 ? '' : `  ${(median(mine) / median(off)).toFixed(3)}x off (${median(mine) - median(off) >= 0 ? '+' : ''}${Math.round(median(mine) - median(off))})`
        const errors = counted.reduce((sum, one) => sum + one.errors, 0)
        console.log(`${mode.padEnd(5)} ${stream ? 'stream' : 'json  '} median ${Math.round(median(mine)).toString().padStart(8)} instr/request (windows: ${mine.map((one) => Math.round(one / 1000)).join(' ')} k)${versus}${errors > 0 ? `  ${errors} errors` : ''}`)
      }
    }
  }
  if (repeat > 1) {
    console.log('all rounds:')
    for (const mode of modes) {
      for (const stream of [false, true]) {
        const off = figures('off', stream)
        const mine = figures(mode, stream)
        console.log(`${mode.padEnd(5)} ${stream ? 'stream' : 'json  '} median ${Math.round(median(mine)).toString().padStart(8)}${mode === 'off' ? '' : `  ${(median(mine) / median(off)).toFixed(3)}x off`}`)
      }
    }
  }
  }
} finally {
  await upstream.close()
  rmSync(dir, { recursive: true, force: true })
}
