import { describe, expect, it } from 'vitest'
import { DashboardState } from '../../src/dashboard/dashboard-state.js'
import type { GatewayEvent } from '../../src/gateway/gateway-events.js'
import { JobRegistry } from '../../src/gateway/job-registry.js'
import { UpstreamHealth } from '../../src/gateway/upstream-health.js'
import { QueueScheduler } from '../../src/queue/queue-scheduler.js'
import { createFakeClock } from '../helpers/fake-clock.js'

function setup() {
  const clock = createFakeClock()
  const scheduler = new QueueScheduler({ upstreams: [{ id: 'gpu', slots: 2 }], now: clock.monotonic, _internal: { setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout } })
  const health = new UpstreamHealth(scheduler, { cooldownMs: 1000, clock })
  const jobs = new JobRegistry({ maxFinished: 10 })
  let changes = 0
  const state = new DashboardState({ scheduler, health, jobs, clock, defaultModel: (upstream) => `${upstream}-default` }, { recentJobs: 3, onChange: () => changes++ })
  return { clock, scheduler, jobs, state, changes: () => changes }
}

function ended(jobId: string, fields: Partial<Extract<GatewayEvent, { type: 'request-end' }>> & Record<string, unknown> = {}): GatewayEvent {
  return { type: 'request-end', jobId, method: 'POST', path: '/v1/chat/completions', status: 200, upstream: 'gpu', model: 'm', stream: true, waitMs: 0, totalMs: 1000, error: undefined, ...fields } as GatewayEvent
}

describe('DashboardState', () => {
  it('puts running jobs in the first free slot shown, keeps them there, and frees it when they end', async () => {
    const { scheduler, jobs, state, changes } = setup()
    jobs.add({ id: 'a', status: 'queued', kind: 'interactive', model: 'm', stream: true, upstream: undefined, slot: undefined, createdAt: 0, startedAt: undefined, endedAt: undefined, error: undefined })
    const a = await scheduler.acquire({ id: 'a', model: 'm', threadKey: 'chat-1' })
    const b = await scheduler.acquire({ id: 'b', class: 'batch', threadKey: 'h:0123456789abcdef' })
    const waiting = scheduler.acquire({ id: 'c' })
    expect(state.snapshot().upstreams[0]?.slotJobs).toEqual([
      expect.objectContaining({ job: 'a', class: 'interactive', model: 'm', thread: 'chat-1' }),
      // b named no model: it runs on the upstream's default.
      expect.objectContaining({ job: 'b', class: 'batch', model: 'gpu-default', thread: 'h:01234567' }),
    ])
    expect(state.snapshot().queue.interactive).toEqual([expect.objectContaining({ job: 'c', position: 1, upstream: 'gpu', model: 'gpu-default' })])
    a.release()
    const c = await waiting
    // c takes the freed slot 0; b stays in slot 1.
    expect(state.snapshot().upstreams[0]?.slotJobs.map((job) => job?.job ?? null)).toEqual(['c', 'b'])
    b.release()
    c.release()
    expect(state.snapshot().upstreams[0]?.slotJobs).toEqual([null, null])
    expect(changes()).toBeGreaterThanOrEqual(6)
  })

  it('keeps the last finished jobs, newest first, with time to first token, tokens per second and recovered tool calls when reported', () => {
    const { state } = setup()
    state.onEvent({ type: 'tool-calls-recovered', jobId: 'j1', format: 'hermes', count: 2 })
    state.onEvent(ended('j1', { waitMs: 100, ttftMs: 400, totalMs: 1500, tokens: 50 }))
    state.onEvent(ended('j2', { status: 502, error: 'upstream failed' }))
    state.onEvent(ended('j3'))
    state.onEvent(ended('j4'))
    const { recent, rates } = state.snapshot()
    expect(recent.map((job) => job.job)).toEqual(['j4', 'j3', 'j2'])
    state.onEvent(ended('j5'))
    expect(state.snapshot().recent.map((job) => job.job)).toEqual(['j5', 'j4', 'j3'])
    expect(rates.requests.at(-1)).toBe(4)
    expect(rates.errors.at(-1)).toBe(1)
    const fresh = setup().state
    fresh.onEvent({ type: 'tool-calls-recovered', jobId: 'j1', format: 'hermes', count: 2 })
    fresh.onEvent(ended('j1', { waitMs: 100, ttftMs: 400, totalMs: 1500, tokens: 50 }))
    // 50 tokens over 1500 - 100 - 400 = 1000 ms of generation.
    expect(fresh.snapshot().recent[0]).toMatchObject({ ttftMs: 400, tokens: 50, tokensPerSecond: 50, toolCallsRecovered: 2, status: 200 })
    expect(fresh.snapshot().rates.tokens.at(-1)).toBe(50)
  })
})
