/**
 * Upstream health (issue 12: `/healthz` said `healthy: true` while the only upstream was down):
 * probes on the fake clock, passive ejection, return, loading, and the unreachable cooldown.
 */
import { describe, expect, it, vi } from 'vitest'
import { QueueScheduler } from '../../src/queue/queue-scheduler.js'
import { UpstreamHealth } from '../../src/gateway/upstream-health.js'
import type { UpstreamHealthOptions } from '../../src/gateway/upstream-health.js'
import type { ProbeResult, UpstreamProbe } from '../../src/gateway/upstream-probe.js'
import { createUpstream } from '../../src/gateway/upstream.js'
import type { Upstream } from '../../src/gateway/upstream.js'
import { AbortError, UpstreamError } from '../../src/errors.js'
import { createFakeClock } from '../helpers/fake-clock.js'
import type { FakeClock } from '../helpers/fake-clock.js'

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve()
}

function setup(options: Partial<UpstreamHealthOptions> & { ids?: string[] } = {}) {
  const clock = createFakeClock()
  const ids = options.ids ?? ['a', 'b']
  const upstreams: Upstream[] = ids.map((id) => createUpstream({ url: `http://${id}.test:8080/v1`, id }, { readTimeoutMs: 1000, connectTimeoutMs: 1000 }))
  const scheduler = new QueueScheduler({ upstreams: ids.map((id) => ({ id, slots: 1 })), now: clock.monotonic })
  const events: Array<[string, string, string | undefined]> = []
  const changes: Array<[string, boolean]> = []
  const health = new UpstreamHealth(scheduler, {
    cooldownMs: 10_000,
    clock,
    upstreams,
    onState: (upstream, state, error) => events.push([upstream, state, error]),
    onChange: (upstream, healthy) => changes.push([upstream, healthy]),
    ...options,
  })
  const healthy = (): boolean[] => scheduler.snapshot().upstreams.map((state) => state.healthy)
  return { clock, scheduler, health, events, changes, healthy, upstreams }
}

/** A probe whose answers the test sets per upstream (default healthy). */
function scriptedProbe(): { probe: UpstreamProbe & ReturnType<typeof vi.fn>; answers: Map<string, ProbeResult> } {
  const answers = new Map<string, ProbeResult>()
  const probe = vi.fn(async (upstream: Upstream) => answers.get(upstream.id) ?? { state: 'healthy' as const })
  return { probe, answers }
}

const fail = (n: number, health: UpstreamHealth, upstream: string): void => {
  for (let i = 0; i < n; i += 1) health.report(upstream, { error: new UpstreamError(`boom ${i}`, { code: 'upstream_unreachable' }) })
}

async function tick(clock: FakeClock, ms: number): Promise<void> {
  clock.advance(ms)
  await flush()
}

