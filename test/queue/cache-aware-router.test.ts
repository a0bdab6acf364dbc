import { afterEach, describe, expect, it } from 'vitest'
import { CacheAwareRouter } from '../../src/queue/cache-aware-router.js'
import type { PrefixHint } from '../../src/queue/prefix-hashes.js'
import { PrefixIndex } from '../../src/queue/prefix-index.js'
import { QueueScheduler } from '../../src/queue/queue-scheduler.js'
import type { JobStartEvent, Lease } from '../../src/queue/queue-scheduler.js'
import type { RouteCandidate, UpstreamRouter } from '../../src/queue/upstream-router.js'

/** A prompt of blocks of `size` characters each, named by `names` (cumulative, as prefixHashesOf makes them). */
function hint(names: string[], size = 4000): PrefixHint {
  return { hashes: names.map((_, index) => names.slice(0, index + 1).join('/')), ends: names.map((_, index) => (index + 1) * size), chars: names.length * size }
}

const idle = (id: string, serviceMs?: number): RouteCandidate => ({ id, slots: 2, running: 0, waiting: 0, serviceMs })

/** A prompt whose blocks have the given names and sizes (cumulative hashes, as prefixHashesOf makes them). */
function sized(blocks: Array<[string, number]>): PrefixHint {
  let end = 0
  const ends = blocks.map(([, size]) => (end += size))
  return { hashes: blocks.map((_, index) => blocks.slice(0, index + 1).map(([name]) => name).join('/')), ends, chars: end }
}

