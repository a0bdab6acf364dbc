/**
 * What the gateway learns of how conversations come back, for cache-aware eviction: the time from the end of a
 * turn to the next request that continues its prompt (the return gap), and how often a turn is never continued,
 * per conversation depth (many workloads end conversations at a typical depth: an agent's task, a scripted chat).
 * Pure, no I/O, bounded in memory.
 * @module
 */

/** Gap histogram: bin i holds gaps in [FIRST_BIN_MS × GROWTH^i, FIRST_BIN_MS × GROWTH^(i+1)); bin 0 also holds shorter ones. */
const FIRST_BIN_MS = 1
const GROWTH = 1.25
const BINS = 73 // up to about 3.3 hours
/** Observations kept before the counts are halved, so the estimate follows a changing workload. */
const HALVE_AT = 2_000
/** A turn not continued within this many times the largest gap seen (at least MIN_HORIZON_MS) counts as never continued. */
const HORIZON_FACTOR = 2
const MIN_HORIZON_MS = 60_000
const MAX_HORIZON_MS = 3_600_000
/** Returns observed before the estimate is trusted; until then {@link ReturnGaps.outlook} says nothing. */
const MIN_OBSERVATIONS = 8
/** Conversation depths (turns) learnt apart; deeper ones share the last. Depth 0: unknown. */
const DEPTHS = 65
/** Weight, in turns, of the overall continuation rate in each depth's own (so a depth seen a few times stays near it). */
const DEPTH_PRIOR = 4

/** How a prompt idle for some time is expected to come back. */
export interface ReturnOutlook {
  /** Probability that it is continued at all. */
  readonly probability: number
  /** Expected time until it is, given that it is, in ms. */
  readonly remainingMs: number
  /**
   * Given that it is continued, the chance that this comes before its slot is overwritten anyway, when overwrites
   * come at random with a mean time of `keepMs` apart (the mean of e^(−remaining / keepMs)); 1 without `keepMs`.
   */
  readonly beforeOverwrite: number
}

/** Options of {@link ReturnGaps}. */
export interface ReturnGapsOptions {
  /** Most finished turns awaiting their continuation. @default 20_000 */
  maxPending?: number | undefined
}

/**
 * Learns the distribution of return gaps from what it is told: {@link ReturnGaps.ended} when a turn ends (keyed by
 * the hash of its whole prompt), {@link ReturnGaps.arrived} when a request comes (its prefix hashes; one of them is a
 * pending turn's when it continues that turn). Turns pending longer than a horizon (twice the largest gap seen, 1 min
 * to 1 h) count as not continued. The share continued is kept per depth (the turn's user and tool messages, up to
 * 64), each drawn toward the overall share while it has few turns. O(blocks) per arrival, O(bins) per outlook.
 */
export class ReturnGaps {
  readonly #counts = new Float64Array(BINS)
  readonly #sums = new Float64Array(BINS)
  #observed = 0
  #returned = 0
  #expired = 0
  #maxGapMs = 0
  /** Per conversation depth: turns continued and turns not continued. */
  readonly #returnedAt = new Float64Array(DEPTHS)
  readonly #expiredAt = new Float64Array(DEPTHS)
  /** Prompt hash → end time and depth, in end order (ends come in time order, so the front is the oldest). */
  readonly #pending = new Map<string, { at: number; depth: number }>()
  readonly #maxPending: number