describe('UpstreamHealth: active probes', () => {
  it('probes every upstream once per interval, the first round one interval after start, and stops on close', async () => {
    const { probe } = scriptedProbe()
    const { clock, health } = setup({ intervalMs: 1000, probe })
    health.start()
    await tick(clock, 999)
    expect(probe).not.toHaveBeenCalled()
    expect(health.status('a')).toMatchObject({ state: 'unknown', lastCheck: undefined, lastError: undefined })
    await tick(clock, 1)
    expect(probe.mock.calls.map(([upstream]) => (upstream as Upstream).id)).toEqual(['a', 'b'])
    expect(health.status('a')).toMatchObject({ state: 'healthy', lastCheck: clock.now() })
    await tick(clock, 1000)
    expect(probe).toHaveBeenCalledTimes(4)
    health.close()
    await tick(clock, 5000)
    expect(probe).toHaveBeenCalledTimes(4)
    expect(clock.pending).toBe(0)
  })

  it('with probeAtStart (as the gateway runs it) the first round runs at start, then every interval', async () => {
    const { probe, answers } = scriptedProbe()
    answers.set('a', { state: 'down', error: 'connect ECONNREFUSED' })
    const { clock, health, healthy } = setup({ intervalMs: 1000, probe, probeAtStart: true })
    health.start()
    await flush()
    expect(probe.mock.calls.map(([upstream]) => (upstream as Upstream).id)).toEqual(['a', 'b'])
    expect(health.status('a')).toMatchObject({ state: 'ejected', lastError: 'connect ECONNREFUSED' })
    expect(healthy()).toEqual([false, true])
    await tick(clock, 1000)
    expect(probe).toHaveBeenCalledTimes(4)
    health.close()
  })

  it('runs one probe at a time per upstream; a probe past its deadline is aborted and counts as down', async () => {
    const signals: AbortSignal[] = []
    const probe = vi.fn(
      (upstream: Upstream, signal: AbortSignal) =>
        new Promise<ProbeResult>((resolve) => {
          if (upstream.id === 'b') return resolve({ state: 'healthy' })
          signals.push(signal)
          signal.addEventListener('abort', () => resolve({ state: 'down', error: (signal.reason as Error).message }))
        }),
    )
    const { clock, health, healthy, events } = setup({ intervalMs: 1000, probeTimeoutMs: 2500, probe })
    health.start()
    await tick(clock, 1000)
    await tick(clock, 1000)
    await tick(clock, 1000)
    // b was probed three times; a's first probe still runs.
    expect(probe.mock.calls.filter(([upstream]) => (upstream as Upstream).id === 'a')).toHaveLength(1)
    expect(signals[0]?.aborted).toBe(false)
    await tick(clock, 500)
    expect(signals[0]?.aborted).toBe(true)
    expect(health.status('a')).toMatchObject({ state: 'ejected', lastError: expect.stringMatching(/within 2500 ms/) })
    expect(healthy()).toEqual([false, true])
    expect(events).toEqual([['a', 'ejected', expect.stringMatching(/health probe/)]])
    await tick(clock, 500)
    expect(probe.mock.calls.filter(([upstream]) => (upstream as Upstream).id === 'a')).toHaveLength(2)
    health.close()
    expect(signals[1]?.aborted).toBe(true)
  })

  it('a failed probe ejects at once, even the last upstream; a good probe brings it back', async () => {
    const { probe, answers } = scriptedProbe()
    const { clock, health, healthy, events } = setup({ intervalMs: 1000, probe })
    health.start()
    answers.set('a', { state: 'down', error: 'connect ECONNREFUSED' })
    await tick(clock, 1000)
    expect(healthy()).toEqual([false, true])
    answers.set('b', { state: 'down', error: 'connect ECONNREFUSED' })
    await tick(clock, 1000)
    // Every upstream is down: the health says so, but none is kept from trying (no endless queue).
    expect([health.serving('a'), health.serving('b')]).toEqual([false, false])
    expect(health.canServe()).toBe(false)
    expect(healthy()).toEqual([true, true])
    expect(health.status('b')).toMatchObject({ state: 'ejected', lastError: 'connect ECONNREFUSED', lastCheck: clock.now(), failures: 1 })
    expect(health.status('a').failures).toBe(2)
    answers.delete('b')
    await tick(clock, 1000)
    expect(healthy()).toEqual([false, true])
    expect(health.canServe()).toBe(true)
    // The last error stays for the record; the state says it is fine now.
    expect(health.status('b')).toMatchObject({ state: 'healthy', lastError: 'connect ECONNREFUSED' })
    expect(events).toEqual([
      ['a', 'ejected', 'connect ECONNREFUSED'],
      ['b', 'ejected', 'connect ECONNREFUSED'],
      ['b', 'healthy', undefined],
    ])
    health.close()
  })

  it('a 503 from /health (model loading) is the loading state: out of rotation until a good probe', async () => {
    const { probe, answers } = scriptedProbe()
    const { clock, health, healthy, events } = setup({ intervalMs: 1000, probe })
    health.start()
    answers.set('a', { state: 'loading', error: '/health answered 503: {"error":{"message":"Loading model"}}' })
    await tick(clock, 1000)
    expect(health.status('a')).toMatchObject({ state: 'loading', lastError: expect.stringContaining('Loading model') })
    expect(healthy()).toEqual([false, true])
    answers.delete('a')
    await tick(clock, 1000)
    expect(health.status('a').state).toBe('healthy')
    expect(healthy()).toEqual([true, true])
    expect(events.map(([upstream, state]) => `${upstream} ${state}`)).toEqual(['a loading', 'a healthy'])
    health.close()
  })

  it('a probe that rejects counts as down', async () => {
    const probe = vi.fn(async () => {
      throw new Error('probe exploded')
    })
    const { clock, health } = setup({ intervalMs: 1000, probe })
    health.start()
    await tick(clock, 1000)
    expect(health.status('a')).toMatchObject({ state: 'ejected', lastError: 'probe exploded' })
    health.close()
  })
})

