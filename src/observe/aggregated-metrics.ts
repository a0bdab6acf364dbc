/**
 * Counters and histograms for the per-request figures, kept in plain numbers per label set and
 * handed to prom-client's registry as metrics of its own (`get()` in the shape prom-client's own
 * metrics return), so that prom-client formats them with everything else. Why not prom-client's
 * Counter and Histogram: each `inc`/`observe` validates and hashes its label object again, ~0.4 µs
 * a call, and a request makes eight; here a request finds its label set once (one Map lookup)
 * and adds numbers. (Measured: 2.7 µs a request through prom-client's classes.)
 * @module
 */
import type { MetricValue, MetricValueWithName, Registry } from 'prom-client'

/** What prom-client's registry reads from a metric when it renders it. */
export interface MetricSnapshot<V> {
  name: string
  help: string
  type: 'counter' | 'histogram'
  aggregator: 'sum'
  values: V[]
}

/** Label values by name. */
export type Labels = Record<string, string>

/** One histogram's numbers for one label set. */
export class HistogramValues {
  /** Observations per bucket (not cumulative; the last one is `+Inf`). */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(buckets: readonly number[]) {
    this.counts = new Float64Array(buckets.length + 1)
  }
}

/** A histogram family: bucket bounds, and the values of each label set that was observed. */
export class AggregatedHistogram {
  readonly name: string
  readonly help: string
  readonly type = 'histogram' as const
  readonly aggregator = 'sum' as const
  readonly buckets: readonly number[]
  readonly #sets: Array<{ labels: Labels; values: HistogramValues }> = []

  constructor(registry: Registry, options: { name: string; help: string; buckets: readonly number[] }) {
    this.name = options.name
    this.help = options.help
    this.buckets = options.buckets
    registry.registerMetric(this as never)
  }

  /** The values of a label set (create once, keep the object, call {@link observe} on it). */
  values(labels: Labels): HistogramValues {
    const values = new HistogramValues(this.buckets)
    this.#sets.push({ labels, values })
    return values
  }

  observe(values: HistogramValues, value: number): void {
    const buckets = this.buckets
    let index = 0
    while (index < buckets.length && value > (buckets[index] as number)) index++
    values.counts[index] = (values.counts[index] as number) + 1
    values.sum += value
    values.count++
  }

  get(): MetricSnapshot<MetricValueWithName<string>> {
    const out: Array<MetricValueWithName<string>> = []
    for (const { labels, values } of this.#sets) {
      let cumulative = 0
      for (let index = 0; index <= this.buckets.length; index++) {
        cumulative += values.counts[index] as number
        out.push({ metricName: `${this.name}_bucket`, labels: { le: index < this.buckets.length ? (this.buckets[index] as number) : '+Inf', ...labels }, value: cumulative })
      }
      out.push({ metricName: `${this.name}_sum`, labels, value: values.sum })
      out.push({ metricName: `${this.name}_count`, labels, value: values.count })
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values: out }
  }

  reset(): void {
    this.#sets.length = 0
  }
}

/** A counter family whose values are read from the caller's own numbers when scraped. */
export class DerivedCounter {
  readonly name: string
  readonly help: string
  readonly type = 'counter' as const
  readonly aggregator = 'sum' as const
  readonly #read: () => Array<MetricValue<string>>

  constructor(registry: Registry, options: { name: string; help: string; read: () => Array<MetricValue<string>> }) {
    this.name = options.name
    this.help = options.help
    this.#read = options.read
    registry.registerMetric(this as never)
  }

  get(): MetricSnapshot<MetricValue<string>> {
    return { name: this.name, help: this.help, type: 'counter', aggregator: 'sum', values: this.#read() }
  }

  /** The numbers are the caller's: nothing to reset here. */
  reset(): void {}
}