  constructor(options: ReturnGapsOptions = {}) {
    this.#maxPending = options.maxPending ?? 20_000
    if (!Number.isInteger(this.#maxPending) || this.#maxPending < 1) throw new TypeError(`maxPending must be an integer >= 1, got ${JSON.stringify(options.maxPending)}`)
  }

  /** Turns awaiting their continuation. */
  get pending(): number {
    return this.#pending.size
  }

  /** A turn whose prompt's last prefix hash is `hash` ended at `at`; `turns`: the conversation's depth, when known. */
  ended(hash: string, at: number, turns?: number | undefined): void {
    this.#expire(at)
    this.#pending.delete(hash)
    this.#pending.set(hash, { at, depth: depthOf(turns) })
    if (this.#pending.size > this.#maxPending) this.#pending.delete(this.#pending.keys().next().value as string)
  }

  /** A request with these prefix hashes arrived at `at`: when it continues a pending turn, the gap is learnt. Returns the gap, if any. */
  arrived(hashes: readonly string[], at: number): number | undefined {
    this.#expire(at)
    for (let index = hashes.length - 1; index >= 0; index--) {
      const hash = hashes[index] as string
      const ended = this.#pending.get(hash)
      if (ended === undefined) continue
      this.#pending.delete(hash)
      const gap = Math.max(0, at - ended.at)
      this.#observe(gap, ended.depth)
      return gap
    }
    return undefined
  }

  /**
   * The outlook of a prompt idle for `idleMs`, `turns` deep: the probability it is continued (from the share of turns
   * of that depth continued, and the gaps longer than `idleMs`) and the expected time until then. Undefined until
   * enough returns were seen. With `keepMs`, also the chance it comes back before an overwrite (see
   * {@link ReturnOutlook.beforeOverwrite}).
   */
  outlook(idleMs: number, turns?: number | undefined, keepMs?: number | undefined): ReturnOutlook | undefined {
    if (this.#observed < MIN_OBSERVATIONS) return undefined
    const continued = this.#continued(depthOf(turns))
    const decay = keepMs === undefined || !(keepMs > 0) ? 0 : 1 / keepMs
    let above = 0
    let remaining = 0
    let kept = 0
    for (let bin = BINS - 1; bin >= 0; bin--) {
      const count = this.#counts[bin] as number
      if (count === 0) continue
      const low = bin === 0 ? 0 : FIRST_BIN_MS * GROWTH ** bin
      const high = FIRST_BIN_MS * GROWTH ** (bin + 1)
      if (high <= idleMs) break
      const mean = (this.#sums[bin] as number) / count
      if (low >= idleMs) {
        above += count
        remaining += count * (mean - idleMs)
        kept += count * Math.exp(-(mean - idleMs) * decay)
      } else {
        // The bin straddles idleMs: its gaps taken as spread evenly over the bin.
        const share = (high - idleMs) / (high - low)
        above += count * share
        remaining += count * share * ((high - idleMs) / 2)
        kept += count * share * Math.exp(-((high - idleMs) / 2) * decay)
      }
    }
    const total = this.#total()
    if (above === 0 || total === 0) return { probability: 0, remainingMs: Number.POSITIVE_INFINITY, beforeOverwrite: 0 }
    const survive = continued * (above / total)
    return { probability: survive / (survive + (1 - continued)), remainingMs: Math.max(0, remaining / above), beforeOverwrite: kept / above }
  }

  /**
   * How soon a turn `turns` deep comes back, when it does so quickly: the smallest gap within which at least `share` of
   * the continued turns came back, if that is at most `withinMs`, with the chance that such a turn is continued at
   * all. Undefined until enough returns were seen, or when returns are not that quick. O(bins).
   */
  quickReturn(turns: number | undefined, withinMs: number, share = 0.8): { gapMs: number; probability: number } | undefined {
    if (this.#observed < MIN_OBSERVATIONS) return undefined
    const total = this.#total()
    if (total === 0) return undefined
    let seen = 0
    for (let bin = 0; bin < BINS; bin++) {
      const high = FIRST_BIN_MS * GROWTH ** (bin + 1)
      if (high > withinMs) return undefined
      seen += this.#counts[bin] as number
      if (seen >= share * total) return { gapMs: high, probability: this.#continued(depthOf(turns)) }
    }
    return undefined
  }

  /** Share of turns continued at this depth: its own counts, drawn toward the overall share while they are few. */
  #continued(depth: number): number {
    const overall = (this.#returned + 1) / (this.#returned + this.#expired + 2)
    if (depth === 0) return overall
    const returned = this.#returnedAt[depth] as number
    return (returned + DEPTH_PRIOR * overall) / (returned + (this.#expiredAt[depth] as number) + DEPTH_PRIOR)
  }

  #observe(gap: number, depth: number): void {
    const bin = gap < FIRST_BIN_MS ? 0 : Math.min(BINS - 1, Math.floor(Math.log(gap / FIRST_BIN_MS) / Math.log(GROWTH)))
    this.#counts[bin] = (this.#counts[bin] as number) + 1
    this.#sums[bin] = (this.#sums[bin] as number) + gap
    this.#maxGapMs = Math.max(this.#maxGapMs, gap)
    this.#observed++
    this.#returned++
    this.#returnedAt[depth] = (this.#returnedAt[depth] as number) + 1
    this.#halveWhenFull()
  }

  #halveWhenFull(): void {
    if (this.#returned + this.#expired <= HALVE_AT) return
    for (let index = 0; index < BINS; index++) {
      this.#counts[index] = (this.#counts[index] as number) / 2
      this.#sums[index] = (this.#sums[index] as number) / 2
    }
    for (let depth = 0; depth < DEPTHS; depth++) {
      this.#returnedAt[depth] = (this.#returnedAt[depth] as number) / 2
      this.#expiredAt[depth] = (this.#expiredAt[depth] as number) / 2
    }
    this.#returned /= 2
    this.#expired /= 2
  }

  #total(): number {
    let total = 0
    for (let index = 0; index < BINS; index++) total += this.#counts[index] as number
    return total
  }

  /** Pending turns older than the horizon were not continued. */
  #expire(now: number): void {
    const horizon = Math.min(MAX_HORIZON_MS, Math.max(MIN_HORIZON_MS, HORIZON_FACTOR * this.#maxGapMs))
    for (const [hash, ended] of this.#pending) {
      if (now - ended.at <= horizon) break
      this.#pending.delete(hash)
      this.#expired++
      this.#expiredAt[ended.depth] = (this.#expiredAt[ended.depth] as number) + 1
      this.#halveWhenFull()
    }
  }
}

/** The depth index of a conversation `turns` deep: 1 to DEPTHS - 1 (deeper ones share the last), 0 when unknown. */
function depthOf(turns: number | undefined): number {
  return turns === undefined || !(turns >= 1) ? 0 : Math.min(DEPTHS - 1, Math.floor(turns))
}