describe('UpstreamHealth: passive signals', () => {
  it('ejects after ejectAfterFailures failed calls in a row; a 2xx resets the count; 4xx and aborts say nothing', () => {
    const { health, healthy, events } = setup({ ejectAfterFailures: 3 })
    fail(2, health, 'a')
    health.report('a', { status: 200 })
    expect(health.status('a')).toMatchObject({ state: 'healthy', failures: 0, lastError: 'boom 1' })
    fail(2, health, 'a')
    health.report('a', { status: 404, error: new Error('model not found') })
    health.report('a', { error: new AbortError() })
    expect(health.status('a').failures).toBe(2)
    expect(healthy()).toEqual([true, true])
    health.report('a', { status: 500, error: new UpstreamError('Upstream a failed with 500: oops') })
    expect(health.status('a')).toMatchObject({ state: 'ejected', failures: 3, lastError: 'Upstream a failed with 500: oops' })
    expect(healthy()).toEqual([false, true])
    expect(events).toEqual([['a', 'ejected', 'Upstream a failed with 500: oops']])
    health.close()
  })

  it('never ejects the last healthy upstream serving the model on failed calls alone', () => {
    const served: Record<string, string[]> = { a: ['m1', 'm2'], b: ['m1'] }
    const { health, healthy } = setup({ ejectAfterFailures: 2, serves: (id, model) => model === undefined || (served[id] ?? []).includes(model) })
    // Only a serves m2: its failures are counted but do not take it out.
    for (let i = 0; i < 3; i += 1) health.report('a', { status: 502, model: 'm2' })
    expect(health.status('a')).toMatchObject({ state: 'unknown', failures: 3 })
    expect(healthy()).toEqual([true, true])
    // For m1, b serves too: a goes out; then b, now the last one, stays in.
    health.report('a', { status: 502, model: 'm1' })
    expect(healthy()).toEqual([false, true])
    for (let i = 0; i < 5; i += 1) health.report('b', { status: 500, model: 'm1' })
    expect(healthy()).toEqual([false, true])
    expect(health.status('b').failures).toBe(5)
    health.close()
  })

  it('an upstream back from an ejection is on probation: its next failure ejects it again', async () => {
    const { probe } = scriptedProbe()
    const { clock, health, healthy } = setup({ intervalMs: 1000, probe, ejectAfterFailures: 3 })
    health.start()
    fail(3, health, 'a')
    expect(healthy()).toEqual([false, true])
    await tick(clock, 1000)
    expect(healthy()).toEqual([true, true])
    fail(1, health, 'a')
    expect(healthy()).toEqual([false, true])
    await tick(clock, 1000)
    health.report('a', { status: 200 })
    fail(2, health, 'a')
    expect(healthy()).toEqual([true, true])
    health.close()
  })

  it('without probes an ejection lasts the cooldown', async () => {
    const { clock, health, healthy, events } = setup({ intervalMs: 0, ejectAfterFailures: 1, cooldownMs: 5000 })
    health.start()
    fail(1, health, 'b')
    expect(healthy()).toEqual([true, false])
    await tick(clock, 4999)
    expect(healthy()).toEqual([true, false])
    await tick(clock, 1)
    expect(healthy()).toEqual([true, true])
    expect(events.map(([upstream, state]) => `${upstream} ${state}`)).toEqual(['b ejected', 'b healthy'])
    health.close()
  })
})

describe('UpstreamHealth: the unreachable cooldown (markDown) with ejection', () => {
  it('the end of a cooldown does not bring back an ejected upstream; a good probe ends both', async () => {
    const { probe, answers } = scriptedProbe()
    const { clock, health, healthy, changes, events } = setup({ intervalMs: 20_000, probe, cooldownMs: 10_000, ejectAfterFailures: 2 })
    health.start()
    expect(health.markDown('a')).toBe(true)
    expect(health.status('a').state).toBe('ejected')
    fail(2, health, 'a')
    expect(changes).toEqual([['a', false]])
    await tick(clock, 10_000)
    // Still ejected: the cooldown ended, the ejection did not, and no "back" was said.
    expect(healthy()).toEqual([false, true])
    expect(changes).toEqual([['a', false]])
    answers.set('a', { state: 'healthy' })
    await tick(clock, 10_000)
    expect(healthy()).toEqual([true, true])
    expect(events.map(([upstream, state]) => `${upstream} ${state}`)).toEqual(['a ejected', 'a healthy'])
    health.close()
  })

  it('a good probe ends an unreachable cooldown early', async () => {
    const { probe } = scriptedProbe()
    const { clock, health, healthy, changes } = setup({ intervalMs: 1000, probe, cooldownMs: 10_000 })
    health.start()
    health.markDown('b')
    expect(healthy()).toEqual([true, false])
    await tick(clock, 1000)
    expect(healthy()).toEqual([true, true])
    expect(changes).toEqual([
      ['b', false],
      ['b', true],
    ])
    health.close()
    expect(clock.pending).toBe(0)
  })

  it('markDown still refuses to bench the last healthy upstream', () => {
    const { health, healthy } = setup({ ids: ['only'] })
    expect(health.markDown('only')).toBe(false)
    expect(healthy()).toEqual([true])
    health.close()
  })
})
