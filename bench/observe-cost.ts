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
 * Modes: `off` (no metrics, no logs), `json` (prom-client metrics with process metrics, a pino
 * JSON line a request at info, asynchronous 4 KiB writes to /dev/null: as `--log-format json`
 * runs), `text` (the same metrics, a text line a request through `process.stderr.write`: the
 * CLI's default format).
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

async function countOne(upstreamUrl: string, mode: string, dir: string): Promise<Counted[]> {
  const out = join(dir, `${mode}.%p`)
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`, `--log-file=${join(dir, `${mode}.log`)}`, process.execPath, ...nodeFlags, new URL('./observe-cost-target.ts', import.meta.url).pathname, upstreamUrl, mode],
    { stdio: ['ignore', 'pipe', 'ignore'] },
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

const upstream = await startFakeUpstream(benchUpstreamOptions())
const dir = mkdtempSync(join(tmpdir(), 'qg-callgrind-'))
try {
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
} finally {
  await upstream.close()
  rmSync(dir, { recursive: true, force: true })
}
