/**
 * Routing simulation on the injected clock (no real time passes): 4 upstreams × 2 slots (prefill rates of 4000,
 * 4000, 2000 and 2000 prompt tokens per second), 64 conversations of 10 turns each, with think time between
 * turns, prompt lengths and a prompt-cache model. Prints, per routing policy: the cache-hit rate (of follow-up
 * turns finding their whole history cached, and of prompt tokens served from cache over all turns), the max/min
 * ratio of jobs served per upstream, the mean queue wait, and the mean and p95 time to first token (queue wait +
 * prefill of the uncached part of the prompt).
 *
 * Prompts: a turn's prompt is the system prompt + the whole history + the new user message (20-400 tokens); a
 * reply is 100-800 tokens. A job runs for the prefill of its uncached tokens at its upstream's rate plus its
 * generation time.
 *
 * Cache model: an upstream slot holds the prompt + reply of the last turn it served. A turn finds there its whole
 * previous history (same conversation), or only the system prompt (another conversation with the same one), or
 * nothing.
 * - Slot affinity: the scheduler names the slot (`id_slot`).
 * - Without: the server picks the slot, as llama.cpp does: the idle slot holding the longest part of the prompt,
 *   else the idle slot unused the longest.
 *
 * Workloads (seeded, identical for every policy): conversations arrive as a Poisson process; a turn takes
 * 2–12 s to generate (30-90 s in `busy`); the user thinks 10–90 s between turns. `light` has a mean arrival gap
 * of 120 s (about 4 conversations active at once for 8 slot caches), `dense` 45 s (about 11 active: more
 * conversations than caches, so no policy can keep them all warm), `busy` 120 s with long turns (queues form);
 * each of their conversations has its own system prompt of 200-1500 tokens. `agents` has a gap of 30 s and
 * three shared system prompts of 4000-8000 tokens (many conversations of a few agents).
 * Each workload also prints ceilings computed from its turn sequence as if nothing waited: one shared LRU cache
 * of all 8 slots, and Belady's optimum (evict the conversation needed furthest in the future), in turns and
 * in tokens (see `ceilings`). Those ignore that a running turn holds its slot and that a queued turn takes the
 * slot that frees; two policies measure what foresight gives under the simulated slots and queue: "c-a, exact
 * return times" (the cache-aware cost model told when each conversation really comes back instead of estimating
 * it) and "oracle: latest return" (Belady's rule itself: a turn goes to the idle slot holding its history, else
 * overwrites the idle slot whose conversation comes back last, or never; see {@link LatestReturnOracle}).
 *
 * Run: `node_modules/.bin/node --import tsx bench/routing-sim.ts`.
 * @module
 */
import { pathToFileURL } from 'node:url'
import { CacheAwareRouter } from '../src/queue/cache-aware-router.js'
import { prefixHashesOf } from '../src/queue/prefix-hashes.js'
import type { PrefixHint } from '../src/queue/prefix-hashes.js'
import { QueueScheduler } from '../src/queue/queue-scheduler.js'
import type { JobStartEvent, Lease } from '../src/queue/queue-scheduler.js'
import { slotKey } from '../src/queue/scheduler-state.js'
import type { RouteCandidate, RouteChoice, UpstreamRouter } from '../src/queue/upstream-router.js'
import { seededRandom as random } from '../test/helpers/seeded-random.js'

const UPSTREAMS = 4
const SLOTS = 2
const CONVERSATIONS = 64
const TURNS = 10
const THINK_MS: [number, number] = [10_000, 90_000]
/** Prefill rate of each upstream, prompt tokens per second (two fast GPUs, two slower ones). */
const PREFILL_TOKENS_PER_SECOND = [4_000, 4_000, 2_000, 2_000]
/** Tokens of a user message and of a reply, per turn. */
const USER_TOKENS: [number, number] = [20, 400]
const REPLY_TOKENS: [number, number] = [100, 800]

