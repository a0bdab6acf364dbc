import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream, RecordedRequest } from './fake-upstream.js'
import { hello, startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import { collectChunks } from '../helpers/sse.js'
import { withTimeout } from '../helpers/with-timeout.js'

/** The text of the first message of a recorded request (tests label requests with it). */
const label = (request: RecordedRequest): string => ((request.body as { messages: Array<{ content: string }> }).messages[0]?.content ?? '')

const chat = (content: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content }], ...extra })

describe('scheduling end to end', () => {
  const upstreams: FakeUpstream[] = []
  let gateway: TestGateway | undefined

  afterEach(async () => {
    await gateway?.close()
    gateway = undefined
    await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()))
  })

  async function fake(options: Parameters<typeof startFakeUpstream>[0] = {}): Promise<FakeUpstream> {
    const upstream = await startFakeUpstream({ slots: 8, ...options })
    upstreams.push(upstream)
    return upstream
  }

  const post = (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${gateway!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })

  /** Resolves once the scheduler holds `count` waiting jobs (event-driven, with a deadline). */
  async function queued(count: number): Promise<void> {
    const scheduler = gateway!.gateway.scheduler
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (scheduler.snapshot().queued >= count) {
            scheduler.off('job-queued', check)
            resolve()
          }
        }
        scheduler.on('job-queued', check)
        check()
      }),
      5000,
      `${count} queued jobs`,
    )
  }

  it('serves user chat before agent work on a busy slot, FIFO within each class', async () => {
    const upstream = await fake({ respond: (request) => (label(request) === 'blocker' ? { tokens: 5, tokenDelayMs: 40 } : { tokens: 1 }) })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }], batchMaxWaitMs: 60_000 })
    const blocker = post('/v1/chat/completions', chat('blocker'))
    await upstream.waitFor((u) => u.active === 1)
    const answers = [
      post('/v1/chat/completions', chat('agent-1'), { 'X-Job-Kind': 'agent' }),
      post('/v1/chat/completions', chat('user-1')),
      post('/v1/agent/chat/completions', chat('agent-2')),
      post('/v1/chat/completions', chat('agent-3'), { 'x-job-kind': 'repo_agent' }),
      post('/v1/chat/completions', chat('user-2')),
    ]
    await queued(5)
    const statuses = await Promise.all([blocker, ...answers].map(async (response) => (await response).status))
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200])
    const order = [...upstream.requests].sort((a, b) => (a.startOrder ?? 0) - (b.startOrder ?? 0)).map(label)
    expect(order).toEqual(['blocker', 'user-1', 'user-2', 'agent-1', 'agent-2', 'agent-3'])
  })

  it('keeps a conversation (X-OpenWebUI-Chat-Id) on one upstream across turns while another idles', async () => {
    const a = await fake({ tokens: 1 })
    const b = await fake({ tokens: 1 })
    gateway = await startQueuegate({ upstreams: [{ url: a.url, slots: 1 }, { url: b.url, slots: 1 }] })
    for (const conversation of ['chat-1', 'chat-2', 'chat-3', 'chat-4']) {
      for (let turn = 0; turn < 4; turn += 1) {
        const response = await post('/v1/chat/completions', chat(`${conversation} turn ${turn}`), { 'X-OpenWebUI-Chat-Id': conversation })
        expect(response.status).toBe(200)
        await response.json()
      }
    }
    const where = (conversation: string): string[] => [
      ...a.requests.filter((request) => label(request).startsWith(conversation)).map(() => 'a'),
      ...b.requests.filter((request) => label(request).startsWith(conversation)).map(() => 'b'),
    ]
    for (const conversation of ['chat-1', 'chat-2', 'chat-3', 'chat-4']) {
      const places = where(conversation)
      expect(places).toHaveLength(4)
      expect(new Set(places).size).toBe(1)
    }
    // New conversations spread over both upstreams.
    expect(a.requests.length).toBeGreaterThan(0)
    expect(b.requests.length).toBeGreaterThan(0)
  })

  it('moves a conversation to another upstream once its own is too far behind (stickyMaxImbalance)', async () => {
    const a = await fake({ tokens: 1 })
    const b = await fake({ tokens: 1 })
    gateway = await startQueuegate({ upstreams: [{ url: a.url, slots: 1 }, { url: b.url, slots: 1 }], stickyMaxImbalance: 2 })
    const headers = { 'X-Chat-Id': 'busy-chat' }
    await (await post('/v1/chat/completions', chat('turn 0'), headers)).json()
    const home = a.requests.length === 1 ? a : b
    const other = home === a ? b : a
    // Keep both upstreams busy, then pile the conversation's next turns onto its home upstream.
    home.setOptions({ tokens: 3, tokenDelayMs: 60 })
    other.setOptions({ tokens: 3, tokenDelayMs: 60 })
    const pending: Array<Promise<Response>> = []
    pending.push(post('/v1/chat/completions', chat('turn 1'), headers))
    await home.waitFor((u) => u.active === 1)
    pending.push(post('/v1/chat/completions', chat('other chat'), { 'X-Chat-Id': 'someone-else' }))
    await other.waitFor((u) => u.active === 1)
    for (let turn = 2; turn <= 5; turn += 1) pending.push(post('/v1/chat/completions', chat(`turn ${turn}`), headers))
    const statuses = await Promise.all(pending.map(async (response) => (await response).status))
    expect(statuses.every((status) => status === 200)).toBe(true)
    const turnsOn = (upstream: FakeUpstream): string[] => upstream.requests.map(label).filter((text) => text.startsWith('turn'))
    expect(turnsOn(home)).toEqual(expect.arrayContaining(['turn 0', 'turn 1']))
    // Past the imbalance limit at least one later turn went to the other upstream.
    expect(turnsOn(other).length).toBeGreaterThan(0)
  })

  it('sends id_slot on slotAffinity upstreams, stable per chat, never two running on one slot', async () => {
    const upstream = await fake({ tokens: 1 })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 2, slotAffinity: true }] })
    for (let turn = 0; turn < 3; turn += 1) {
      for (const conversation of ['x', 'y']) {
        await (await post('/v1/chat/completions', chat(`${conversation}${turn}`), { 'X-Chat-Id': conversation })).json()
      }
    }
    const slotsOf = (conversation: string): Array<number | undefined> => upstream.requests.filter((request) => label(request).startsWith(conversation)).map((request) => request.idSlot)
    const x = slotsOf('x')
    const y = slotsOf('y')
    expect(x).toHaveLength(3)
    expect(new Set(x).size).toBe(1)
    expect(new Set(y).size).toBe(1)
    expect(x[0]).not.toBe(y[0])
    expect([0, 1]).toContain(x[0])
    // Concurrent jobs on one slotAffinity upstream get distinct slot indices.
    upstream.reset()
    upstream.setOptions({ tokens: 3, tokenDelayMs: 30 })
    await Promise.all(['p', 'q'].map(async (conversation) => (await post('/v1/chat/completions', chat(conversation), { 'X-Chat-Id': conversation })).json()))
    const concurrent = upstream.requests.map((request) => request.idSlot)
    expect(new Set(concurrent).size).toBe(2)
  })

  it('an aborted queued request never reaches the upstream', async () => {
    const upstream = await fake({ respond: (request) => (label(request) === 'blocker' ? { tokens: 4, tokenDelayMs: 50 } : { tokens: 1 }) })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }] })
    const blocker = post('/v1/chat/completions', chat('blocker'))
    await upstream.waitFor((u) => u.active === 1)
    const controller = new AbortController()
    const abandoned = fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', body: chat('abandoned'), signal: controller.signal })
    await queued(1)
    controller.abort()
    await expect(abandoned).rejects.toThrow()
    await gateway.waitForEvent((event) => event.type === 'request-end' && event.status === 499)
    expect(gateway.gateway.scheduler.snapshot().queued).toBe(0)
    expect((await blocker).status).toBe(200)
    const after = await post('/v1/chat/completions', chat('after'))
    expect(after.status).toBe(200)
    expect(upstream.requests.map(label)).toEqual(['blocker', 'after'])
  })

  it('a streaming client that leaves while its notices flow leaves the queue and never reaches the upstream', async () => {
    const upstream = await fake({ respond: (request) => (label(request) === 'blocker' ? { tokens: 6, tokenDelayMs: 50 } : { tokens: 1 }) })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }], notifyAfterMs: 0 })
    const blocker = post('/v1/chat/completions', chat('blocker'))
    await upstream.waitFor((u) => u.active === 1)
    const controller = new AbortController()
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', body: chat('leaves', { stream: true }), signal: controller.signal })
    const reader = response.body!.getReader()
    const first = new TextDecoder().decode((await reader.read()).value)
    expect(first).toContain('Queued: position 1 of 1')
    controller.abort()
    await gateway.waitForEvent((event) => event.type === 'request-end' && event.status === 499)
    expect(gateway.gateway.scheduler.snapshot().queued).toBe(0)
    expect((await blocker).status).toBe(200)
    expect(upstream.requests.map(label)).toEqual(['blocker'])
  })

  it('close() ends a waiting stream with a shutting_down error event', async () => {
    const upstream = await fake({ respond: (request) => (label(request) === 'blocker' ? { tokens: 4, tokenDelayMs: 50 } : { tokens: 1 }) })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }], notifyAfterMs: 0 })
    const blocker = post('/v1/chat/completions', chat('blocker'))
    await upstream.waitFor((u) => u.active === 1)
    const waiting = await post('/v1/chat/completions', chat('waiting', { stream: true }))
    await queued(1)
    const closing = gateway.gateway.close({ graceMs: 5000 })
    const { chunks } = await collectChunks(waiting)
    expect(chunks.at(-1)).toMatchObject({ error: { code: 'shutting_down' } })
    expect((await blocker).status).toBe(200)
    await closing
  })

  it('429 queue_full with Retry-After when maxQueued jobs wait, 503 queue_timeout past maxWaitMs', async () => {
    const upstream = await fake({ respond: (request) => (label(request) === 'blocker' ? { tokens: 6, tokenDelayMs: 50 } : { tokens: 1 }) })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }], maxQueued: 1, maxWaitMs: 150 })
    const blocker = post('/v1/chat/completions', chat('blocker'))
    await upstream.waitFor((u) => u.active === 1)
    const waiting = post('/v1/chat/completions', chat('waiting'))
    await queued(1)
    const full = await post('/v1/chat/completions', chat('one too many'))
    expect(full.status).toBe(429)
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect((await full.json()).error).toMatchObject({ code: 'queue_full', type: 'rate_limit_error' })
    const timedOut = await waiting
    expect(timedOut.status).toBe(503)
    expect((await timedOut.json()).error.code).toBe('queue_timeout')
    expect((await blocker).status).toBe(200)
  })

  it('tells a waiting streaming client its position as reasoning_content, never as content', async () => {
    const upstream = await fake({ respond: (request) => (label(request) === 'blocker' ? { tokens: 4, tokenDelayMs: 120 } : { tokens: 3 }) })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }], notifyAfterMs: 50 })
    const blocker = post('/v1/chat/completions', chat('blocker'))
    await upstream.waitFor((u) => u.active === 1)
    const response = await post('/v1/chat/completions', chat('waiting', { stream: true }))
    expect(response.status).toBe(200)
    const { chunks, done } = await collectChunks(response)
    expect(done).toBe(true)
    const deltas = chunks.map((chunk) => (chunk as { choices: Array<{ delta: Record<string, unknown> }> }).choices[0]?.delta ?? {})
    const reasoning = deltas.map((delta) => delta.reasoning_content).filter((text): text is string => typeof text === 'string')
    expect(reasoning[0]).toMatch(/^Queued: position 1 of 1(, about \d+s)?\n$/)
    expect(deltas[0]).toMatchObject({ role: 'assistant' })
    const content = deltas.map((delta) => delta.content ?? '').join('')
    expect(content).toBe('tok0 tok1 tok2')
    expect(content).not.toContain('Queued')
    expect((await blocker).status).toBe(200)
  })

  it('queue notices can be SSE comments instead', async () => {
    const upstream = await fake({ respond: (request) => (label(request) === 'blocker' ? { tokens: 3, tokenDelayMs: 100 } : { tokens: 1 }) })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }], notifyAfterMs: 30, queueNotify: 'comment', queueMessage: 'wait {position}/{queued}' })
    const blocker = post('/v1/chat/completions', chat('blocker'))
    await upstream.waitFor((u) => u.active === 1)
    const { chunks, comments } = await collectChunks(await post('/v1/chat/completions', chat('waiting', { stream: true })))
    expect(comments.map((comment) => comment.trim())).toContain('wait 1/1')
    expect(JSON.stringify(chunks)).not.toContain('wait 1/1')
    await blocker
  })

  it('with queueNotify never, a waiting stream gets keep-alive comments only, every keepAliveMs', async () => {
    const upstream = await fake({ respond: (request) => (label(request) === 'blocker' ? { tokens: 4, tokenDelayMs: 100 } : { tokens: 2 }) })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }], notifyAfterMs: 30, queueNotify: 'never', keepAliveMs: 60 })
    const blocker = post('/v1/chat/completions', chat('blocker'))
    await upstream.waitFor((u) => u.active === 1)
    const { chunks, comments, done } = await collectChunks(await post('/v1/chat/completions', chat('waiting', { stream: true })))
    expect(done).toBe(true)
    // One at once, then one per keepAliveMs while the ~400 ms blocker runs.
    expect(comments.filter((comment) => comment.trim() === 'queued').length).toBeGreaterThanOrEqual(3)
    expect(JSON.stringify(chunks)).not.toContain('Queued')
    expect(JSON.stringify(chunks)).not.toContain('reasoning_content')
    await blocker
  })

  it('shows a waiting job\'s position on /v1/jobs/{id} and the queue on /healthz', async () => {
    const upstream = await fake({ respond: (request) => (label(request) === 'blocker' ? { tokens: 4, tokenDelayMs: 60 } : { tokens: 1 }) })
    // notifyAfterMs 0: a streaming response (and its job id header) starts at once, while the job waits.
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }], notifyAfterMs: 0 })
    const blocker = post('/v1/chat/completions', chat('blocker'))
    await upstream.waitFor((u) => u.active === 1)
    const first = await post('/v1/chat/completions', chat('first', { stream: true }))
    const second = await post('/v1/chat/completions', chat('second', { stream: true }))
    await queued(2)
    const health = await (await fetch(`${gateway.url}/healthz`)).json()
    expect(health).toMatchObject({ queued: 2, running: 1, workers: [{ running: 1, queued: 2, slots: 1 }] })
    const jobs = await Promise.all(
      [first, second].map(async (response) => (await (await fetch(`${gateway!.url}/v1/jobs/${response.headers.get('x-queuegate-job-id')}`)).json()) as { status: string; position: number; queued: number }),
    )
    expect(jobs.map((job) => [job.status, job.position, job.queued])).toEqual([
      ['queued', 1, 2],
      ['queued', 2, 2],
    ])
    await Promise.all([blocker, collectChunks(first), collectChunks(second)])
  })
})
