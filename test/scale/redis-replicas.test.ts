/**
 * Issue 14, end to end: gateway replicas as real processes sharing slots, queue order and the sticky
 * map through a real redis-server (started here on a free loopback port, no persistence).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from '../e2e/fake-upstream.js'
import type { FakeUpstream, RecordedRequest } from '../e2e/fake-upstream.js'
import { redisSkipReason, startRedis } from './redis-server.js'
import type { TestRedis } from './redis-server.js'
import { startReplica, streamChat, until } from './replicas.js'
import type { Replica } from './replicas.js'

const skip = redisSkipReason()
if (skip !== undefined) console.warn(skip)

/** The user text of a recorded chat request. */
function contentOf(request: RecordedRequest): string {
  const body = request.body as { messages?: Array<{ content?: string }> } | undefined
  return body?.messages?.[0]?.content ?? ''
}

describe.skipIf(skip !== undefined)('replicas sharing state through Redis', () => {
  const cleanups: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
  })

  async function setup(options: { slots: number; replicas: number; leaseTtlMs?: number; upstreams?: number; upstreamSlots?: number; extra?: string[] }) {
    const redis: TestRedis = await startRedis()
    cleanups.push(() => redis.close())
    const upstreams: FakeUpstream[] = []
    for (let i = 0; i < (options.upstreams ?? 1); i++) {
      const upstream = await startFakeUpstream({ slots: options.upstreamSlots ?? options.slots, tokens: 5, tokenDelayMs: 5 })
      cleanups.push(() => upstream.close())
      upstreams.push(upstream)
    }
    const list = upstreams.map((upstream) => `${upstream.url}/v1`).join(',')
    const replicas = await Promise.all(
      Array.from({ length: options.replicas }, () =>
        startReplica(['--upstreams', list, '--slots', String(options.slots), '--no-model-discovery', '--health-interval', '0', '--redis', redis.url, '--lease-ttl-ms', String(options.leaseTtlMs ?? 3000), ...(options.extra ?? [])]),
      ),
    )
    for (const replica of replicas) cleanups.push(() => replica.close())
    // Every replica counted the others (heartbeats) before the load starts.
    await until(async () => (await Promise.all(replicas.map((replica) => replica.health()))).every((health) => health.shared?.replicas === options.replicas), 10_000, 'the replicas to see each other')
    return { redis, upstreams, replicas }
  }

  it('three replicas, one upstream with 2 slots, 60 concurrent streams: never more than 2 in flight, all complete', async () => {
    const { upstreams, replicas } = await setup({ slots: 2, replicas: 3 })
    const upstream = upstreams[0] as FakeUpstream
    const health = await (replicas[0] as Replica).health()
    expect(health.shared?.mode).toBe('shared')
    const texts = await Promise.all(Array.from({ length: 60 }, (_, i) => streamChat((replicas[i % 3] as Replica).client, `job ${i}`)))
    expect(texts.every((text) => text === 'tok0 tok1 tok2 tok3 tok4')).toBe(true)
    expect(upstream.maxInFlight).toBe(2)
    expect(upstream.requests.filter((request) => request.path.endsWith('/chat/completions'))).toHaveLength(60)
  }, 60_000)

  it('priority holds across replicas: interactive jobs sent later to B start before batch jobs sent first to A', async () => {
    const { upstreams, replicas } = await setup({ slots: 2, replicas: 2 })
    const upstream = upstreams[0] as FakeUpstream
    const [a, b] = replicas as [Replica, Replica]
    // Two long jobs (4 s) hold both slots while the others queue, even on a loaded machine.
    upstream.setOptions({ tokens: 100, tokenDelayMs: 40 })
    const holders = [streamChat(a.client, 'holder 0'), streamChat(b.client, 'holder 1')]
    await upstream.waitFor((fake) => fake.active === 2, 10_000)
    upstream.setOptions({ tokens: 3, tokenDelayMs: 5 })
    const batch = Array.from({ length: 5 }, (_, i) => streamChat(a.client, `batch ${i}`, { 'X-Job-Kind': 'agent' }))
    await until(async () => (await a.health()).queued === 5, 10_000, 'the batch jobs to queue on A')
    const interactive = Array.from({ length: 5 }, (_, i) => streamChat(b.client, `interactive ${i}`))
    await until(async () => (await b.health()).queued === 5, 10_000, 'the interactive jobs to queue on B')
    await Promise.all([...holders, ...batch, ...interactive])
    const order = upstream.requests.filter((request) => request.startOrder !== undefined && !contentOf(request).startsWith('holder')).sort((x, y) => (x.startOrder as number) - (y.startOrder as number)).map(contentOf)
    // Each freed slot goes to the best job of either replica. When two slots are free at once the
    // last interactive job and the first batch job may both get one, and whichever replica answers first
    // starts first: so at most one interactive job (slots - 1) may start after the first batch job.
    const firstBatch = order.findIndex((text) => text.startsWith('batch'))
    expect(order.slice(0, 4).every((text) => text.startsWith('interactive')), JSON.stringify(order)).toBe(true)
    expect(order.slice(firstBatch + 1).filter((text) => text.startsWith('interactive')).length, JSON.stringify(order)).toBeLessThanOrEqual(1)
    expect(order).toHaveLength(10)
    expect(upstream.maxInFlight).toBe(2)
  }, 60_000)

  it('kill -9 of a replica mid-stream: its slots come back within leaseTtlMs, the others keep serving, no oversubscription', async () => {
    const leaseTtlMs = 2000
    const { upstreams, replicas } = await setup({ slots: 2, replicas: 2, leaseTtlMs })
    const upstream = upstreams[0] as FakeUpstream
    const [a, b] = replicas as [Replica, Replica]
    upstream.setOptions({ tokens: 200, tokenDelayMs: 50 })
    const doomed = [streamChat(a.client, 'doomed 0').catch(() => 'cut'), streamChat(a.client, 'doomed 1').catch(() => 'cut')]
    await upstream.waitFor((fake) => fake.active === 2, 10_000)
    upstream.setOptions({ tokens: 3, tokenDelayMs: 5 })
    const waiting = streamChat(b.client, 'survivor')
    await until(async () => (await b.health()).queued === 1, 10_000, 'the job to queue on B')
    const killedAt = Date.now()
    await a.kill()
    expect(await Promise.all(doomed)).toEqual(['cut', 'cut'])
    expect(await waiting).toBe('tok0 tok1 tok2')
    const started = upstream.requests.find((request) => contentOf(request) === 'survivor')?.startedAt as number
    // The lease was renewed at most leaseTtlMs / 3 before the kill, so it ran out at most leaseTtlMs after it.
    expect(started - killedAt).toBeLessThanOrEqual(leaseTtlMs + 300)
    // B keeps serving, on both slots.
    const more = await Promise.all(Array.from({ length: 6 }, (_, i) => streamChat(b.client, `after ${i}`)))
    expect(more.every((text) => text === 'tok0 tok1 tok2')).toBe(true)
    expect(upstream.maxInFlight).toBe(2)
  }, 60_000)

  it('a replica frozen longer than leaseTtlMs finds its lease gone when it wakes and aborts the job (the slot went to another)', async () => {
    const leaseTtlMs = 1500
    // The upstream itself has room for two: the gateways' one slot is what the lease guards.
    const { upstreams, replicas } = await setup({ slots: 1, upstreamSlots: 2, replicas: 2, leaseTtlMs })
    const upstream = upstreams[0] as FakeUpstream
    const [a, b] = replicas as [Replica, Replica]
    // Long enough that the answer still streams when A wakes (what came meanwhile waits in its socket).
    upstream.setOptions({ tokens: 400, tokenDelayMs: 40 })
    const frozen = streamChat(a.client, 'frozen').then(
      () => 'completed',
      (error: Error) => error.message,
    )
    await upstream.waitFor((fake) => fake.active === 1, 10_000)
    upstream.setOptions({ tokens: 3, tokenDelayMs: 5 })
    const frozenAt = Date.now()
    a.child.kill('SIGSTOP')
    try {
      // B's job gets the slot once A's lease ran out (the upstream still runs A's request: A cannot stop it while frozen).
      expect(await streamChat(b.client, 'meanwhile')).toBe('tok0 tok1 tok2')
      expect(Date.now() - frozenAt).toBeLessThan(leaseTtlMs + 1000)
    } finally {
      a.child.kill('SIGCONT')
    }
    const outcome = await frozen
    expect(outcome).toMatch(/lost its slot/)
    await until(() => /slot lease of job \S+ on \S+ was gone at renewal/.test(a.log()), 5000, 'the log line')
    await upstream.waitFor((fake) => fake.active === 0, 10_000)
  }, 60_000)

  it('maxQueued counts every replica\'s waiting jobs: a third waiting job is refused 429 on the other replica', async () => {
    const { upstreams, replicas } = await setup({ slots: 1, replicas: 2, extra: ['--max-queued', '2', '--metrics'] })
    const upstream = upstreams[0] as FakeUpstream
    const [a, b] = replicas as [Replica, Replica]
    // The holder runs long enough (4 s) for the checks below on a loaded machine.
    upstream.setOptions({ tokens: 100, tokenDelayMs: 40 })
    const jobs = [streamChat(a.client, 'holder')]
    await upstream.waitFor((fake) => fake.active === 1, 10_000)
    upstream.setOptions({ tokens: 3, tokenDelayMs: 5 })
    jobs.push(streamChat(a.client, 'waits 1'), streamChat(a.client, 'waits 2'))
    await until(async () => (await b.health()).workers[0]?.queued === 2, 10_000, 'B to see the two waiting jobs')
    // B's metrics show the global queue too: A's two waiting jobs, by class.
    const metrics = await (await fetch(`${b.url}/metrics`)).text()
    expect(metrics).toMatch(/^queuegate_queue_depth\{kind="interactive"\} 2$/m)
    const refused = await fetch(`${b.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'one too many' }] }) })
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('queue_full')
    expect((await Promise.all(jobs)).every((text) => text.length > 0)).toBe(true)
  }, 60_000)

  it('GET /v1/jobs/{id} on any replica shows another replica\'s job: running, then done with its wait', async () => {
    const { upstreams, replicas } = await setup({ slots: 1, replicas: 2 })
    const upstream = upstreams[0] as FakeUpstream
    const [a, b] = replicas as [Replica, Replica]
    upstream.setOptions({ tokens: 50, tokenDelayMs: 40 })
    const post = (content: string) => fetch(`${a.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'fake-model', stream: true, messages: [{ role: 'user', content }] }) })
    const running = await post('first')
    await upstream.waitFor((fake) => fake.active === 1, 10_000)
    const waitingPromise = post('second')
    await until(async () => (await a.health()).queued === 1, 10_000, 'the second job to queue')
    const runningId = running.headers.get('x-queuegate-job-id') as string
    const job = async (id: string) => (await (await fetch(`${b.url}/v1/jobs/${id}`)).json()) as Record<string, unknown>
    expect(await job(runningId)).toMatchObject({ id: runningId, object: 'queuegate.job', status: 'running', kind: 'interactive', upstream: `${upstream.url}/v1`, slot: 0 })
    // (A waiting stream's headers, with its id, go out when it starts: its record is read then.)
    await running.text()
    const waiting = await waitingPromise
    const waitingId = waiting.headers.get('x-queuegate-job-id') as string
    await waiting.text()
    expect(await job(runningId)).toMatchObject({ status: 'done' })
    const waited = await job(waitingId)
    expect(waited).toMatchObject({ status: 'done', kind: 'interactive', slot: 0 })
    expect(waited.wait_ms as number).toBeGreaterThan(100)
    expect((await fetch(`${b.url}/v1/jobs/nope`)).status).toBe(404)
  }, 60_000)

  it('Redis stopped and restarted under load: no request fails, each replica stays within its share, shared state resumes', async () => {
    const { redis, upstreams, replicas } = await setup({ slots: 4, replicas: 2 })
    const upstream = upstreams[0] as FakeUpstream
    upstream.setOptions({ tokens: 4, tokenDelayMs: 25 })
    let stop = false
    const failures: unknown[] = []
    let done = 0
    // 8 clients in a loop (bounded: 400 requests at most), through both replicas.
    const clients = Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; i < 50 && !stop; i++) {
        try {
          await streamChat((replicas[c % 2] as Replica).client, `load ${c}.${i}`)
          done++
        } catch (error) {
          failures.push(error)
        }
      }
    })
    await until(() => done >= 16, 20_000, 'load to run')

    await redis.stop()
    await until(async () => (await Promise.all(replicas.map((replica) => replica.health()))).every((health) => health.shared?.mode === 'local'), 10_000, 'local mode')
    const before = done
    await until(() => done >= before + 16, 20_000, 'load to run without Redis')
    await redis.restart()
    await until(async () => (await Promise.all(replicas.map((replica) => replica.health()))).every((health) => health.shared?.mode === 'shared'), 15_000, 'shared mode again')
    const back = done
    await until(() => done >= back + 16, 20_000, 'load to run after Redis is back').catch(async (error: Error) => {
      const health = await Promise.all(replicas.map((replica) => replica.health()))
      throw new Error(`${error.message}: ${JSON.stringify(health)}; ${(replicas[0] as Replica).log().slice(-2000)}`)
    })
    stop = true
    await Promise.all(clients)

    expect(failures).toEqual([])
    // Shares of 2 + 2 while apart, the 4 slots shared before and after: never more than 4.
    expect(upstream.maxInFlight).toBeLessThanOrEqual(4)
    expect((replicas[0] as Replica).log()).toMatch(/shared state: .*local share/)
    expect((replicas[0] as Replica).log()).toMatch(/shared state: Redis is back/)
  }, 90_000)

  it('sticky turns through alternating replicas land on one upstream and one id_slot', async () => {
    const { redis, upstreams, replicas } = await setup({ slots: 2, replicas: 2, upstreams: 2, extra: ['--slot-affinity'] })
    for (let conversation = 0; conversation < 3; conversation++) {
      for (let turn = 0; turn < 4; turn++) {
        const replica = replicas[turn % 2] as Replica
        expect(await streamChat(replica.client, `c${conversation} t${turn}`, { 'X-Chat-Id': `conversation-${conversation}` })).toBe('tok0 tok1 tok2 tok3 tok4')
      }
    }
    // A replica that starts now reads the shared sticky map at start: the conversations stay put through it too.
    const late = await startReplica(['--upstreams', upstreams.map((upstream) => `${upstream.url}/v1`).join(','), '--slots', '2', '--no-model-discovery', '--health-interval', '0', '--redis', redis.url, '--slot-affinity'])
    cleanups.push(() => late.close())
    for (let conversation = 0; conversation < 3; conversation++) {
      expect(await streamChat(late.client, `c${conversation} late`, { 'X-Chat-Id': `conversation-${conversation}` })).toBe('tok0 tok1 tok2 tok3 tok4')
    }
    for (let conversation = 0; conversation < 3; conversation++) {
      const places = new Set<string>()
      upstreams.forEach((upstream, index) => {
        for (const request of upstream.requests) if (contentOf(request).startsWith(`c${conversation} `)) places.add(`${index}:${String(request.idSlot)}`)
      })
      expect([...places]).toHaveLength(1)
      expect([...places][0]).toMatch(/^\d:\d$/)
    }
  }, 60_000)
})