interface Workload {
  name: string
  meanArrivalGapMs: number
  serviceMs: [number, number]
  /** Tokens of a conversation's own system prompt. */
  systemTokens: [number, number]
  /** When set, conversations share this many system prompts (agents) instead of each having its own. */
  sharedPrompts?: number
}

const WORKLOADS: Workload[] = [
  { name: 'light', meanArrivalGapMs: 120_000, serviceMs: [2_000, 12_000], systemTokens: [200, 1_500] },
  { name: 'dense', meanArrivalGapMs: 45_000, serviceMs: [2_000, 12_000], systemTokens: [200, 1_500] },
  { name: 'busy', meanArrivalGapMs: 120_000, serviceMs: [30_000, 90_000], systemTokens: [200, 1_500] },
  { name: 'agents', meanArrivalGapMs: 30_000, serviceMs: [2_000, 12_000], systemTokens: [4_000, 8_000], sharedPrompts: 3 },
]

interface Conversation {
  start: number
  /** Generation time of each turn (prefill comes on top). */
  service: number[]
  think: number[]
  /** Which system prompt (shared ones have the same id). */
  system: number
  systemTokens: number
  /** Prompt tokens of each turn: system prompt + history + the new user message. */
  prompt: number[]
  /** Tokens a slot holds after the turn: its prompt + the reply. */
  cachedAfter: number[]
}

function workload(shape: Workload, seed: number): Conversation[] {
  const next = random(seed)
  const between = (range: [number, number]) => range[0] + next() * (range[1] - range[0])
  const shared = Array.from({ length: shape.sharedPrompts ?? 0 }, () => Math.round(between(shape.systemTokens)))
  let clock = 0
  return Array.from({ length: CONVERSATIONS }, (_, index) => {
    clock += -Math.log(1 - next()) * shape.meanArrivalGapMs
    const system = shared.length > 0 ? Math.floor(next() * shared.length) : shared.length + index
    const systemTokens = shared.length > 0 ? (shared[system] as number) : Math.round(between(shape.systemTokens))
    const prompt: number[] = []
    const cachedAfter: number[] = []
    let history = systemTokens
    for (let turn = 0; turn < TURNS; turn++) {
      history += Math.round(between(USER_TOKENS))
      prompt.push(history)
      history += Math.round(between(REPLY_TOKENS))
      cachedAfter.push(history)
    }
    return { start: clock, service: Array.from({ length: TURNS }, () => between(shape.serviceMs)), think: Array.from({ length: TURNS - 1 }, () => between(THINK_MS)), system, systemTokens, prompt, cachedAfter }
  })
}

/** Turn starts as if no turn ever waited: [time, conversation, turn], in time order. */
function accessSequence(conversations: Conversation[]): Array<[number, number, number]> {
  const accesses: Array<[number, number, number]> = []
  conversations.forEach((conversation, index) => {
    let time = conversation.start
    for (let turn = 0; turn < TURNS; turn++) {
      accesses.push([time, index, turn])
      time += (conversation.service[turn] as number) + (conversation.think[turn] ?? 0)
    }
  })
  return accesses.sort((a, b) => a[0] - b[0])
}

interface Ceilings {
  lru: number
  belady: number
  /** Token hit rate of Belady's eviction (see {@link ceilings}). */
  beladyTokens: number
}

/**
 * Ceilings of one shared cache of `capacity` conversations, on the no-wait sequence: follow-up hit rates of LRU and
 * Belady's optimum (evict the conversation needed furthest in the future), and the token hit rate of that Belady
 * cache (a hit serves the conversation's whole previous prompt + reply; a miss still serves the system prompt when
 * a cached conversation shares it). The token figure is Belady's eviction measured in tokens, not a token optimum.
 */
