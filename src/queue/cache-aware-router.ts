/**
 * Cache-aware routing (`routing: 'cache-aware'`): the upstream slot minimising the expected time to first token plus
 * the expected cost of the cache it overwrites, from the prefix store of what each upstream slot last computed,
 * per-upstream prefill rates and the learnt return gaps of conversations. Pure, no I/O.
 * @module
 */
import type { PrefixHint } from './prefix-hashes.js'
import { ReturnGaps } from './return-gaps.js'
import { slotKey } from './scheduler-state.js'
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
  /** Clock in ms, the scheduler's (monotonic). @default () => performance.now() */
  now?: (() => number) | undefined
  /**
   * Longest time (ms) a slot is kept, while jobs wait, for the request that continues the prompt that just ended
   * there, when such requests are learnt to come back that fast (see {@link CacheAwareRouter.holdMs}); 0: never.
   * @default 100
   */
  maxHoldMs?: number | undefined
  /**
   * No slot is kept while the job next in line for it has waited this long (ms): a conversation whose requests come
   * back at once keeps its slot through its turns only while that costs the others little. @default 1000
   */
  maxHoldWaitMs?: number | undefined
  /**
   * For simulations only: the exact time (ms from `now`) until the prompt ending in this hash is continued, or
   * undefined when it never is, in place of the learnt estimate; measures what perfect foresight would add.
   * @internal
   */
  _knownReturn?: ((lastHash: string, now: number) => number | undefined) | undefined
}

/** Weight of the newest sample in the prefill-rate and start-interval moving averages. */
const EWMA_WEIGHT = 0.2
/** Idle time (ms) over which a slot's cache loses half its value before return gaps have been learnt. */
const UNLEARNT_HALF_LIFE_MS = 60_000

/**
 * An evicted prompt costs its owner a prefill on return, and the prompt it then overwrites costs another: counting
 * the direct loss twice keeps the estimate from trading a warm conversation for a slightly faster cold start.
 */
const EVICTION_WEIGHT = 2
/** Options within this factor (plus BALANCE_MS) of the cheapest are near-equal: the least busy upstream takes the job. */
const BALANCE_FACTOR = 2.5
const BALANCE_MS = 50
/**
 * Within the balance band, options whose expected eviction (in tokens lost, whatever the upstream's speed) is within
 * this share of each other count as equal; a clearly cheaper eviction wins before the count of recent starts.
 */
const EVICTION_TIE_SHARE = 0.2
/** What the router believes an upstream slot holds (from the jobs it saw start and end there). */
interface SlotHolding {
  /** Prompt characters it computed last. */
  chars: number
  /** The last prefix hash of that prompt. */
  lastHash: string | undefined
  /** Its conversation's depth (the prompt's {@link PrefixHint.turns}). */
  turns: number | undefined
  busy: boolean
  /** When its last job ended (the scheduler's clock). */
  endedAt: number
}

/** One place the job could run: a slot of a candidate, or the candidate as a whole when every slot is busy. */
interface Option {
  candidate: RouteCandidate
  slot: number | undefined
  cachedChars: number
  waitMs: number
  prefillMs: number
  evictMs: number
  /** The eviction in prompt tokens expected to be prefilled again (evictMs at that upstream's rate). */
  evictTokens: number
  total: number
  load: number
}

/**
 * Chooses, among the candidates the scheduler offers (healthy, eligible, within `stickyMaxImbalance`), the upstream
 * and slot with the least expected cost:
 * - wait: the jobs ahead of this one for a slot there (running + waiting − slots + 1, when positive) / slots ×
 *   its observed service time;
 * - prefill: the prompt's characters not cached in that slot (its longest prefix in the state's prefix store)
 *   / `charsPerToken` / the upstream's observed prefill rate (an upstream not yet observed takes the first rate
 *   observed anywhere, else `defaultPrefillTokensPerSecond`);
 * - eviction: what writing over the slot's prompt is expected to cost the conversation it belongs to: the prefill
 *   of the part this prompt does not share × the probability that it is continued before the slot would be
 *   overwritten anyway. That probability comes from the learnt return gaps ({@link ReturnGaps}: how long after a
 *   turn its next one comes, and how often a conversation of that depth goes on at all), given how long the slot
 *   has been idle, times the chance that the return beats the next overwrite when overwrites come at random, a
 *   slot keeping a prompt for slots ÷ job start rate on average. So a slot whose conversation ended, or will not be
 *   back for long, is overwritten before one about to be continued (Belady's rule, estimated). Before enough returns
 *   are seen, an idle slot's value halves every minute (LRU).
 * Near-equal options (see BALANCE_FACTOR) go to the one evicting fewer tokens, then to the upstream with the fewest
 * recent starts per slot, then the least-loaded. O(candidates × slots + blocks).
 */
