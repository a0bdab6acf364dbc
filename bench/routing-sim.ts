/**
 * Routing simulation on the injected clock (no real time passes): 4 upstreams × 2 slots, 64 conversations of
 * 10 turns each, with think time between turns, and a prompt-cache model. Prints, for sticky routing (with and
 * without llama.cpp slot affinity) against plain least-loaded routing: the cache-hit rate, the max/min ratio of
 * jobs served per upstream, and the mean queue wait.
 *
 * Cache model: an upstream slot holds the prompt of the last conversation it served.
 * - Slot affinity: the scheduler names the slot (`id_slot`); a turn hits when that slot served this
 *   conversation last.
 * - Without: the server picks the slot, as llama.cpp does: an idle slot already holding the conversation
 *   (a hit) or else the idle slot unused the longest (a miss).
 * The hit rate counts follow-up turns (2..10): a conversation's first turn can never hit.
 *
 * Workloads (seeded, identical for every policy): conversations arrive as a Poisson process; a turn takes
 * 2–12 s to generate (30-90 s in `busy`); the user thinks 10–90 s between turns. `light` has a mean arrival gap
 * of 120 s (about 4 conversations active at once for 8 slot caches), `dense` 45 s (about 11 active: more
 * conversations than caches, so no policy can keep them all warm), `busy` 120 s with long turns (queues form).
 * Each workload also prints two ceilings computed from its turn sequence as if nothing waited: one shared
 * LRU cache of all 8 slots, and Belady's optimum (evict the conversation needed furthest in the future).
 *
 * Run: `node_modules/.bin/node --import tsx bench/routing-sim.ts`.
 * @module
 */
import { pathToFileURL } from 'node:url'
import { QueueScheduler } from '../src/queue/queue-scheduler.js'
import type { JobStartEvent, Lease } from '../src/queue/queue-scheduler.js'
import { seededRandom as random } from '../test/helpers/seeded-random.js'

const UPSTREAMS = 4
const SLOTS = 2
const CONVERSATIONS = 64
const TURNS = 10
const THINK_MS: [number, number] = [10_000, 90_000]

interface Workload {
  name: string
  meanArrivalGapMs: number
  serviceMs: [number, number]
}

const WORKLOADS: Workload[] = [
  { name: 'light', meanArrivalGapMs: 120_000, serviceMs: [2_000, 12_000] },
  { name: 'dense', meanArrivalGapMs: 45_000, serviceMs: [2_000, 12_000] },
  { name: 'busy', meanArrivalGapMs: 120_000, serviceMs: [30_000, 90_000] },
]


interface Conversation {
  start: number
  service: number[]
  think: number[]
}

function workload(shape: Workload, seed: number): Conversation[] {
  const next = random(seed)
  const between = (range: [number, number]) => range[0] + next() * (range[1] - range[0])
  let clock = 0
  return Array.from({ length: CONVERSATIONS }, () => {
    clock += -Math.log(1 - next()) * shape.meanArrivalGapMs
    return { start: clock, service: Array.from({ length: TURNS }, () => between(shape.serviceMs)), think: Array.from({ length: TURNS - 1 }, () => between(THINK_MS)) }
  })
}

/** Turn starts as if no turn ever waited: [time, conversation], in time order. */
function accessSequence(conversations: Conversation[]): Array<[number, number]> {
  const accesses: Array<[number, number]> = []
  conversations.forEach((conversation, index) => {
    let time = conversation.start
    for (let turn = 0; turn < TURNS; turn++) {
      accesses.push([time, index])
      time += (conversation.service[turn] as number) + (conversation.think[turn] ?? 0)
    }
  })
  return accesses.sort((a, b) => a[0] - b[0])
}

