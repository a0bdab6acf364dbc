import { afterEach, describe, expect, it } from 'vitest'
import { CacheAwareRouter } from '../../src/queue/cache-aware-router.js'
import type { PrefixHint } from '../../src/queue/prefix-hashes.js'
import { PrefixIndex } from '../../src/queue/prefix-index.js'
import { QueueScheduler } from '../../src/queue/queue-scheduler.js'
import type { JobStartEvent, Lease } from '../../src/queue/queue-scheduler.js'
import type { RouteCandidate } from '../../src/queue/upstream-router.js'

/** A prompt of blocks of `size` characters each, named by `names` (cumulative, as prefixHashesOf makes them). */
function hint(names: string[], size = 4000): PrefixHint {
  return { hashes: names.map((_, index) => names.slice(0, index + 1).join('/')), ends: names.map((_, index) => (index + 1) * size), chars: names.length * size }
}

const idle = (id: string, serviceMs?: number): RouteCandidate => ({ id, slots: 2, running: 0, waiting: 0, serviceMs })

describe('CacheAwareRouter', () => {
  it('leaves a prompt cached nowhere to the scheduler', () => {
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter()
    expect(router.choose(hint(['s', 'a']), [idle('gpu0'), idle('gpu1')], prefixes)).toBeUndefined()
  })

  it('sends a turn to the upstream holding its history, and a new conversation to its shared system prompt', () => {
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000 })
    router.started(hint(['agent', 'a1']), 'gpu1', 0, prefixes)
    const turn = router.choose(hint(['agent', 'a1', 'a2']), [idle('gpu0'), idle('gpu1')], prefixes)
    expect(turn).toMatchObject({ upstream: 'gpu1', slot: 0, cachedChars: 8000, expectedWaitMs: 0, expectedPrefillMs: 1000 })
    // 4000 uncached chars = 1000 tokens at 1000 tokens/s; the cold alternative prefills 3000 tokens, counted twice (eviction).
    expect(turn?.alternative).toEqual({ upstream: 'gpu0', expectedMs: 6000 })
    const newcomer = router.choose(hint(['agent', 'b1']), [idle('gpu0'), idle('gpu1')], prefixes)
    expect(newcomer).toMatchObject({ upstream: 'gpu1', cachedChars: 4000 })
  })

  it('moves off a warm upstream when the wait there costs more than prefilling elsewhere', () => {
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000 })
    router.started(hint(['s', 'a1']), 'gpu1', 0, prefixes)
    const busy: RouteCandidate = { id: 'gpu1', slots: 2, running: 2, waiting: 1, serviceMs: 30_000 }
    // gpu1: 2 ahead / 2 slots × 30 s = 30 s wait; gpu0: cold, 3000 tokens × 2 = 6 s.
    expect(router.choose(hint(['s', 'a1', 'a2']), [idle('gpu0'), busy], prefixes)).toMatchObject({ upstream: 'gpu0', cachedChars: 0, expectedWaitMs: 0 })
    // With short jobs the wait is cheaper than the prefill: it stays.
    expect(router.choose(hint(['s', 'a1', 'a2']), [idle('gpu0'), { ...busy, serviceMs: 2000 }], prefixes)).toMatchObject({ upstream: 'gpu1', expectedWaitMs: 2000 })
  })

  it('uses observed prefill rates, the first observation standing in for unobserved upstreams', () => {
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000 })
    expect(router.prefillRate('gpu0')).toBe(1000)
    router.observePrefillRate('gpu0', 4000)
    expect(router.prefillRate('gpu1')).toBe(4000)
    router.observePrefillRate('gpu1', 500)
    router.observePrefillRate('gpu1', Number.NaN)
    expect(router.prefillRate('gpu1')).toBe(500)
    router.started(hint(['s', 'a1']), 'gpu0', 0, prefixes)
    router.started(hint(['s', 'b1']), 'gpu1', 0, prefixes)
    // Both hold the system prompt only (4000 chars = 1000 tokens of the 2000 left): gpu0 prefills 8x faster.
    expect(router.choose(hint(['s', 'c1', 'c2']), [idle('gpu1'), idle('gpu0')], prefixes)?.upstream).toBe('gpu0')
  })
})

