/**
 * Cache-aware routing (`routing: 'cache-aware'`): the upstream minimising the expected time to first token, from
 * a prefix index of what each upstream slot last computed and a per-upstream prefill rate. Pure, no I/O.
 * @module
 */
import type { PrefixHint } from './prefix-hashes.js'
import type { PrefixStore } from './scheduler-state.js'
import type { RouteCandidate, RouteChoice, UpstreamRouter } from './upstream-router.js'

/** Options of {@link CacheAwareRouter}. */
export interface CacheAwareRouterOptions {
  /** Prompt characters per token, to estimate tokens from characters. @default 4 */
  charsPerToken?: number | undefined
  /** Prefill rate (prompt tokens per second) assumed before any upstream's first observation. @default 1000 */
  defaultPrefillTokensPerSecond?: number | undefined
  /** Service time (ms) assumed for an upstream before its first finished job. @default 10_000 */
  defaultServiceMs?: number | undefined
}

/** Weight of the newest sample in the prefill-rate moving average. */
const EWMA_WEIGHT = 0.2

/**
 * Chooses, among the candidates the scheduler offers (healthy, eligible, within `stickyMaxImbalance`), the one
 * with the least expected time to first token:
 * - wait: the jobs ahead of this one for a slot there (running + waiting − slots + 1, when positive) / slots ×
 *   its observed service time;
 * - prefill: the prompt's characters not cached there (its longest prefix in the index, on any of its slots)
 *   / `charsPerToken` / its observed prefill rate (an upstream not yet observed takes the first rate observed
 *   anywhere, else `defaultPrefillTokensPerSecond`).
 * - eviction: a prompt that will be written over another one (no match there, or only its first block, the system
 *   prompt, matched) counts its prefill twice, for the cache it evicts, which someone will likely prefill again;
 *   a continuation of its own history counts it once.
 * When nothing is cached anywhere it returns undefined (the scheduler then places the job on the coldest free
 * slot within the imbalance bound, as for a new conversation). Ties go to the least-loaded candidate.
 * O(candidates + blocks).
 */
export class CacheAwareRouter implements UpstreamRouter {
  readonly #charsPerToken: number
  readonly #defaultRate: number
  readonly #defaultServiceMs: number
  readonly #rates = new Map<string, number>()
  #firstRate: number | undefined

  constructor(options: CacheAwareRouterOptions = {}) {
    this.#charsPerToken = positive('charsPerToken', options.charsPerToken ?? 4)
    this.#defaultRate = positive('defaultPrefillTokensPerSecond', options.defaultPrefillTokensPerSecond ?? 1000)
    this.#defaultServiceMs = positive('defaultServiceMs', options.defaultServiceMs ?? 10_000)
  }

  /** Records an observed prefill rate of `upstream` (llama.cpp's `timings.prompt_per_second`, or tokens / prefill time). */
  observePrefillRate(upstream: string, tokensPerSecond: number): void {
    if (!(tokensPerSecond > 0) || !Number.isFinite(tokensPerSecond)) return
    const old = this.#rates.get(upstream)
    this.#rates.set(upstream, old === undefined ? tokensPerSecond : old + EWMA_WEIGHT * (tokensPerSecond - old))
    this.#firstRate ??= tokensPerSecond
  }

  /** The prefill rate the cost model uses for `upstream`, tokens per second. */
  prefillRate(upstream: string): number {
    return this.#rates.get(upstream) ?? this.#firstRate ?? this.#defaultRate
  }

  choose(prefix: PrefixHint, candidates: readonly RouteCandidate[], prefixes: PrefixStore): RouteChoice | undefined {
    if (candidates.length === 0) return undefined
    const cached = new Map<string, { chars: number; slot: number }>()
    for (const { place, blocks } of prefixes.matches(prefix.hashes).values()) {
      const chars = prefix.ends[blocks - 1] as number
      const best = cached.get(place.upstream)
      if (best === undefined || chars > best.chars) cached.set(place.upstream, { chars, slot: place.slot })
    }
    // Nothing cached anywhere: the scheduler's own rule (the coldest free slot within the imbalance bound) places it.
    if (cached.size === 0) return undefined
    let chosen: { candidate: RouteCandidate; waitMs: number; prefillMs: number; total: number; load: number } | undefined
    let runnerUp: { candidate: RouteCandidate; total: number } | undefined
    for (const candidate of candidates) {
      const ahead = candidate.running + candidate.waiting - candidate.slots + 1
      const waitMs = ahead > 0 ? (ahead / candidate.slots) * (candidate.serviceMs ?? this.#defaultServiceMs) : 0
      const uncached = Math.max(0, prefix.chars - (cached.get(candidate.id)?.chars ?? 0))
      const prefillMs = (uncached / this.#charsPerToken / this.prefillRate(candidate.id)) * 1000
      // Writing the prompt over another one (cold, or only a shared system prompt matched) evicts a cache that
      // someone will likely pay to prefill again: count that as much again as our own prefill.
      const own = (cached.get(candidate.id)?.chars ?? 0) > (prefix.ends[0] ?? 0)
      const total = waitMs + (own ? prefillMs : 2 * prefillMs)
      const load = (candidate.running + candidate.waiting) / candidate.slots
      if (chosen === undefined || total < chosen.total || (total === chosen.total && load < chosen.load)) {
        if (chosen !== undefined) runnerUp = chosen
        chosen = { candidate, waitMs, prefillMs, total, load }
      } else if (runnerUp === undefined || total < runnerUp.total) {
        runnerUp = { candidate, total }
      }
    }
    if (chosen === undefined) return undefined
    const hit = cached.get(chosen.candidate.id)
    return {
      upstream: chosen.candidate.id,
      slot: hit === undefined || hit.slot < 0 ? undefined : hit.slot,
      cachedChars: hit?.chars ?? 0,
      expectedWaitMs: chosen.waitMs,
      expectedPrefillMs: chosen.prefillMs,
      alternative: runnerUp === undefined ? undefined : { upstream: runnerUp.candidate.id, expectedMs: runnerUp.total },
    }
  }

  started(prefix: PrefixHint, upstream: string, slot: number, prefixes: PrefixStore): void {
    if (prefix.hashes.length > 0) prefixes.record(prefix.hashes, upstream, slot)
  }
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new TypeError(`${name} must be a number > 0, got ${JSON.stringify(value)}`)
  return value
}