/** Follow-up hit rates of one shared cache of `capacity` conversations: LRU, and Belady's optimum. */
function ceilings(conversations: Conversation[], capacity: number): { lru: number; belady: number } {
  const sequence = accessSequence(conversations).map(([, conversation]) => conversation)
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
  sequence.forEach((conversation, index) => {
    if (cached.has(conversation)) beladyHits++
    else if (cached.size >= capacity) {
      let victim = -1
      let furthest = -1
      for (const [candidate, use] of cached) if (use > furthest) [victim, furthest] = [candidate, use]
      cached.delete(victim)
    }
    cached.set(conversation, nextUse[index] as number)
  })
  return { lru: lruHits / followUps, belady: beladyHits / followUps }
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

interface Policy {
  name: string
  sticky: boolean
  slotAffinity: boolean
}

interface Result {
  hitRate: number
  loadRatio: number
  served: number[]
  meanWaitMs: number
  maxWaitMs: number
}

async function simulate(policy: Policy, conversations: Conversation[]): Promise<Result> {
  let now = 0
  const scheduler = new QueueScheduler({
    upstreams: Array.from({ length: UPSTREAMS }, (_, index) => ({ id: `gpu${index}`, slots: SLOTS, slotAffinity: policy.slotAffinity })),
    now: () => now,
  })
  const events = new EventQueue()
  const leases = new Map<string, Lease>()
  /** Conversation whose prompt each slot holds, and whether it is generating. */
  const caches = Array.from({ length: UPSTREAMS }, () => Array.from({ length: SLOTS }, () => ({ conversation: -1, busy: false, lastUsed: -1 })))
  const runningSlot = new Map<string, { upstream: number; slot: number }>()
  const served = new Array<number>(UPSTREAMS).fill(0)
  let followUps = 0
  let hits = 0
  let waitSum = 0
  let waitMax = 0
  let jobs = 0

  const arrive = (conversation: number, turn: number) => {
    const id = `c${conversation}-t${turn}`
    scheduler.acquire({ id, threadKey: policy.sticky ? `chat-${conversation}` : undefined }).then(
      (lease) => leases.set(id, lease),
      (error: unknown) => {
        throw error
      },
    )
  }

  scheduler.on('job-start', (event: JobStartEvent) => {
    const [conversation, turn] = event.jobId.slice(1).split('-t').map(Number) as [number, number]
    const upstream = Number(event.upstream.slice(3))
    const slots = caches[upstream] as Array<{ conversation: number; busy: boolean; lastUsed: number }>
    let slot: number
    if (event.slot !== undefined) {
      slot = event.slot
    } else {
      // The server's own choice: an idle slot holding this conversation, else the idle slot unused the longest.
      const idle = slots.map((cache, index) => ({ cache, index })).filter(({ cache }) => !cache.busy)
      const warm = idle.find(({ cache }) => cache.conversation === conversation)
      slot = (warm ?? idle.sort((a, b) => a.cache.lastUsed - b.cache.lastUsed)[0])?.index ?? -1
      if (slot < 0) throw new Error(`no idle slot on ${event.upstream}`)
    }
    const cache = slots[slot] as { conversation: number; busy: boolean; lastUsed: number }
    if (cache.busy) throw new Error(`two running jobs on ${event.upstream} slot ${slot}`)
    if (turn > 0) {
      followUps++
      if (cache.conversation === conversation) hits++
    }
    cache.conversation = conversation
    cache.busy = true
    runningSlot.set(event.jobId, { upstream, slot })
    served[upstream] = (served[upstream] as number) + 1
    waitSum += event.waitedMs
    waitMax = Math.max(waitMax, event.waitedMs)
    jobs++
    const conversationData = conversations[conversation] as Conversation
    events.push(now + (conversationData.service[turn] as number), () => {
      const place = runningSlot.get(event.jobId) as { upstream: number; slot: number }
      const finished = (caches[place.upstream] as Array<{ busy: boolean; lastUsed: number }>)[place.slot] as { busy: boolean; lastUsed: number }
      finished.busy = false
      finished.lastUsed = now
      const lease = leases.get(event.jobId)
      if (lease === undefined) throw new Error(`lease of ${event.jobId} not handed over`)
      lease.release()
      if (turn + 1 < TURNS) events.push(now + (conversationData.think[turn] as number), () => arrive(conversation, turn + 1))
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
  return { hitRate: hits / followUps, loadRatio: Math.max(...served) / Math.min(...served), served, meanWaitMs: waitSum / jobs, maxWaitMs: waitMax }
}

/** Runs the simulation and prints its figures. */
export async function run(): Promise<void> {
  const policies: Policy[] = [
    { name: 'sticky + slot affinity', sticky: true, slotAffinity: true },
    { name: 'sticky', sticky: true, slotAffinity: false },
    { name: 'least-loaded', sticky: false, slotAffinity: false },
  ]
  const seeds = [1, 2, 3, 4, 5]
  console.log(`routing sim: ${UPSTREAMS} upstreams x ${SLOTS} slots, ${CONVERSATIONS} conversations x ${TURNS} turns, think ${THINK_MS[0] / 1000}-${THINK_MS[1] / 1000} s; mean of ${seeds.length} seeds; hit rate over follow-up turns`)
  const verdicts: string[] = []
  for (const shape of WORKLOADS) {
    const limits = seeds.map((seed) => ceilings(workload(shape, seed), UPSTREAMS * SLOTS))
    const average = (pick: (limit: { lru: number; belady: number }) => number) => ((limits.reduce((sum, limit) => sum + pick(limit), 0) / limits.length) * 100).toFixed(1)
    console.log(
      ` ${shape.name}: arrivals every ${shape.meanArrivalGapMs / 1000} s on average, turns ${shape.serviceMs[0] / 1000}-${shape.serviceMs[1] / 1000} s; ` +
        `ceilings: shared LRU of ${UPSTREAMS * SLOTS} ${average((limit) => limit.lru)}%, Belady ${average((limit) => limit.belady)}%`,
    )
    for (const policy of policies) {
      const results: Result[] = []
      for (const seed of seeds) results.push(await simulate(policy, workload(shape, seed)))
      const mean = (pick: (result: Result) => number) => results.reduce((sum, result) => sum + pick(result), 0) / results.length
      const hitRate = mean((result) => result.hitRate)
      const loadRatio = mean((result) => result.loadRatio)
      console.log(
        `  ${policy.name.padEnd(24)} hit rate ${(hitRate * 100).toFixed(1)}% (worst seed ${(Math.min(...results.map((result) => result.hitRate)) * 100).toFixed(1)}%)` +
          `  load max/min ${loadRatio.toFixed(2)} (worst ${Math.max(...results.map((result) => result.loadRatio)).toFixed(2)})` +
          `  wait mean ${(mean((result) => result.meanWaitMs) / 1000).toFixed(2)} s, max ${(Math.max(...results.map((result) => result.maxWaitMs)) / 1000).toFixed(1)} s` +
          `  served per upstream (seed 1) ${(results[0] as Result).served.join('/')}`,
      )
      if (shape.name === 'light' && policy.sticky) verdicts.push(`${policy.name}: ${hitRate >= 0.9 && loadRatio <= 1.5 ? 'met' : 'NOT met'}`)
    }
  }
  console.log(` target (hit rate >= 90% at load max/min <= 1.5, light workload): ${verdicts.join('; ')}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