describe('CacheAwareRouter', () => {
  it('places a prompt cached nowhere on a free slot, spreading new prompts over the upstreams', () => {
    let now = 0
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ now: () => now })
    const first = router.choose(hint(['s', 'a']), [idle('gpu0'), idle('gpu1')], prefixes)
    expect(first).toMatchObject({ upstream: 'gpu0', cachedChars: 0, expectedEvictionMs: 0 })
    router.started(hint(['s', 'a']), 'gpu0', first!.slot!, prefixes)
    now = 1000
    // Both cost the same; gpu0 started a job lately, gpu1 none.
    expect(router.choose(hint(['t', 'b']), [idle('gpu0'), idle('gpu1')], prefixes)?.upstream).toBe('gpu1')
  })

  it('sends a turn to the slot holding its history, counting the answer there as cached', () => {
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => 0 })
    router.started(hint(['agent', 'a1']), 'gpu1', 0, prefixes)
    router.finished(hint(['agent', 'a1']), 'gpu1', 0)
    // The slot holds agent/a1 and its answer (the next block): only the last block, 4000 chars = 1000 tokens, is new.
    const turn = router.choose(hint(['agent', 'a1', 'reply', 'a2']), [idle('gpu0'), idle('gpu1')], prefixes)
    expect(turn).toMatchObject({ upstream: 'gpu1', slot: 0, cachedChars: 12_000, expectedWaitMs: 0, expectedPrefillMs: 1000, expectedEvictionMs: 0 })
    expect(turn?.alternative).toEqual({ upstream: 'gpu0', expectedMs: 4000 })
  })

  it('gives a new conversation the slot of a shared system prompt once the conversation there is cold, not before', () => {
    let now = 0
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => now })
    const agent: [string, number] = ['agent', 16_000]
    router.started(sized([agent, ['a1', 4000]]), 'gpu1', 0, prefixes)
    router.finished(sized([agent, ['a1', 4000]]), 'gpu1', 0)
    const newcomer = sized([agent, ['b1', 400]])
    // Just ended: overwriting it would cost conversation a its history (4000 chars, counted twice) > the 16 000 chars saved.
    expect(router.choose(newcomer, [idle('gpu0'), idle('gpu1')], prefixes)).toMatchObject({ upstream: 'gpu1', slot: 0, cachedChars: 16_000 })
    const longHistory = sized([agent, ['a1', 40_000]])
    router.started(longHistory, 'gpu1', 0, prefixes)
    router.finished(longHistory, 'gpu1', 0)
    expect(router.choose(newcomer, [idle('gpu0'), idle('gpu1')], prefixes)).toMatchObject({ cachedChars: 0 })
    // Ten idle minutes later (no return gaps learnt yet: its value halves every minute) the slot is fair game.
    now = 600_000
    expect(router.choose(newcomer, [idle('gpu0'), idle('gpu1')], prefixes)).toMatchObject({ upstream: 'gpu1', slot: 0, cachedChars: 16_000 })
  })

  it('overwrites the slot whose conversation is expected back last, from the learnt return gaps', () => {
    let now = 0
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => now })
    // Teach it: twenty turns, each continued 30 s after it ended.
    for (let index = 0; index < 20; index++) {
      const turn = sized([[`t${index}`, 400]])
      router.started(turn, 'gpu9', 0, prefixes)
      router.finished(turn, 'gpu9', 0)
      now += 30_000
      router.choose(sized([[`t${index}`, 400], ['next', 40]]), [idle('gpu9')], prefixes)
    }
    const start = now
    const hold = (name: string, slot: number, endedAt: number) => {
      now = endedAt
      router.started(sized([[name, 8000]]), 'gpu0', slot, prefixes)
      router.finished(sized([[name, 8000]]), 'gpu0', slot)
    }
    hold('soon', 0, start) // idle 28 s at the choice: back in about 2 s
    hold('later', 1, start + 27_000) // idle 1 s: back in about 29 s
    now = start + 28_000
    const gpu0 = { ...idle('gpu0'), slots: 2 }
    expect(router.choose(sized([['new', 400]]), [gpu0], prefixes)?.slot).toBe(1)
    // A slot idle past every gap seen holds a conversation that ended: it goes first.
    hold('ended', 1, start + 28_000 - 200_000)
    now = start + 28_000
    const choice = router.choose(sized([['new', 400]]), [gpu0], prefixes)
    expect(choice).toMatchObject({ slot: 1, expectedEvictionMs: 0 })
  })

  it('learns that conversations end at a given depth and overwrites a finished one first, though it ended last', () => {
    let now = 0
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => now })
    const turnOf = (conversation: string, turns: number): PrefixHint => ({ ...sized(Array.from({ length: turns }, (_, index): [string, number] => [`${conversation}${index}`, 4000])), turns })
    // Teach it: twenty two-turn conversations on slot 0 of gpu9, each turn continued 20 s after it ended, the second never.
    for (let index = 0; index < 20; index++) {
      for (const turns of [1, 2]) {
        const turn = turnOf(`x${index}-`, turns)
        router.choose(turn, [idle('gpu9')], prefixes)
        router.started(turn, 'gpu9', 0, prefixes)
        router.finished(turn, 'gpu9', 0)
        now += 20_000
      }
    }
    now += 200_000 // past the horizon: the second turns count as not continued
    router.choose(turnOf('unrelated', 1), [idle('gpu9')], prefixes)
    // Slot 0 holds a first turn that ended 5 s ago; slot 1 a second turn (a finished conversation) that ended 1 s ago.
    const gpu0 = { ...idle('gpu0'), slots: 2 }
    router.started(turnOf('a', 1), 'gpu0', 0, prefixes)
    router.finished(turnOf('a', 1), 'gpu0', 0)
    now += 4000
    router.started(turnOf('b', 2), 'gpu0', 1, prefixes)
    router.finished(turnOf('b', 2), 'gpu0', 1)
    now += 1000
    const choice = router.choose(turnOf('new', 1), [gpu0], prefixes)
    expect(choice?.slot).toBe(1)
    expect(choice?.expectedEvictionMs).toBeLessThan(400)
  })

  it('among near-equal options, takes the one that overwrites fewer tokens before the upstream with fewer recent starts', () => {
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => 0 })
    const one = { ...idle('gpu0'), slots: 1 }
    const other = { ...idle('gpu1'), slots: 1 }
    // gpu0's slot holds a long conversation (8000 chars), gpu1's a short one (800 chars), both just ended; gpu1 started
    // three jobs, gpu0 one, so the count of recent starts alone would send a new prompt to gpu0.
    for (const name of ['b', 'c', 'd']) {
      router.started(sized([[name, 800]]), 'gpu1', 0, prefixes)
      router.finished(sized([[name, 800]]), 'gpu1', 0)
    }
    router.started(sized([['a', 8000]]), 'gpu0', 0, prefixes)
    router.finished(sized([['a', 8000]]), 'gpu0', 0)
    // A new 40 000-char prompt: 10 s of prefill on either; overwriting costs 2 × 2 s on gpu0, 2 × 0.2 s on gpu1, both
    // within the near-equal band.
    const prompt = sized([['n', 40_000]])
    expect(router.choose(prompt, [one, other], prefixes)).toMatchObject({ upstream: 'gpu1', slot: 0, expectedEvictionMs: 400 })
    // With nothing to overwrite on either, the upstream with fewer recent starts takes it.
    router.forgotten('gpu0')
    router.forgotten('gpu1')
    expect(router.choose(prompt, [one, other], prefixes)?.upstream).toBe('gpu0')
  })

  it('prices overwriting a slot still running as overwriting one that just ended, however long it was idle before', () => {
    let now = 0
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => now })
    router.started(hint(['a', 'a1']), 'gpu0', 0, prefixes)
    router.finished(hint(['a', 'a1']), 'gpu0', 0)
    // Ten minutes later b starts there and is still running: its 8000 chars (2 s of prefill) are as fresh as can be.
    now = 600_000
    router.started(hint(['b', 'b1']), 'gpu0', 0, prefixes)
    const full: RouteCandidate = { id: 'gpu0', slots: 1, running: 1, waiting: 0, serviceMs: 1000 }
    expect(router.choose(hint(['n', 'n1']), [full], prefixes)).toMatchObject({ upstream: 'gpu0', slot: undefined, expectedEvictionMs: 4000 })
  })

  it('keeps a slot for the continuation only when turns come back within milliseconds, it saves more than it costs, and the next in line has not waited long', () => {
    let now = 0
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => now })
    const turn = (index: number) => hint([`t${index}`], 4000)
    const queue = { waiting: 2, nextWaitedMs: 50 }
    // Nothing learnt yet: no hold.
    expect(router.holdMs(turn(0), 'gpu0', 0, queue)).toBe(0)
    // Twenty turns, each continued 3 ms after it ended (a tool loop).
    for (let index = 0; index < 20; index++) {
      router.started(turn(index), 'gpu0', 0, prefixes)
      router.finished(turn(index), 'gpu0', 0)
      now += 3
      router.choose(hint([`t${index}`, 'next'], 4000), [idle('gpu0')], prefixes)
      now += 100
    }
    const held = router.holdMs(turn(99), 'gpu0', 0, queue)
    expect(held).toBeGreaterThanOrEqual(3)
    expect(held).toBeLessThan(5)
    // The one next in line waited a second already: it goes first.
    expect(router.holdMs(turn(99), 'gpu0', 0, { waiting: 2, nextWaitedMs: 1000 })).toBe(0)
    // A prompt of a few characters saves less than the hold would cost a long queue.
    expect(router.holdMs(hint(['tiny'], 4), 'gpu0', 0, { waiting: 50, nextWaitedMs: 0 })).toBe(0)
    expect(new CacheAwareRouter({ maxHoldMs: 0 }).holdMs(turn(1), 'gpu0', 0, queue)).toBe(0)
    expect(() => new CacheAwareRouter({ maxHoldWaitMs: -1 })).toThrow(TypeError)
  })

  it('without slot affinity, predicts the slot the server picks (longest prefix, else unused the longest) and records it there', () => {
    let now = 0
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => now })
    const server: RouteCandidate = { ...idle('gpu0'), slotAffinity: false }
    const run = (prompt: PrefixHint, schedulerSlot: number) => {
      router.choose(prompt, [server], prefixes)
      router.started(prompt, 'gpu0', schedulerSlot, prefixes)
      now += 1000
      router.finished(prompt, 'gpu0', schedulerSlot)
      now += 1000
    }
    // The scheduler counts slot 0 both times; the server, with slot 0 holding a, puts b on the unused slot 1.
    run(hint(['a']), 0)
    run(hint(['b']), 0)
    expect([...prefixes.matches(hint(['a']).hashes).keys()]).toEqual(['gpu0\u00000'])
    expect([...prefixes.matches(hint(['b']).hashes).keys()]).toEqual(['gpu0\u00001'])
    // a's next turn: the server picks the slot holding a (the longest prefix), and the router prices that slot.
    expect(router.choose(hint(['a', 'reply', 'a2']), [server], prefixes)).toMatchObject({ slot: 0, cachedChars: 8000 })
    // A new prompt: the server takes the slot unused the longest (a's, ended first), whatever it costs.
    expect(router.choose(hint(['c']), [server], prefixes)).toMatchObject({ slot: 0 })
  })

  it('forgets what a slot held when the server reused it (no eviction cost for a prompt already gone)', () => {
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => 0 })
    router.started(hint(['s', 'a1']), 'gpu0', 0, prefixes)
    router.finished(hint(['s', 'a1']), 'gpu0', 0)
    const gpu0 = { ...idle('gpu0'), slots: 1 }
    expect(router.choose(hint(['t', 'b1']), [gpu0], prefixes)?.expectedEvictionMs).toBeGreaterThan(0)
    prefixes.forgetSlot('gpu0', 0)
    router.forgotten('gpu0', [0])
    expect(router.choose(hint(['t', 'b1']), [gpu0], prefixes)?.expectedEvictionMs).toBe(0)
    router.started(hint(['s', 'a1']), 'gpu0', 0, prefixes)
    router.finished(hint(['s', 'a1']), 'gpu0', 0)
    router.forgotten('gpu0')
    expect(router.choose(hint(['t', 'b1']), [gpu0], prefixes)?.expectedEvictionMs).toBe(0)
  })

  it('moves off a warm upstream when the wait there costs more than prefilling elsewhere', () => {
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => 0 })
    router.started(hint(['s', 'a1']), 'gpu1', 0, prefixes)
    const busy: RouteCandidate = { id: 'gpu1', slots: 2, running: 2, waiting: 1, serviceMs: 30_000 }
    // gpu1: 2 ahead / 2 slots × 30 s = 30 s wait; gpu0: cold, 3000 tokens = 3 s.
    expect(router.choose(hint(['s', 'a1', 'a2']), [idle('gpu0'), busy], prefixes)).toMatchObject({ upstream: 'gpu0', cachedChars: 0, expectedWaitMs: 0 })
    // With short jobs the wait is cheaper than the prefill: it stays, naming the slot that holds its prefix.
    expect(router.choose(hint(['s', 'a1', 'a2']), [idle('gpu0'), { ...busy, serviceMs: 2000 }], prefixes)).toMatchObject({ upstream: 'gpu1', expectedWaitMs: 2000, slot: 0 })
  })

  it('uses observed prefill rates, the first observation standing in for unobserved upstreams', () => {
    const prefixes = new PrefixIndex()
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => 0 })
    expect(router.prefillRate('gpu0')).toBe(1000)
    router.observePrefillRate('gpu0', 4000)
    expect(router.prefillRate('gpu1')).toBe(4000)
    router.observePrefillRate('gpu1', 500)
    router.observePrefillRate('gpu1', Number.NaN)
    expect(router.prefillRate('gpu1')).toBe(500)
    // Both cold: gpu0 prefills 8x faster (beyond the near-equal band where the less busy one would take it).
    expect(router.choose(hint(['s', 'c1', 'c2']), [idle('gpu1'), idle('gpu0')], prefixes)?.upstream).toBe('gpu0')
  })
})

