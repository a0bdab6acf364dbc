import { afterEach, describe, expect, it } from 'vitest'
import type { DashboardSnapshot } from '../../src/dashboard/dashboard-state.js'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { hello, startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import { withTimeout } from '../helpers/with-timeout.js'

describe('dashboard endpoints', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function setup(options: { dashboard?: boolean; apiKeys?: string[]; slots?: number } = {}): Promise<{ upstream: FakeUpstream; gateway: TestGateway }> {
    const upstream = await startFakeUpstream({ slots: 4, tokens: 10, tokenDelayMs: 60 })
    cleanups.push(() => upstream.close())
    const gateway = await startQueuegate({ upstreams: [{ url: `${upstream.url}/v1`, id: 'gpu', slots: options.slots ?? 1 }], dashboard: options.dashboard ?? true, apiKeys: options.apiKeys, notifyAfterMs: 0 })
    cleanups.push(() => gateway.close())
    return { upstream, gateway }
  }

  async function state(gateway: TestGateway, headers: Record<string, string> = {}): Promise<DashboardSnapshot> {
    const response = await fetch(`${gateway.url}/v1/dashboard/state`, { headers })
    expect(response.status).toBe(200)
    return (await response.json()) as DashboardSnapshot
  }

  it('is off unless asked for (the library default): / and /v1/dashboard/* are 404', async () => {
    const { gateway } = await setup({ dashboard: false })
    for (const path of ['/', '/dashboard', '/v1/dashboard/state']) {
      const response = await fetch(`${gateway.url}${path}`)
      expect(response.status, path).toBe(404)
    }
  })

  it('serves the page on / and /dashboard, locked down, with no key needed for the page itself', async () => {
    const { gateway } = await setup({ apiKeys: ['dash-key-0001'] })
    for (const path of ['/', '/dashboard']) {
      const response = await fetch(`${gateway.url}${path}`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'")
      const html = await response.text()
      expect(html).toContain('<title>queuegate</title>')
      expect(html).toContain("'v1/dashboard/events'")
    }
    expect((await fetch(`${gateway.url}/v1/dashboard/state`)).status).toBe(401)
    expect((await fetch(`${gateway.url}/v1/dashboard/events`)).status).toBe(401)
    expect((await state(gateway, { authorization: 'Bearer dash-key-0001' })).upstreams[0]?.id).toBe('gpu')
  })

  it('shows a running job in its slot, a waiting one with its position, and the finished ones with their figures', async () => {
    const { gateway } = await setup()
    const first = await gateway.client.chat.completions.create({ ...hello, stream: true }, { headers: { 'x-chat-id': 'conversation-1' } }).withResponse()
    const second = await gateway.client.chat.completions.create({ ...hello, stream: true }, { headers: { 'x-chat-id': 'conversation-2' } }).withResponse()
    const firstId = first.response.headers.get('x-queuegate-job-id')
    const secondId = second.response.headers.get('x-queuegate-job-id')
    const during = await state(gateway)
    expect(during).toMatchObject({ running: 1, queued: 1 })
    expect(during.upstreams).toEqual([
      expect.objectContaining({ id: 'gpu', slots: 1, running: 1, queued: 1, serving: true, slotJobs: [expect.objectContaining({ job: firstId, class: 'interactive', model: 'fake-model', thread: 'conversation-1' })] }),
    ])
    expect(during.queue.interactive).toEqual([expect.objectContaining({ job: secondId, position: 1, upstream: 'gpu', model: 'fake-model', thread: 'conversation-2' })])
    for (const { data } of [first, second]) for await (const _ of data) void _
    await gateway.waitForEvent((event) => event.type === 'request-end' && event.jobId === secondId)
    const after = await state(gateway)
    expect(after.upstreams[0]?.slotJobs).toEqual([null])
    expect(after.queue.interactive).toEqual([])
    expect(after.recent.map((job) => job.job)).toEqual([secondId, firstId])
    expect(after.recent[0]).toMatchObject({ model: 'fake-model', upstream: 'gpu', status: 200, stream: true, error: null })
    expect(after.recent[0]?.waitMs).toBeGreaterThan(300)
    // The gateway measures time to first token and counts the answer's chunks (the fake sends no usage).
    expect(after.recent[0]).toMatchObject({ tokens: expect.any(Number), ttftMs: expect.any(Number) })
    expect(after.recent[0]?.tokensPerSecond).toBeGreaterThan(0)
    // Both ended within the last two 10 s buckets (a bucket may have turned over between them).
    expect(after.rates.requests.slice(-2).reduce((sum, n) => sum + n, 0)).toBe(2)
    expect(Math.max(...after.rates.queued.slice(-2))).toBe(1)
  })

  it('streams a snapshot at once and another when something changes; the gateway closing ends the stream', async () => {
    const { gateway } = await setup()
    const response = await fetch(`${gateway.url}/v1/dashboard/events`)
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    const next = async (): Promise<DashboardSnapshot> => {
      for (let reads = 0; reads < 100; reads++) {
        const end = buffer.indexOf('\n\n')
        if (end >= 0) {
          const event = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = event.split('\n').find((line) => line.startsWith('data: '))
          if (data !== undefined) return JSON.parse(data.slice(6)) as DashboardSnapshot
          continue
        }
        const { done, value } = await withTimeout(reader.read(), 5000, 'the next dashboard event')
        if (done) throw new Error('the stream ended')
        buffer += decoder.decode(value, { stream: true })
      }
      throw new Error('no event in 100 reads')
    }
    expect(await next()).toMatchObject({ running: 0, queued: 0 })
    const answer = gateway.client.chat.completions.create(hello)
    let seen: DashboardSnapshot | undefined
    for (let i = 0; i < 20 && seen === undefined; i++) {
      const snapshot = await next()
      if (snapshot.recent.length === 1) seen = snapshot
    }
    await answer
    expect(seen?.recent[0]).toMatchObject({ model: 'fake-model', status: 200 })
    await gateway.gateway.close({ graceMs: 0 })
    let ended = false
    for (let i = 0; i < 20 && !ended; i++) ended = (await withTimeout(reader.read(), 5000, 'the stream to end')).done
    expect(ended).toBe(true)
  })
})
