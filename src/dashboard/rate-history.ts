/**
 * Figures per time bucket over the last minutes (the dashboard's small charts): a fixed ring of
 * buckets per series, so memory does not grow with traffic and recording is a few array writes.
 * @module
 */

/** The series a {@link RateHistory} keeps, one number per bucket each. */
export const RATE_SERIES = ['requests', 'errors', 'tokens', 'waitMs', 'queued'] as const

/** One series' name. */
export type RateSeries = (typeof RATE_SERIES)[number]

/** The history as the dashboard sends it: oldest bucket first, the last one still filling. */
export interface RateHistorySnapshot {
  bucketMs: number
  /** Wall-clock start (ms since the epoch) of the first bucket. */
  start: number
  /** Ended requests per bucket. */
  requests: number[]
  /** Requests that ended with an error status or an error event. */
  errors: number[]
  /** Completion tokens of the requests that reported them. */
  tokens: number[]
  /** Summed queue wait of the ended requests (divide by `requests` for the mean). */
  waitMs: number[]
  /** Most jobs waiting at once, as seen when jobs were queued. */
  queued: number[]
}

/** Options of {@link RateHistory}. */
export interface RateHistoryOptions {
  /** @default 10 000 */
  bucketMs?: number | undefined
  /** @default 60 (ten minutes of 10 s buckets) */
  buckets?: number | undefined
}

/** Counts per bucket of wall-clock time; see the module doc. */
export class RateHistory {
  readonly #bucketMs: number
  readonly #size: number
  readonly #series: Record<RateSeries, Float64Array>
  /** Absolute number (time / bucketMs) of the newest bucket. */
  #current = Number.NEGATIVE_INFINITY

  constructor(options: RateHistoryOptions = {}) {
    const { bucketMs = 10_000, buckets = 60 } = options
    this.#bucketMs = bucketMs
    this.#size = buckets
    this.#series = { requests: new Float64Array(buckets), errors: new Float64Array(buckets), tokens: new Float64Array(buckets), waitMs: new Float64Array(buckets), queued: new Float64Array(buckets) }
  }

  /** Adds `value` to a series in the bucket of `now`. */
  add(now: number, series: RateSeries, value: number): void {
    const at = this.#advance(now)
    const values = this.#series[series]
    values[at] = (values[at] as number) + value
  }

  /** Raises a series to `value` in the bucket of `now` (a maximum, not a sum). */
  max(now: number, series: RateSeries, value: number): void {
    const at = this.#advance(now)
    const values = this.#series[series]
    if ((values[at] as number) < value) values[at] = value
  }

  /** Every series, oldest bucket first, ending with the bucket of `now`. */
  snapshot(now: number): RateHistorySnapshot {
    const newest = this.#advance(now)
    const read = (values: Float64Array): number[] => {
      const out = new Array<number>(this.#size)
      for (let i = 0; i < this.#size; i++) out[i] = values[(newest + 1 + i) % this.#size] as number
      return out
    }
    return {
      bucketMs: this.#bucketMs,
      start: (this.#current - this.#size + 1) * this.#bucketMs,
      requests: read(this.#series.requests),
      errors: read(this.#series.errors),
      tokens: read(this.#series.tokens),
      waitMs: read(this.#series.waitMs),
      queued: read(this.#series.queued),
    }
  }

  /** Moves the ring to the bucket of `now` (clearing the buckets it passes) and returns its index. */
  #advance(now: number): number {
    const bucket = Math.floor(now / this.#bucketMs)
    if (bucket > this.#current) {
      const passed = Math.min(this.#size, this.#current === Number.NEGATIVE_INFINITY ? this.#size : bucket - this.#current)
      for (let i = 1; i <= passed; i++) {
        const at = (((bucket - passed + i) % this.#size) + this.#size) % this.#size
        for (const name of RATE_SERIES) this.#series[name][at] = 0
      }
      this.#current = bucket
    }
    // A clock that steps back lands in the newest bucket rather than rewriting history.
    return ((this.#current % this.#size) + this.#size) % this.#size
  }
}