function ceilings(conversations: Conversation[], capacity: number): Ceilings {
  const accesses = accessSequence(conversations)
  const sequence = accesses.map(([, conversation]) => conversation)
  const seen = new Set<number>()
  let followUps = 0
  for (const conversation of sequence) {
    if (seen.has(conversation)) followUps++
    seen.add(conversation)
  }
  // LRU: a Map in recency order.
  const lru = new Map<number, true>()
  let lruHits = 0
  for (const conversation of sequence) {
    if (lru.has(conversation)) lruHits++
    lru.delete(conversation)
    lru.set(conversation, true)
    if (lru.size > capacity) lru.delete(lru.keys().next().value as number)
  }
  // Belady: evict the cached conversation whose next use is furthest away (or never).
  const nextUse = new Array<number>(sequence.length)
  const upcoming = new Map<number, number>()
  for (let index = sequence.length - 1; index >= 0; index--) {
    const conversation = sequence[index] as number
    nextUse[index] = upcoming.get(conversation) ?? Number.POSITIVE_INFINITY
    upcoming.set(conversation, index)
  }
  const cached = new Map<number, number>()
  let beladyHits = 0
  let promptTokens = 0
  let cachedTokens = 0
  accesses.forEach(([, conversation, turn], index) => {
    const data = conversations[conversation] as Conversation
    promptTokens += data.prompt[turn] as number
    if (cached.has(conversation)) {
      beladyHits++
      cachedTokens += data.cachedAfter[turn - 1] as number
    } else {
      for (const other of cached.keys()) {
        if ((conversations[other] as Conversation).system === data.system) {
          cachedTokens += data.systemTokens
          break
        }
      }
      if (cached.size >= capacity) {
        let victim = -1
        let furthest = -1
        for (const [candidate, use] of cached) if (use > furthest) [victim, furthest] = [candidate, use]
        cached.delete(victim)
      }
    }
    cached.set(conversation, nextUse[index] as number)
  })
  return { lru: lruHits / followUps, belady: beladyHits / followUps, beladyTokens: cachedTokens / promptTokens }
}

interface SimEvent {
  time: number
  order: number
  run: () => void
}

/** A binary min-heap of events by (time, order). */
class EventQueue {
  readonly #heap: SimEvent[] = []
  #order = 0

  get size(): number {
    return this.#heap.length
  }

  push(time: number, run: () => void): void {
    const heap = this.#heap
    heap.push({ time, order: this.#order++, run })
    let index = heap.length - 1
    while (index > 0) {
      const parent = (index - 1) >> 1
      if (!before(heap[index] as SimEvent, heap[parent] as SimEvent)) break
      ;[heap[index], heap[parent]] = [heap[parent] as SimEvent, heap[index] as SimEvent]
      index = parent
    }
  }

  pop(): SimEvent | undefined {
    const heap = this.#heap
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last
      let index = 0
      for (;;) {
        const left = index * 2 + 1
        const right = left + 1
        let smallest = index
        if (left < heap.length && before(heap[left] as SimEvent, heap[smallest] as SimEvent)) smallest = left
        if (right < heap.length && before(heap[right] as SimEvent, heap[smallest] as SimEvent)) smallest = right
        if (smallest === index) break
        ;[heap[index], heap[smallest]] = [heap[smallest] as SimEvent, heap[index] as SimEvent]
        index = smallest
      }
    }
    return top
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.order < b.order)
}

/**
 * Belady's rule under the simulated slots and queue, told each prompt's exact return time (`returnsIn`, by the
 * prompt's last prefix hash; undefined: never): a turn goes to the idle slot holding the longest prefix of its prompt
 * (its history), else overwrites the idle slot whose prompt is continued last (an empty slot first); with no idle
 * slot it waits on the least-loaded upstream. Blind to prompt sizes and prefill rates: a ceiling in turns.
 */
class LatestReturnOracle implements UpstreamRouter {
  /** Slot key → the prompt it holds (its prefix hashes) and whether a job runs there. */
  readonly #holdings = new Map<string, { hashes: ReadonlySet<string>; lastHash: string; busy: boolean }>()

  constructor(private readonly returnsIn: (lastHash: string) => number | undefined) {}

