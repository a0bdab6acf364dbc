import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import { describeEvent } from '../../src/observe/event-log.js'
import { startSimulatedUpstream } from '../../src/demo/simulated-upstream.js'
import type { SimulatedUpstream } from '../../src/demo/simulated-upstream.js'
import { prefixHashesOf } from '../../src/queue/prefix-hashes.js'
import { runConversations, summarize } from './conversation-workload.js'

describe('routing: cache-aware end to end', () => {
  const upstreams: FakeUpstream[] = []
  const simulated: SimulatedUpstream[] = []
  let gateway: TestGateway | undefined

  afterEach(async () => {
    await gateway?.close()
    gateway = undefined
    await Promise.all([...upstreams.splice(0), ...simulated.splice(0)].map((upstream) => upstream.close()))
  })

  it('sends a new conversation to the upstream slot that holds its system prompt', async () => {
    for (let index = 0; index < 2; index++) upstreams.push(await startFakeUpstream({ slots: 2 }))
    gateway = await startQueuegate({ upstreams: upstreams.map((upstream) => ({ url: upstream.url, slots: 2, slotAffinity: true })), routing: 'cache-aware' })
    const agentPrompt = { role: 'system' as const, content: 'You are the release agent. '.repeat(200) }
    const ask = async (chat: string, messages: Array<{ role: 'system' | 'user'; content: string }>) => {
      const answer = await gateway!.client.chat.completions.create({ model: 'fake-model', messages }, { headers: { 'X-Chat-Id': chat } })
      expect(answer.choices[0]?.message.content).toBeTruthy()
    }
    /** Where the request whose last message says `text` ran: [upstream index, id_slot]. */
    const placeOf = (text: string): [number, number | undefined] => {
      for (const [index, upstream] of upstreams.entries()) {
        const request = upstream.requests.find((recorded) => JSON.stringify(recorded.body).includes(text))
        if (request !== undefined) return [index, request.idSlot]
      }
      throw new Error(`no upstream saw ${text}`)
    }
    await ask('one', [agentPrompt, { role: 'user', content: 'first conversation' }])
    await ask('two', [agentPrompt, { role: 'user', content: 'second conversation' }])
    await ask('three', [{ role: 'system', content: 'Another agent.' }, { role: 'user', content: 'third conversation' }])
    const first = placeOf('first conversation')
    expect(first[1]).toBeTypeOf('number')
    // Same system prompt, another conversation id: the sticky rule would place it on the coldest slot; the cost model reuses the warm one.
    expect(placeOf('second conversation')).toEqual(first)
    // Nothing of it cached anywhere: placed on a free slot, never on the warm one it would evict.
    expect(placeOf('third conversation')).not.toEqual(first)
    // The debug log says why: the second request found the agent's prompt cached where it went, and what the alternative cost.
    const starts = gateway.events.filter((event) => event.type === 'job-start')
    expect(starts.map((event) => event.type === 'job-start' && event.cache?.cachedChars)).toEqual([0, expect.any(Number), 0])
    const fields = describeEvent(starts[1]!)?.fields
    expect(fields?.['prefix_hit_chars']).toBeGreaterThanOrEqual(agentPrompt.content.length)
    expect(fields?.['expected_wait_ms']).toBe(0)
    expect(fields?.['alternative']).toMatch(/^http:\/\/127\.0\.0\.1:\d+.* \(\d+ ms\)$/)
    // And so does /v1/jobs/{id}, after the job ended.
    const job = (await (await fetch(`${gateway.url}/v1/jobs/${encodeURIComponent(starts[1]!.jobId)}`)).json()) as { status: string; route?: string }
    expect(job.status).toBe('done')
    expect(job.route).toMatch(/^prefix hit \d+ chars on http:\/\/127\.0\.0\.1:\d+.* \(slot \d\): expected wait 0 ms \+ prefill \d+ ms( \+ eviction \d+ ms)?; alternative .*: \d+ ms$/)
    const firstJob = (await (await fetch(`${gateway.url}/v1/jobs/${encodeURIComponent(starts[0]!.jobId)}`)).json()) as { route?: string }
    expect(firstJob.route).toMatch(/^nothing cached on http:\/\/127\.0\.0\.1:\d+.* \(slot \d\): expected wait 0 ms \+ prefill \d+ ms; alternative .*: \d+ ms$/)
  })

  it('learns an upstream prefill rate from streamed answers (uncached prompt tokens / time to first token)', async () => {
    upstreams.push(await startFakeUpstream({ slots: 1, ttftMs: 50 }))
    gateway = await startQueuegate({ upstreams: [{ url: upstreams[0]!.url, slots: 1, slotAffinity: true }], routing: 'cache-aware' })
    const system = { role: 'system' as const, content: 'You are the review agent. '.repeat(400) }
    const stream = async (chat: string, content: string) => {
      const chunks = await gateway!.client.chat.completions.create({ model: 'fake-model', stream: true, stream_options: { include_usage: true }, messages: [system, { role: 'user', content }] }, { headers: { 'X-Chat-Id': chat } })
      for await (const chunk of chunks) void chunk
    }
    // About 2600 prompt tokens prefilled within ~50 ms (plus the machine's latency): far faster than the 1000 tokens/s default.
    await stream('one', 'first')
    const question = 'x'.repeat(8000)
    await stream('two', question)
    const second = gateway.events.filter((event) => event.type === 'job-start')[1]
    if (second?.type !== 'job-start' || second.cache === undefined) throw new Error('the second request was not routed by the cost model')
    const uncachedChars = JSON.stringify({ role: 'user', content: question }).length
    // At the default rate: uncached characters / 4 tokens / 1000 tokens per second (~2 s); learnt: well under half of it.
    expect(second.cache.expectedPrefillMs).toBeLessThan((uncachedChars / 4 / 1000) * 1000 * 0.5)
    expect(second.cache.expectedPrefillMs).toBeGreaterThan(0)
  })

  it.each([
    ['streamed', true],
    ['whole', false],
  ])("takes llama.cpp's own prefill rate (timings.prompt_per_second) from a %s answer", async (_mode, stream) => {
    // 40 000 prompt tokens/s behind 150 ms of fixed latency: the time-to-first-token estimate would say ~10 000.
    const server = await startSimulatedUpstream({ slots: 1, promptTokensPerSecond: 40_000, baseLatencyMs: 150, answerTokens: [2, 4], tokensPerSecond: 1000 })
    simulated.push(server)
    gateway = await startQueuegate({ upstreams: [{ url: `${server.url}/v1`, slots: 1, slotAffinity: true }], routing: 'cache-aware' })
    const system = { role: 'system' as const, content: 'You are the review agent. '.repeat(400) }
    const ask = async (chat: string, messages: Array<{ role: 'system' | 'user'; content: string }>, streamed: boolean) => {
      if (streamed) {
        for await (const chunk of await gateway!.client.chat.completions.create({ model: 'sim-model', stream: true, messages }, { headers: { 'X-Chat-Id': chat } })) void chunk
      } else {
        const answer = await gateway!.client.chat.completions.create({ model: 'sim-model', messages }, { headers: { 'X-Chat-Id': chat } })
        expect(answer.choices[0]?.message.content).toBeTruthy()
      }
    }
    await ask('one', [system, { role: 'user', content: 'first' }], stream)
    const messages = [system, { role: 'user' as const, content: 'x'.repeat(8000) }]
    await ask('two', messages, true)
    const second = gateway.events.filter((event) => event.type === 'job-start')[1]
    if (second?.type !== 'job-start' || second.cache === undefined) throw new Error('the second request was not routed by the cost model')
    const uncachedTokens = (prefixHashesOf(messages).chars - second.cache.cachedChars) / 4
    const rate = uncachedTokens / (second.cache.expectedPrefillMs / 1000)
    expect(rate).toBeGreaterThan(40_000 * 0.95)
    expect(rate).toBeLessThan(40_000 * 1.05)
  })

  it("forgets a llama.cpp slot reused behind the gateway's back, and everything after a restart, as /slots shows on the health interval", async () => {
    for (let index = 0; index < 2; index++) simulated.push(await startSimulatedUpstream({ slots: 2, baseLatencyMs: 5, promptTokensPerSecond: 20_000, answerTokens: [2, 4], tokensPerSecond: 1000 }))
    gateway = await startQueuegate({ upstreams: simulated.map((server) => ({ url: `${server.url}/v1`, slots: 2, slotAffinity: true })), routing: 'cache-aware', healthIntervalMs: 40 })
    const system = { role: 'system' as const, content: 'You are the triage agent. '.repeat(200) }
    const ask = async (chat: string, content: string) => {
      const answer = await gateway!.client.chat.completions.create({ model: 'sim-model', messages: [system, { role: 'user', content }] }, { headers: { 'X-Chat-Id': chat } })
      expect(answer.choices[0]?.message.content).toBeTruthy()
      const start = gateway!.events.filter((event) => event.type === 'job-start').at(-1)
      if (start?.type !== 'job-start') throw new Error('no job-start')
      return start
    }
    /** Resolves once `upstream` finished two more health probes (so one began after this call). Bounded: 3 s. */
    const probedTwice = async (upstream: string) => {
      const lastCheck = async () => ((await (await fetch(`${gateway!.url}/healthz`)).json()) as { workers: Array<{ upstream: string; last_check: string | null }> }).workers.find((worker) => worker.upstream === upstream)?.last_check
      const seen = new Set([await lastCheck()])
      for (const deadline = Date.now() + 3000; seen.size < 3; await new Promise((resolve) => setTimeout(resolve, 10))) {
        if (Date.now() > deadline) throw new Error(`${upstream} was not probed twice within 3 s`)
        seen.add(await lastCheck())
      }
    }
    const first = await ask('one', 'first')
    const server = simulated.find((candidate) => first.upstream === `${candidate.url}/v1`)!
    expect((await ask('two', 'second')).cache).toMatchObject({ upstream: first.upstream, slot: first.slot, cachedChars: expect.any(Number) })
    // A read of /slots after the gateway's own job there ended (its health probes, /slots read included, ran twice).
    await probedTwice(first.upstream)
    // Another client of the same server takes that very slot with a prompt of its own.
    const intruder = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sim-model', id_slot: first.slot, messages: [{ role: 'user', content: 'something else entirely' }] }) })
    expect(intruder.status).toBe(200)
    await intruder.json()
    const reused = await gateway.waitForEvent((event) => event.type === 'upstream-slots', 3000)
    expect(reused).toEqual({ type: 'upstream-slots', upstream: first.upstream, reason: 'reused', slots: [first.slot] })
    // The agent's prompt is cached nowhere now: the cost model has no hit to offer (it used to route there).
    const third = await ask('three', 'third')
    expect(third.cache?.cachedChars ?? 0).toBe(0)
    // The server restarts (same port, empty slots): everything it held is forgotten.
    const restartedAt = third.upstream
    const index = simulated.findIndex((candidate) => restartedAt === `${candidate.url}/v1`)
    const old = simulated[index]!
    const port = Number(new URL(old.url).port)
    await ask('four', 'fourth') // lands on the slot holding the prompt (the third's), on the same server
    await old.close()
    simulated[index] = await startSimulatedUpstream({ slots: 2, baseLatencyMs: 5, promptTokensPerSecond: 20_000, answerTokens: [2, 4], tokensPerSecond: 1000, port })
    const restarted = await gateway.waitForEvent((event) => event.type === 'upstream-slots' && event.reason === 'restarted', 3000)
    expect(restarted).toEqual({ type: 'upstream-slots', upstream: restartedAt, reason: 'restarted' })
    expect((await ask('five', 'fifth')).cache?.cachedChars ?? 0).toBe(0)
  })

  it('keeps the slot of a conversation whose next request comes at once (a client tool loop) while others wait, so its turns stay cached', async () => {
    // One slot, three conversations sending their turns back to back. Without a hold, a waiting conversation takes the
    // slot the moment a turn ends, and every next turn finds another conversation's prompt there.
    const server = await startSimulatedUpstream({ slots: 1, promptTokensPerSecond: 20_000, baseLatencyMs: 5, tokensPerSecond: 2000, answerTokens: [4, 8] })
    simulated.push(server)
    gateway = await startQueuegate({ upstreams: [{ url: `${server.url}/v1`, slots: 1, slotAffinity: true }], routing: 'cache-aware' })
    const systemPrompts = ['planner', 'coder', 'tester'].map((name) => `You are the ${name} agent. `.repeat(300))
    const results = await runConversations({ client: gateway.client, model: 'sim-model', conversations: 3, turns: 8, systemPrompts, userChars: 200 })
    expect(results).toHaveLength(24)
    // Once the gateway has seen turns come back within milliseconds (the first few), the later turns find their
    // whole history in the slot.
    const late = summarize(results.filter((result) => result.turn >= 5))
    expect(late.cachedShare).toBeGreaterThan(0.8)
  })

  it("runs a multi-conversation workload with shared system prompts faster to first token than today's sticky rule (two upstreams × two slots, prompt cache per slot)", async () => {
    // Prefill 20 000 tokens/s behind 5 ms: a cold system prompt of ~3 000 tokens costs ~150 ms; a warm one, the new turn only.
    const systemChars = 12_000
    const systemPrompts = ['release agent: check every change against the release notes. ', 'support agent: answer from the handbook, politely. ', 'research agent: cite the retrieved passages. '].map((line) => `You are the ${line}`.repeat(Math.ceil(systemChars / line.length)).slice(0, systemChars))
    const run = async (routing: 'sticky' | 'cache-aware') => {
      const servers = await Promise.all([0, 1].map(() => startSimulatedUpstream({ slots: 2, promptTokensPerSecond: 20_000, baseLatencyMs: 5, tokensPerSecond: 2000, answerTokens: [4, 8] })))
      simulated.push(...servers)
      const measured = await startQueuegate({ upstreams: servers.map((server) => ({ url: `${server.url}/v1`, slots: 2, slotAffinity: true })), routing })
      try {
        const results = await runConversations({ client: measured.client, model: 'sim-model', conversations: 6, turns: 3, systemPrompts, userChars: 600, staggerFirstTurns: true })
        return { results, summary: summarize(results) }
      } finally {
        await measured.close()
      }
    }
    const sticky = await run('sticky')
    const cacheAware = await run('cache-aware')
    const line = (name: string, { summary }: typeof sticky) =>
      `${name.padEnd(12)} ttft mean ${summary.meanTtftMs.toFixed(1)} ms, p50 ${summary.p50TtftMs.toFixed(1)} ms, p95 ${summary.p95TtftMs.toFixed(1)} ms; prompt tokens from cache ${(summary.cachedShare * 100).toFixed(1)}% (${summary.turns} turns)`
    console.log(`cache-aware routing e2e, 6 conversations × 3 turns, 3 system prompts, 2 upstreams × 2 slots:\n  ${line('sticky', sticky)}\n  ${line('cache-aware', cacheAware)}`)
    expect(sticky.results).toHaveLength(18)
    expect(cacheAware.results).toHaveLength(18)
    // New conversations whose system prompt was already cached somewhere (conversations 3..5) found it there.
    for (const result of cacheAware.results.filter((turn) => turn.turn === 0 && turn.conversation >= 3)) expect(result.cachedTokens).toBeGreaterThan((systemChars / 4) * 0.9)
    expect(cacheAware.summary.cachedShare).toBeGreaterThan(sticky.summary.cachedShare)
    // Not worse to first token than sticky (a margin for a busy machine's noise); the printed figures say by how much it is better.
    expect(cacheAware.summary.meanTtftMs).toBeLessThan(sticky.summary.meanTtftMs * 1.1 + 15)
  })
})