export class CacheAwareRouter implements UpstreamRouter {
  readonly #charsPerToken: number
  readonly #defaultRate: number
  readonly #defaultServiceMs: number
  readonly #now: () => number
  readonly #knownReturn: ((lastHash: string, now: number) => number | undefined) | undefined
  readonly #maxHoldMs: number
  readonly #maxHoldWaitMs: number
  readonly #rates = new Map<string, number>()
  #firstRate: number | undefined
  /** upstream + '\u0000' + slot → what it holds. Bounded by the upstreams' slots. */
  readonly #holdings = new Map<string, SlotHolding>()
  /** Upstreams that pick their own slot (no slot affinity) → their slots, from the candidates seen. */
  readonly #serverPicks = new Map<string, number>()
  /** Where a job on such an upstream went, by its prefix hint (one per job), for `finished`. */
  readonly #placed = new WeakMap<PrefixHint, number>()
  /** The learnt return gaps (exposed for tests and the debug view). */
  readonly gaps: ReturnGaps
  /** Per upstream: jobs started lately (a count halving every keepMs) and when it was last updated. */
  readonly #recent = new Map<string, { count: number; at: number }>()
  #lastStart: number | undefined
  #startIntervalMs: number | undefined

  constructor(options: CacheAwareRouterOptions = {}) {
    this.#charsPerToken = positive('charsPerToken', options.charsPerToken ?? 4)
    this.#defaultRate = positive('defaultPrefillTokensPerSecond', options.defaultPrefillTokensPerSecond ?? 1000)
    this.#defaultServiceMs = positive('defaultServiceMs', options.defaultServiceMs ?? 10_000)
    this.#now = options.now ?? (() => performance.now())
    this.#knownReturn = options._knownReturn
    this.#maxHoldMs = nonNegative('maxHoldMs', options.maxHoldMs ?? 100)
    this.#maxHoldWaitMs = nonNegative('maxHoldWaitMs', options.maxHoldWaitMs ?? 1000)
    this.gaps = new ReturnGaps()
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
    const now = this.#now()
    this.gaps.arrived(prefix.hashes, now)
    /**
     * Characters cached per place (upstream + '\u0000' + slot). A slot that holds the whole prompt of its last job
     * also holds that job's answer, which is the next block of a continuation: counted as cached too.
     */
    const cached = new Map<string, number>()
    for (const [key, { blocks }] of prefixes.matches(prefix.hashes)) {
      const whole = blocks < prefix.ends.length && this.#holdings.get(key)?.lastHash === prefix.hashes[blocks - 1]
      cached.set(key, prefix.ends[whole ? blocks : blocks - 1] as number)
    }
    for (const candidate of candidates) if (candidate.slotAffinity === false) this.#serverPicks.set(candidate.id, candidate.slots)
    const keepMs = this.#keepMs()
    const options = candidates.map((candidate) => this.#bestOption(prefix, candidate, cached, now, keepMs))
    let best = options[0] as Option
    for (const option of options) if (option.total < best.total) best = option
    // Near-equal costs (within BALANCE_FACTOR of the best, as a cold prompt on a fast or a slow upstream) go to the
    // option that overwrites the least (in tokens, so that a fast upstream's cheaper re-prefill does not draw every
    // eviction to it), then to the upstream that started the fewest jobs per slot lately, so that faster upstreams do
    // not take every new prompt; never at the price of cached characters.
    const limit = best.total * BALANCE_FACTOR + BALANCE_MS
    let chosen = best
    for (const option of options) {
      if (option.total > limit || option.cachedChars < best.cachedChars) continue
      const lessEvicted = chosen.evictTokens - option.evictTokens
      const tie = EVICTION_TIE_SHARE * Math.max(option.evictTokens, chosen.evictTokens)
      if (lessEvicted > tie + 1e-9) {
        chosen = option
        continue
      }
      if (lessEvicted < -tie - 1e-9) continue
      const busier = this.#recentPerSlot(chosen.candidate, now) - this.#recentPerSlot(option.candidate, now)
      if (busier > 1e-9 || (busier > -1e-9 && (option.load < chosen.load || (option.load === chosen.load && option.total < chosen.total)))) chosen = option
    }
    let runnerUp: Option | undefined
    for (const option of options) if (option.candidate !== chosen.candidate && (runnerUp === undefined || option.total < runnerUp.total)) runnerUp = option
    return {
      upstream: chosen.candidate.id,
      slot: chosen.slot,
      cachedChars: chosen.cachedChars,
      expectedWaitMs: chosen.waitMs,
      expectedPrefillMs: chosen.prefillMs,
      expectedEvictionMs: chosen.evictMs,
      alternative: runnerUp === undefined ? undefined : { upstream: runnerUp.candidate.id, expectedMs: runnerUp.total },
    }
  }

  started(prefix: PrefixHint, upstream: string, slot: number, prefixes: PrefixStore): void {
    const slots = this.#serverPicks.get(upstream)
    if (slots !== undefined) {
      // Without slot affinity the scheduler's slot number is its own count: the prompt goes where the server puts it.
      const matches = prefixes.matches(prefix.hashes)
      slot = this.#serverPick(upstream, slots, (key) => matches.get(key)?.blocks ?? 0, (holding) => holding?.busy === true) ?? slot
      this.#placed.set(prefix, slot)
    }
    if (prefix.hashes.length > 0) prefixes.record(prefix.hashes, upstream, slot)
    const key = slotKey(upstream, slot)
    const holding = this.#holdings.get(key)
    const lastHash = prefix.hashes[prefix.hashes.length - 1]
    if (holding === undefined) this.#holdings.set(key, { chars: prefix.chars, lastHash, turns: prefix.turns, busy: true, endedAt: 0 })
    else {
      holding.chars = prefix.chars
      holding.lastHash = lastHash
      holding.turns = prefix.turns
      holding.busy = true
    }
    const now = this.#now()
    this.#recent.set(upstream, { count: this.#recentStarts(upstream, now) + 1, at: now })
    if (this.#lastStart !== undefined) {
      const interval = Math.max(0, now - this.#lastStart)
      this.#startIntervalMs = this.#startIntervalMs === undefined ? interval : this.#startIntervalMs + EWMA_WEIGHT * (interval - this.#startIntervalMs)
    }
    this.#lastStart = now
  }

  finished(prefix: PrefixHint, upstream: string, slot: number): void {
    slot = this.#placed.get(prefix) ?? slot
    const now = this.#now()
    const holding = this.#holdings.get(slotKey(upstream, slot))
    if (holding !== undefined) {
      holding.busy = false
      holding.endedAt = now
    }
    const last = prefix.hashes[prefix.hashes.length - 1]
    if (last !== undefined) this.gaps.ended(last, now, prefix.turns)
  }

  /**
   * How long to keep the slot of a job that just ended for the request continuing its prompt, while jobs wait: the
   * time within which most (80%) continued turns came back, when that is at most `maxHoldMs` (a client's tool loop
   * sends the next request within milliseconds; a person thinks for seconds: never held), a turn this deep is
   * continued more often than not, the prefill it saves outweighs the wait the hold may cost the jobs that wait,
   * and the job next in line has waited less than `maxHoldWaitMs`. 0 otherwise.
   */
  holdMs(prefix: PrefixHint, upstream: string, _slot: number, queue: { readonly waiting: number; readonly nextWaitedMs: number }): number {
    if (this.#maxHoldMs === 0 || queue.waiting === 0 || queue.nextWaitedMs >= this.#maxHoldWaitMs) return 0
    const quick = this.gaps.quickReturn(prefix.turns, this.#maxHoldMs)
    if (quick === undefined || quick.probability <= 0.5) return 0
    const savedMs = (prefix.chars / this.#charsPerToken / this.prefillRate(upstream)) * 1000
    return savedMs * quick.probability > quick.gapMs * queue.waiting ? quick.gapMs : 0
  }

  forgotten(upstream: string, slots?: readonly number[] | undefined): void {
    if (slots !== undefined) {
      for (const slot of slots) this.#holdings.delete(slotKey(upstream, slot))
      return
    }
    for (const key of [...this.#holdings.keys()]) if (key.startsWith(slotKey(upstream, ''))) this.#holdings.delete(key)
  }

  /** The cheapest place for the prompt on one candidate: its best free slot, or the candidate as a whole when none is free. */
  #bestOption(prefix: PrefixHint, candidate: RouteCandidate, cached: ReadonlyMap<string, number>, now: number, keepMs: number): Option {
    const ahead = candidate.running + candidate.waiting - candidate.slots + 1
    const waitMs = ahead > 0 ? (ahead / candidate.slots) * (candidate.serviceMs ?? this.#defaultServiceMs) : 0
    const load = (candidate.running + candidate.waiting) / candidate.slots
    const rate = this.prefillRate(candidate.id)
    const prefillOf = (chars: number) => (Math.max(0, chars) / this.#charsPerToken / rate) * 1000
    const busy = (holding: SlotHolding | undefined) => holding?.busy === true && candidate.running > 0
    // Without slot affinity the server picks the slot (see #serverPick): the job's cost there is that slot's.
    const pick = candidate.slotAffinity === false ? this.#serverPick(candidate.id, candidate.slots, (key) => cached.get(key) ?? 0, busy) : undefined
    let best: Option | undefined
    let busyBest: Option | undefined
    for (let slot = 0; slot < candidate.slots; slot++) {
      const key = slotKey(candidate.id, slot)
      const holding = this.#holdings.get(key)
      const cachedChars = cached.get(key) ?? 0
      const prefillMs = prefillOf(prefix.chars - cachedChars)
      const evictMs = holding === undefined ? 0 : this.#evictionMs(holding, cachedChars, now, keepMs, prefillOf)
      const total = waitMs + prefillMs + evictMs
      const option: Option = { candidate, slot, cachedChars, waitMs, prefillMs, evictMs, evictTokens: (evictMs / 1000) * rate, total, load }
      // The scheduler's count is the truth when they disagree (a job the router did not see end).
      if (busy(holding)) {
        // Busy: the job would wait for it; remembered only for an upstream with no free slot.
        if (busyBest === undefined || total < busyBest.total) busyBest = option
      } else if (candidate.slotAffinity === false) {
        if (slot === pick) best = option
      } else if (best === undefined || total < best.total) best = option
    }
    if (ahead <= 0 && best !== undefined) return best
    // Every slot taken (or jobs already wait): the job waits for one to free. It names a slot only for a prefix
    // cached there (the slot it would rather have); else whichever frees first.
    const waited = best === undefined ? busyBest : busyBest === undefined || best.total <= busyBest.total ? best : busyBest
    if (waited === undefined) {
      const prefillMs = prefillOf(prefix.chars)
      return { candidate, slot: undefined, cachedChars: 0, waitMs, prefillMs, evictMs: 0, evictTokens: 0, total: waitMs + prefillMs, load }
    }
    return waited.cachedChars > 0 ? waited : { ...waited, slot: undefined }
  }

  /**
   * The slot a server without slot affinity gives a prompt (llama.cpp's rule): the idle one holding the longest part
   * of it (`cachedOf` a slot key), else the one unused the longest.
   */
  #serverPick(upstream: string, slots: number, cachedOf: (key: string) => number, busy: (holding: SlotHolding | undefined) => boolean): number | undefined {
    let pick: number | undefined
    let pickCached = -1
    let pickEnded = Infinity
    for (let slot = 0; slot < slots; slot++) {
      const key = slotKey(upstream, slot)
      const holding = this.#holdings.get(key)
      if (busy(holding)) continue
      const cached = cachedOf(key)
      const ended = holding?.endedAt ?? -Infinity
      if (cached > pickCached || (cached === pickCached && ended < pickEnded)) [pick, pickCached, pickEnded] = [slot, cached, ended]
    }
    return pick
  }

  /** Expected cost (ms of prefill) of writing over the slot's prompt, of which the new prompt shares `sharedChars`. */
  #evictionMs(holding: SlotHolding, sharedChars: number, now: number, keepMs: number, prefillOf: (chars: number) => number): number {
    const lost = prefillOf(holding.chars - sharedChars)
    if (lost === 0) return 0
    // A slot still running holds a prompt being continued right now: as fresh as one that just ended.
    const idleMs = holding.busy ? 0 : Math.max(0, now - holding.endedAt)
    if (this.#knownReturn !== undefined) {
      const remainingMs = holding.lastHash === undefined ? undefined : this.#knownReturn(holding.lastHash, now)
      return remainingMs === undefined ? 0 : EVICTION_WEIGHT * lost * Math.exp(-remainingMs / keepMs)
    }
    const outlook = this.gaps.outlook(idleMs, holding.turns, keepMs)
    if (outlook === undefined) return EVICTION_WEIGHT * lost * 0.5 ** (idleMs / UNLEARNT_HALF_LIFE_MS)
    return EVICTION_WEIGHT * lost * outlook.probability * outlook.beforeOverwrite
  }

  /** Jobs started on the candidate lately, per slot. */
  #recentPerSlot(candidate: RouteCandidate, now: number): number {
    return this.#recentStarts(candidate.id, now) / candidate.slots
  }

  /** Jobs started on the upstream lately: a count halving every {@link CacheAwareRouter.#keepMs}. */
  #recentStarts(upstream: string, now: number): number {
    const recent = this.#recent.get(upstream)
    return recent === undefined ? 0 : recent.count * 0.5 ** ((now - recent.at) / this.#keepMs())
  }

  /** How long a slot keeps a prompt before some job writes over it: slots known ÷ job start rate. */
  #keepMs(): number {
    const interval = this.#startIntervalMs ?? this.#defaultServiceMs
    return Math.max(1, this.#holdings.size) * Math.max(1, interval)
  }
}

function nonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) throw new TypeError(`${name} must be a number >= 0, got ${JSON.stringify(value)}`)
  return value
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new TypeError(`${name} must be a number > 0, got ${JSON.stringify(value)}`)
  return value
}