  choose(prefix: PrefixHint, candidates: readonly RouteCandidate[]): RouteChoice | undefined {
    let hit: { upstream: string; slot: number; blocks: number } | undefined
    let victim: { upstream: string; slot: number; returnsIn: number } | undefined
    for (const candidate of candidates) {
      for (let slot = 0; slot < candidate.slots; slot++) {
        const holding = this.#holdings.get(slotKey(candidate.id, slot))
        if (holding?.busy === true) continue
        const blocks = holding === undefined ? 0 : prefix.hashes.filter((hash) => holding.hashes.has(hash)).length
        if (blocks > 1 && (hit === undefined || blocks > hit.blocks)) hit = { upstream: candidate.id, slot, blocks }
        const returnsIn = holding === undefined ? Number.POSITIVE_INFINITY : (this.returnsIn(holding.lastHash) ?? Number.POSITIVE_INFINITY)
        if (victim === undefined || returnsIn > victim.returnsIn) victim = { upstream: candidate.id, slot, returnsIn }
      }
    }
    const place = hit ?? victim
    if (place !== undefined) return { upstream: place.upstream, slot: place.slot, cachedChars: hit === undefined ? 0 : 1, expectedWaitMs: 0, expectedPrefillMs: 0, alternative: undefined }
    const least = [...candidates].sort((a, b) => (a.running + a.waiting) / a.slots - (b.running + b.waiting) / b.slots)[0]
    return least === undefined ? undefined : { upstream: least.id, slot: undefined, cachedChars: 0, expectedWaitMs: 0, expectedPrefillMs: 0, alternative: undefined }
  }

  started(prefix: PrefixHint, upstream: string, slot: number): void {
    this.#holdings.set(slotKey(upstream, slot), { hashes: new Set(prefix.hashes), lastHash: prefix.hashes[prefix.hashes.length - 1] as string, busy: true })
  }

