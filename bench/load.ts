/**
 * The benchmark's load client: an undici `Pool` per target, a fixed number of requests at a fixed
 * concurrency (bounded in count and time), per-request latency and, for streams, time to the
 * first data event carrying a content delta.
 * @module
 */
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'

/** One measured cell: this many requests of this body at this concurrency. */
export interface LoadCell {
  /** Request path, e.g. `/v1/chat/completions`. */
  path: string
  /** The JSON body, serialized once. */
  body: string
  stream: boolean
  concurrency: number
  /** Requests to measure; the cell also stops at `maxMs`. */
  requests: number
  maxMs: number
  /** Unmeasured requests first, at the same concurrency. */
  warmup: number
}

/** Figures of one cell. Times in ms. */
export interface LoadResult {
  /** Requests measured (completed, including failed ones). */
  n: number
  /** Requests that failed: non-200 status, a stream without content or `[DONE]`, a network error. */
  errors: number
  /** The first failure, for the report. */
  firstError: string | undefined
  p50: number
  p99: number
  /** Time to the first content delta (streams only, else NaN). */
  ttftP50: number
  ttftP99: number
  /** Completed requests per second over the cell's wall time. */
  rps: number
}

/** Creates the load client's pool for one origin, with a connection per concurrent request. */
export function createLoadPool(origin: string, connections: number): Pool {
  return new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000 })
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!
}

const DONE = 'data: [DONE]'

/** True when one SSE event (without its blank line) is a JSON chunk with a non-empty `choices[0].delta.content`. */
function hasContent(event: string): boolean {
  if (!event.startsWith('data: ') || event.startsWith(DONE)) return false
  // Cheap pre-check so role and empty chunks are not parsed twice.
  if (!event.includes('"content":"')) return false
  try {
    const chunk = JSON.parse(event.slice(6)) as { choices?: Array<{ delta?: { content?: unknown } }> }
    const content = chunk.choices?.[0]?.delta?.content
    return typeof content === 'string' && content !== ''
  } catch {
    return false
  }
}

interface One {
  latency: number
  ttft: number
  error: string | undefined
}

async function one(pool: Pool, cell: LoadCell): Promise<One> {
  const started = performance.now()
  let ttft = Number.NaN
  try {
    const { statusCode, body } = await pool.request({
      path: cell.path,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: cell.body,
    })
    if (!cell.stream) {
      // Read like a stream (not body.text()) so both modes pay the same client cost.
      const parts: Buffer[] = []
      for await (const part of body) parts.push(part as Buffer)
      const latency = performance.now() - started
      const text = Buffer.concat(parts).toString('utf8')
      const ok = statusCode === 200 && text.includes('"finish_reason"')
      return { latency, ttft, error: ok ? undefined : `status ${statusCode}: ${text.slice(0, 200)}` }
    }
    // Parse events only until the first content delta; after that keep just the tail for [DONE].
    let pending = ''
    let tail = ''
    for await (const part of body) {
      const text = (part as Buffer).toString('utf8')
      if (Number.isNaN(ttft)) {
        pending += text
        let end: number
        while (Number.isNaN(ttft) && (end = pending.indexOf('\n\n')) >= 0) {
          if (hasContent(pending.slice(0, end))) ttft = performance.now() - started
          pending = pending.slice(end + 2)
        }
        tail = (tail + text).slice(-64)
      } else {
        tail = (tail + text).slice(-64)
      }
    }
    const latency = performance.now() - started
    let error: string | undefined
    if (statusCode !== 200) error = `status ${statusCode}: ${tail}`
    else if (Number.isNaN(ttft)) error = 'stream without a content delta'
    else if (!tail.includes(DONE)) error = `stream did not end with [DONE]: ${JSON.stringify(tail)}`
    return { latency, ttft, error }
  } catch (error) {
    return { latency: performance.now() - started, ttft, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }
  }
}

async function drive(pool: Pool, cell: LoadCell, count: number, maxMs: number, record: ((result: One) => void) | undefined): Promise<number> {
  const deadline = performance.now() + maxMs
  let issued = 0
  const worker = async (): Promise<void> => {
    while (issued < count && performance.now() < deadline) {
      issued++
      const result = await one(pool, cell)
      record?.(result)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: cell.concurrency }, worker))
  return performance.now() - started
}

/** The raw measurements of one run of a cell; several runs of a cell merge with {@link summarize}. */
export interface LoadSample {
  latencies: number[]
  ttfts: number[]
  errors: number
  firstError: string | undefined
  /** Wall time of the measured part, ms. */
  wallMs: number
}

/** Runs one cell against `pool`: the warm-up, then the measured requests. */
export async function measure(pool: Pool, cell: LoadCell): Promise<LoadSample> {
  await drive(pool, cell, cell.warmup, cell.maxMs, undefined)
  const sample: LoadSample = { latencies: [], ttfts: [], errors: 0, firstError: undefined, wallMs: 0 }
  sample.wallMs = await drive(pool, cell, cell.requests, cell.maxMs, (result) => {
    sample.latencies.push(result.latency)
    if (!Number.isNaN(result.ttft)) sample.ttfts.push(result.ttft)
    if (result.error !== undefined) {
      sample.errors++
      sample.firstError ??= result.error
    }
  })
  return sample
}

/** Percentiles and throughput over one or more samples of the same cell (req/s over their summed wall time). */
export function summarize(samples: LoadSample[]): LoadResult {
  const sortedLatency = Float64Array.from(samples.flatMap((s) => s.latencies)).sort()
  const sortedTtft = Float64Array.from(samples.flatMap((s) => s.ttfts)).sort()
  const errors = samples.reduce((sum, s) => sum + s.errors, 0)
  const wallMs = samples.reduce((sum, s) => sum + s.wallMs, 0)
  return {
    n: sortedLatency.length,
    errors,
    firstError: samples.find((s) => s.firstError !== undefined)?.firstError,
    p50: percentile(sortedLatency, 0.5),
    p99: percentile(sortedLatency, 0.99),
    ttftP50: percentile(sortedTtft, 0.5),
    ttftP99: percentile(sortedTtft, 0.99),
    rps: ((sortedLatency.length - errors) * 1000) / wallMs,
  }
}

/** Runs one cell against `pool` once and summarizes it. */
export async function runLoad(pool: Pool, cell: LoadCell): Promise<LoadResult> {
  return summarize([await measure(pool, cell)])
}