describe('QueueScheduler with a router', () => {
  const open: QueueScheduler[] = []
  afterEach(() => {
    for (const scheduler of open.splice(0)) scheduler.close()
  })

  it('routes by the prefix index, names the warm slot, and keeps stickyMaxImbalance as a hard cap', async () => {
    const now = 0
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000 })
    const scheduler = new QueueScheduler({ upstreams: [{ id: 'gpu0', slots: 2, slotAffinity: true }, { id: 'gpu1', slots: 2, slotAffinity: true }], router, stickyMaxImbalance: 1, now: () => now })
    open.push(scheduler)
    const starts: JobStartEvent[] = []
    scheduler.on('job-start', (event) => starts.push(event))
    const leases: Lease[] = []
    const run = async (id: string, prefix: PrefixHint) => {
      const lease = await scheduler.acquire({ id, threadKey: id.split('-')[0], prefix })
      leases.push(lease)
      return lease
    }
    // Two conversations of two agents, on the coldest slots the scheduler picks.
    const a1 = await run('a-1', hint(['agentA', 'a1']))
    const b1 = await run('b-1', hint(['agentB', 'b1']))
    expect(a1.upstream).not.toBe(b1.upstream)
    a1.release()
    b1.release()
    // A new conversation of agent A goes where agent A's prompt is, onto that slot.
    const c1 = await run('c-1', hint(['agentA', 'c1']))
    expect([c1.upstream, c1.slot]).toEqual([a1.upstream, a1.slot])
    // Fill A's upstream: the next turn of a, warm there, may still wait (cap 1 job per slot), so it is queued there.
    const filler = await run('f-1', hint(['x', 'f1']))
    expect(filler.upstream).toBe(b1.upstream)
    const other = await run('g-1', hint(['agentA', 'g1']))
    expect(other.upstream).toBe(a1.upstream)
    const waiting = scheduler.acquire({ id: 'a-2', threadKey: 'a', prefix: hint(['agentA', 'a1', 'a2']) })
    expect(scheduler.status('a-2')).toBe('queued')
    expect(scheduler.position('a-2')?.upstream).toBe(a1.upstream)
    c1.release()
    const a2 = await waiting
    expect(a2.upstream).toBe(a1.upstream)
    expect(starts.map((event) => event.jobId)).toEqual(['a-1', 'b-1', 'c-1', 'f-1', 'g-1', 'a-2'])
  })

  it.each([
    [2, 'gpu0', 'queued'],
    [0, 'gpu1', 'running'],
  ] as const)('with stickyMaxImbalance %d a long warm prompt behind a busy slot goes to %s', async (cap, upstream, status) => {
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000 })
    const scheduler = new QueueScheduler({ upstreams: [{ id: 'gpu0', slots: 1 }, { id: 'gpu1', slots: 1 }], router, stickyMaxImbalance: cap, now: () => 0 })
    open.push(scheduler)
    // 40 000 uncached characters = 10 000 tokens = 10 s of prefill (20 s with the eviction) against a 10 s wait.
    const first = await scheduler.acquire({ id: 'p-1', prefix: hint(['s', 'p1'], 20_000) })
    expect(first.upstream).toBe('gpu0')
    const second = scheduler.acquire({ id: 'p-2', prefix: hint(['s', 'p1', 'p2'], 20_000) })
    expect(scheduler.status('p-2')).toBe(status)
    expect(scheduler.position('p-2')?.upstream ?? (await second).upstream).toBe(upstream)
    first.release()
    expect((await second).upstream).toBe(upstream)
  })
})