  finished(_prefix: PrefixHint, upstream: string, slot: number): void {
    const holding = this.#holdings.get(slotKey(upstream, slot))
    if (holding !== undefined) holding.busy = false
  }
}

interface Policy {
  name: string
  /** Route with {@link LatestReturnOracle} (a ceiling, not a policy). */
  oracle?: boolean
  sticky: boolean
  slotAffinity: boolean
  /** Route with the cost model (`routing: 'cache-aware'`). */
  cacheAware?: boolean
  /** Give the cost model each prompt's exact return time instead of its estimate (a ceiling, not a policy). */
  foresight?: boolean
}

/** Characters per token of the sim's prompts (what the router's estimate assumes). */
const CHARS_PER_TOKEN = 4

/**
 * The prefix hint of a turn, as the gateway would hash it: blocks system prompt, then each user message and reply;
 * a shared system prompt hashes the same for every conversation, the rest is the conversation's own.
 */
function prefixOf(conversation: number, data: Conversation, turn: number): PrefixHint {
  const hashes = [`s${data.system}`]
  const ends = [data.systemTokens * CHARS_PER_TOKEN]
  for (let past = 0; past <= turn; past++) {
    hashes.push(`c${conversation}u${past}`)
    ends.push((data.prompt[past] as number) * CHARS_PER_TOKEN)
    if (past === turn) break
    hashes.push(`c${conversation}r${past}`)
    ends.push((data.cachedAfter[past] as number) * CHARS_PER_TOKEN)
  }
  return { hashes, ends, chars: (data.prompt[turn] as number) * CHARS_PER_TOKEN, turns: turn + 1 }
}

interface Result {
  /** Follow-up turns that found their whole history cached / follow-up turns. */
  hitRate: number
  /** Prompt tokens served from a cache / prompt tokens, over all turns. */
  tokenHitRate: number
  loadRatio: number
  served: number[]
  meanWaitMs: number
  maxWaitMs: number
  /** Time to first token: queue wait + prefill of the uncached part. */
  meanTtftMs: number
  p95TtftMs: number
}

interface SlotCache {
  conversation: number
  system: number
  systemTokens: number
  /** Prompt + reply tokens of the conversation's last turn here. */
  tokens: number
  busy: boolean
  lastUsed: number
}

/** Tokens of the turn's prompt this slot holds: the whole previous history, or a shared system prompt, or none. */
function cachedTokens(cache: SlotCache, conversation: number, data: Conversation, turn: number): number {
  if (cache.conversation === conversation) return Math.min(cache.tokens, data.prompt[turn] as number)
  return cache.system === data.system ? data.systemTokens : 0
}

async function simulate(policy: Policy, conversations: Conversation[]): Promise<Result> {
  let now = 0
  /** For the foresight policy: when the prompt ending in this hash (`c{conversation}u{turn}`) is continued. */
  const knownReturns = new Map<string, number>()
  const knownReturn = (lastHash: string, at: number) => {
    const next = knownReturns.get(lastHash)
    return next === undefined ? undefined : Math.max(0, next - at)
  }
  const oracle = policy.oracle === true ? new LatestReturnOracle((lastHash) => knownReturn(lastHash, now)) : undefined
  const cacheAware = policy.cacheAware === true ? new CacheAwareRouter({ charsPerToken: CHARS_PER_TOKEN, now: () => now, _knownReturn: policy.foresight === true ? knownReturn : undefined }) : undefined
  const router: UpstreamRouter | undefined = oracle ?? cacheAware
  const scheduler = new QueueScheduler({
    upstreams: Array.from({ length: UPSTREAMS }, (_, index) => ({ id: `gpu${index}`, slots: SLOTS, slotAffinity: policy.slotAffinity })),
    router,
    now: () => now,
  })
  const events = new EventQueue()
  const leases = new Map<string, Lease>()
  /** The prompt each slot holds, and whether it is generating. */
  const caches = Array.from({ length: UPSTREAMS }, () => Array.from({ length: SLOTS }, (): SlotCache => ({ conversation: -1, system: -1, systemTokens: 0, tokens: 0, busy: false, lastUsed: -1 })))
  const runningSlot = new Map<string, { upstream: number; slot: number }>()
  const served = new Array<number>(UPSTREAMS).fill(0)
  const ttfts: number[] = []
  let followUps = 0
  let hits = 0
  let promptTokens = 0
  let hitTokens = 0
  let waitSum = 0
  let waitMax = 0
  let jobs = 0

  const arrive = (conversation: number, turn: number) => {
    const id = `c${conversation}-t${turn}`
    const prefix = router === undefined ? undefined : prefixOf(conversation, conversations[conversation] as Conversation, turn)
    scheduler.acquire({ id, threadKey: policy.sticky ? `chat-${conversation}` : undefined, prefix }).then(
      (lease) => leases.set(id, lease),
      (error: unknown) => {
        throw error
      },
    )
  }

  scheduler.on('job-start', (event: JobStartEvent) => {
    const [conversation, turn] = event.jobId.slice(1).split('-t').map(Number) as [number, number]
    const data = conversations[conversation] as Conversation
    const upstream = Number(event.upstream.slice(3))
    const slots = caches[upstream] as SlotCache[]
    let slot: number
    if (event.slot !== undefined) {
      slot = event.slot
    } else {
      // The server's own choice: the idle slot holding the longest part of this prompt, else the idle slot unused the longest.
      const idle = slots.map((cache, index) => ({ cache, index, cached: cachedTokens(cache, conversation, data, turn) })).filter(({ cache }) => !cache.busy)
      idle.sort((a, b) => b.cached - a.cached || a.cache.lastUsed - b.cache.lastUsed)
      slot = idle[0]?.index ?? -1
      if (slot < 0) throw new Error(`no idle slot on ${event.upstream}`)
    }
    const cache = slots[slot] as SlotCache
    if (cache.busy) throw new Error(`two running jobs on ${event.upstream} slot ${slot}`)
    const prompt = data.prompt[turn] as number
    const cached = cachedTokens(cache, conversation, data, turn)
    if (turn > 0) {
      followUps++
      if (cache.conversation === conversation) hits++
    }
    promptTokens += prompt
    hitTokens += cached
    const prefillMs = ((prompt - cached) / (PREFILL_TOKENS_PER_SECOND[upstream] as number)) * 1000
    ttfts.push(event.waitedMs + prefillMs)
    // What llama.cpp reports as timings.prompt_per_second (the gateway would feed it back).
    if (prompt > cached) cacheAware?.observePrefillRate(event.upstream, PREFILL_TOKENS_PER_SECOND[upstream] as number)
    Object.assign(cache, { conversation, system: data.system, systemTokens: data.systemTokens, tokens: data.cachedAfter[turn] as number, busy: true })
    runningSlot.set(event.jobId, { upstream, slot })
    served[upstream] = (served[upstream] as number) + 1
    waitSum += event.waitedMs
    waitMax = Math.max(waitMax, event.waitedMs)
    jobs++
    events.push(now + prefillMs + (data.service[turn] as number), () => {
      const place = runningSlot.get(event.jobId) as { upstream: number; slot: number }
      const finished = (caches[place.upstream] as SlotCache[])[place.slot] as SlotCache
      finished.busy = false
      finished.lastUsed = now
      const lease = leases.get(event.jobId)
      if (lease === undefined) throw new Error(`lease of ${event.jobId} not handed over`)
      lease.release()
      if (turn + 1 < TURNS) {
        knownReturns.set(`c${conversation}u${turn}`, now + (data.think[turn] as number))
        events.push(now + (data.think[turn] as number), () => arrive(conversation, turn + 1))
      }
    })
  })

  conversations.forEach((conversation, index) => events.push(conversation.start, () => arrive(index, 0)))
  for (let event = events.pop(); event !== undefined; event = events.pop()) {
    now = event.time
    event.run()
    // Let the lease promises settle (no simulated time passes).
    await Promise.resolve()
    await Promise.resolve()
  }
  await scheduler.onIdle()
  if (jobs !== CONVERSATIONS * TURNS) throw new Error(`served ${jobs} of ${CONVERSATIONS * TURNS} turns`)
  ttfts.sort((a, b) => a - b)
  return {
    hitRate: hits / followUps,
    tokenHitRate: hitTokens / promptTokens,
    loadRatio: Math.max(...served) / Math.min(...served),
    served,
    meanWaitMs: waitSum / jobs,
    maxWaitMs: waitMax,
    meanTtftMs: ttfts.reduce((sum, ttft) => sum + ttft, 0) / ttfts.length,
    p95TtftMs: ttfts[Math.floor(ttfts.length * 0.95)] as number,
  }
}

/** Runs the simulation and prints its figures. */
export async function run(): Promise<void> {
  const policies: Policy[] = [
    { name: 'sticky + slot affinity', sticky: true, slotAffinity: true },
    { name: 'sticky', sticky: true, slotAffinity: false },
    { name: 'least-loaded', sticky: false, slotAffinity: false },
    { name: 'cache-aware + slot aff.', sticky: true, slotAffinity: true, cacheAware: true },
    { name: 'cache-aware', sticky: true, slotAffinity: false, cacheAware: true },
    { name: 'c-a, exact return times', sticky: true, slotAffinity: true, cacheAware: true, foresight: true },
    { name: 'oracle: latest return', sticky: true, slotAffinity: true, oracle: true },
  ]
  const seeds = [1, 2, 3, 4, 5]
  console.log(
    `routing sim: ${UPSTREAMS} upstreams x ${SLOTS} slots (prefill ${PREFILL_TOKENS_PER_SECOND.join('/')} tokens/s), ${CONVERSATIONS} conversations x ${TURNS} turns, think ${THINK_MS[0] / 1000}-${THINK_MS[1] / 1000} s; mean of ${seeds.length} seeds;` +
      ` turns = follow-up turns finding their whole history cached, tokens = prompt tokens served from cache / prompt tokens; TTFT = wait + prefill of the uncached part`,
  )
  const verdicts: string[] = []
  /** Per cache-aware policy, the issue's goals: [what, met]. */
  const goals = new Map<string, Array<[string, boolean]>>()
  const leastLoaded = new Map<string, Result[]>()
  /** Per workload: the mean token hit rate of today's sticky rule (with slot affinity), and the oracle's hit rates. */
  const stickyTokens = new Map<string, number>()
  const oracleRates = new Map<string, { turns: number; tokens: number }>()
  for (const shape of WORKLOADS) {
    const limits = seeds.map((seed) => ceilings(workload(shape, seed), UPSTREAMS * SLOTS))
    const average = (pick: (limit: Ceilings) => number) => ((limits.reduce((sum, limit) => sum + pick(limit), 0) / limits.length) * 100).toFixed(1)
    console.log(
      ` ${shape.name}: arrivals every ${shape.meanArrivalGapMs / 1000} s on average, turns ${shape.serviceMs[0] / 1000}-${shape.serviceMs[1] / 1000} s, system prompts ${shape.systemTokens.join('-')} tokens${shape.sharedPrompts === undefined ? '' : ` (${shape.sharedPrompts} shared)`}; ` +
        `ceilings: shared LRU of ${UPSTREAMS * SLOTS} turns ${average((limit) => limit.lru)}%, Belady turns ${average((limit) => limit.belady)}% tokens ${average((limit) => limit.beladyTokens)}%`,
    )
    for (const policy of policies) {
      const results: Result[] = []
      for (const seed of seeds) results.push(await simulate(policy, workload(shape, seed)))
      const mean = (pick: (result: Result) => number) => results.reduce((sum, result) => sum + pick(result), 0) / results.length
      const hitRate = mean((result) => result.hitRate)
      const loadRatio = mean((result) => result.loadRatio)
      console.log(
        `  ${policy.name.padEnd(24)} hit turns ${(hitRate * 100).toFixed(1)}% (worst seed ${(Math.min(...results.map((result) => result.hitRate)) * 100).toFixed(1)}%) tokens ${(mean((result) => result.tokenHitRate) * 100).toFixed(1)}%` +
          `  load max/min ${loadRatio.toFixed(2)} (worst ${Math.max(...results.map((result) => result.loadRatio)).toFixed(2)})` +
          `  wait mean ${(mean((result) => result.meanWaitMs) / 1000).toFixed(2)} s, max ${(Math.max(...results.map((result) => result.maxWaitMs)) / 1000).toFixed(1)} s` +
          `  TTFT mean ${(mean((result) => result.meanTtftMs) / 1000).toFixed(2)} s, p95 ${(mean((result) => result.p95TtftMs) / 1000).toFixed(2)} s` +
          `  served (seed 1) ${(results[0] as Result).served.join('/')}`,
      )
      if (policy.name === 'least-loaded') leastLoaded.set(shape.name, results)
      if (policy.name === 'sticky + slot affinity') stickyTokens.set(shape.name, mean((result) => result.tokenHitRate))
      if (policy.oracle === true) oracleRates.set(shape.name, { turns: hitRate, tokens: mean((result) => result.tokenHitRate) })
      if (policy.cacheAware === true && policy.foresight !== true) {
        const list = goals.get(policy.name) ?? []
        goals.set(policy.name, list)
        const beladyTokens = limits.reduce((sum, limit) => sum + limit.beladyTokens, 0) / limits.length
        const baselineWait = (leastLoaded.get(shape.name) ?? []).reduce((sum, result) => sum + result.meanWaitMs, 0) / Math.max(1, leastLoaded.get(shape.name)?.length ?? 0)
        const waitMs = mean((result) => result.meanWaitMs)
        if (shape.name === 'light') list.push([`light turns ${(hitRate * 100).toFixed(1)}% >= 95%`, hitRate >= 0.95])
        if (shape.name === 'dense' || shape.name === 'busy') {
          // The issue's figures are in turns (half the gap from the sticky rule's 42% / 54% to Belady's 75.6% / 86.7%);
          // the same goal in tokens, the issue's definition of hit rate, is half the gap measured in tokens here.
          const goal = shape.name === 'dense' ? 0.59 : 0.7
          const beladyTokens = limits.reduce((sum, limit) => sum + limit.beladyTokens, 0) / limits.length
          const tokenGoal = ((stickyTokens.get(shape.name) ?? 0) + beladyTokens) / 2
          const tokens = mean((result) => result.tokenHitRate)
          list.push([`${shape.name} turns ${(hitRate * 100).toFixed(1)}% >= ${goal * 100}%`, hitRate >= goal])
          list.push([`${shape.name} tokens ${(tokens * 100).toFixed(1)}% >= ${(tokenGoal * 100).toFixed(1)}% (half the gap sticky -> Belady)`, tokens >= tokenGoal])
          list.push([`${shape.name} load ${loadRatio.toFixed(2)} <= 1.5`, loadRatio <= 1.5])
          list.push([`${shape.name} wait ${(waitMs / 1000).toFixed(2)} s <= least-loaded ${(baselineWait / 1000).toFixed(2)} s`, waitMs <= baselineWait])
        }
        if (shape.name === 'agents') {
          const tokens = mean((result) => result.tokenHitRate)
          list.push([`agents tokens ${(tokens * 100).toFixed(1)}% >= 90% of Belady ${(beladyTokens * 100).toFixed(1)}%`, tokens >= 0.9 * beladyTokens])
        }
      }
      if (shape.name === 'light' && policy.sticky && policy.oracle !== true) verdicts.push(`${policy.name}: ${hitRate >= 0.9 && loadRatio <= 1.5 ? 'met' : 'NOT met'}`)
    }
  }
  console.log(` target (hit rate >= 90% at load max/min <= 1.5, light workload): ${verdicts.join('; ')}`)
  for (const [name, list] of goals) console.log(` issue 15 goals, ${name}: ${list.map(([what, met]) => `${what} ${met ? 'met' : 'NOT met'}`).join('; ')}`)
  const rates = (name: string) => {
    const rate = oracleRates.get(name)
    return rate === undefined ? '' : `${name} turns ${(rate.turns * 100).toFixed(1)}% tokens ${(rate.tokens * 100).toFixed(1)}%`
  }
  console.log(` what foresight reaches under these slots and queue (oracle: latest return): ${['dense', 'busy', 'agents'].map(rates).join('; ')}`)
  // The gateway's cost per request with routing: 'cache-aware' (route-job stage): hashing the prompt's prefix blocks.
  for (const tokens of [2_000, 32_000]) {
    const turns = 8
    const messages = [{ role: 'system', content: 'You are a helpful agent. '.repeat(20) }]
    const perMessage = Math.floor((tokens * CHARS_PER_TOKEN - 500) / turns)
    for (let turn = 0; turn < turns; turn++) messages.push({ role: turn % 2 === 0 ? 'user' : 'assistant', content: `turn ${turn} `.padEnd(perMessage, 'lorem ipsum dolor sit amet ') })
    const rounds = tokens > 10_000 ? 200 : 2000
    const blocks = prefixHashesOf(messages).hashes.length
    // The best of three passes of `rounds` calls (the first pass includes the compiler's warm-up).
    let microseconds = Number.POSITIVE_INFINITY
    for (let pass = 0; pass < 3; pass++) {
      const started = performance.now()
      for (let round = 0; round < rounds; round++) prefixHashesOf(messages)
      microseconds = Math.min(microseconds, ((performance.now() - started) / rounds) * 1000)
    }
    console.log(` prefix hashing (routing: cache-aware): ${tokens} tokens of prompt (${messages.length} messages, ${blocks} blocks): ${microseconds.toFixed(0)} us per request`)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