describe('QueueScheduler with a router', () => {
  const open: QueueScheduler[] = []
  afterEach(() => {
    for (const scheduler of open.splice(0)) scheduler.close()
  })

  it('routes by the prefix index, names the warm slot, and keeps stickyMaxImbalance as a hard cap', async () => {
    let now = 0
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => now })
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
    // Minutes later, a new conversation of agent A goes where agent A's prompt is, onto that slot (a's history there
    // has gone cold: overwriting it costs little).
    now = 600_000
    const c1 = await run('c-1', hint(['agentA', 'c1']))
    expect([c1.upstream, c1.slot]).toEqual([a1.upstream, a1.slot])
    // Fill A's upstream: the next turn of a, whose agent prompt is warm there, may still wait (cap 1 job per slot);
    // with a long agent prompt (40 000 chars: 10 s to prefill cold) waiting (5 s) is cheaper, so it is queued there.
    const filler = await run('f-1', hint(['x', 'f1']))
    expect(filler.upstream).toBe(b1.upstream)
    const other = await run('g-1', hint(['agentA', 'g1']))
    expect(other.upstream).toBe(a1.upstream)
    const waiting = scheduler.acquire({ id: 'a-2', threadKey: 'a', prefix: sized([['agentA', 40_000], ['a1', 4000], ['a2', 4000]]) })
    expect(scheduler.status('a-2')).toBe('queued')
    expect(scheduler.position('a-2')?.upstream).toBe(a1.upstream)
    c1.release()
    const a2 = await waiting
    expect(a2.upstream).toBe(a1.upstream)
    expect(starts.map((event) => event.jobId)).toEqual(['a-1', 'b-1', 'c-1', 'f-1', 'g-1', 'a-2'])
  })

  it('gives a kept slot to the continuation of its prompt before the queue, and to the queue when the time is up', async () => {
    let now = 0
    const timers: Array<{ at: number; callback: () => void }> = []
    const holds: number[] = []
    const router: UpstreamRouter = {
      choose: (_prefix, candidates) => ({ upstream: candidates[0]!.id, slot: undefined, cachedChars: 0, expectedWaitMs: 0, expectedPrefillMs: 0, alternative: undefined }),
      started: () => {},
      holdMs: (_prefix, _upstream, _slot, queue) => {
        holds.push(queue.waiting)
        return 50
      },
    }
    const scheduler = new QueueScheduler({
      upstreams: [{ id: 'gpu0', slots: 1, slotAffinity: true }],
      router,
      now: () => now,
      _internal: { setTimeout: (callback, ms) => timers.push({ at: now + ms, callback }), clearTimeout: (handle) => void timers.splice(timers.indexOf(handle as (typeof timers)[number]), 1) },
    })
    open.push(scheduler)
    const starts: string[] = []
    scheduler.on('job-start', (event) => starts.push(event.jobId))
    const a1 = await scheduler.acquire({ id: 'a1', prefix: hint(['a', 'a1']) })
    const b = scheduler.acquire({ id: 'b', prefix: hint(['b', 'b1']) })
    // a1 ends while b waits: the slot is kept for a's next turn, which takes it at once, before b.
    a1.release()
    expect(holds).toEqual([1])
    expect(scheduler.status('b')).toBe('queued')
    now += 5
    const a2 = await scheduler.acquire({ id: 'a2', prefix: hint(['a', 'a1', 'reply', 'a2']) })
    expect(a2).toMatchObject({ upstream: 'gpu0', slot: 0 })
    expect(starts).toEqual(['a1', 'a2'])
    // a2 ends and its continuation does not come: after the hold, b gets the slot.
    a2.release()
    now += 50
    for (const timer of timers.splice(0)) if (timer.at <= now) timer.callback()
    expect((await b).slot).toBe(0)
    expect(starts).toEqual(['a1', 'a2', 'b'])
    // Nothing waits: no hold is asked for.
    ;(await b).release()
    expect(holds).toEqual([1, 1])
    expect(scheduler.snapshot().upstreams[0]).toMatchObject({ running: 0 })
  })

  it.each([
    [2, 'gpu0', 'queued'],
    [0, 'gpu1', 'running'],
  ] as const)('with stickyMaxImbalance %d a long warm prompt behind a busy slot goes to %s', async (cap, upstream, status) => {
    const router = new CacheAwareRouter({ defaultPrefillTokensPerSecond: 1000, now: () => 0 })
    const scheduler = new QueueScheduler({ upstreams: [{ id: 'gpu0', slots: 1 }, { id: 'gpu1', slots: 1 }], router, stickyMaxImbalance: cap, now: () => 0 })
    open.push(scheduler)
    // 60 000 uncached characters = 15 000 tokens = 15 s of prefill on gpu1 against a 10 s wait on gpu0.
    const first = await scheduler.acquire({ id: 'p-1', prefix: hint(['s', 'p1'], 20_000) })
    expect(first.upstream).toBe('gpu0')
    const second = scheduler.acquire({ id: 'p-2', prefix: hint(['s', 'p1', 'p2'], 20_000) })
    expect(scheduler.status('p-2')).toBe(status)
    expect(scheduler.position('p-2')?.upstream ?? (await second).upstream).toBe(upstream)
    first.release()
    expect((await second).upstream).toBe(upstream)
  })
})
