/**
 * Time injected everywhere (issue 8): the health cooldown, the shutdown grace, queue notices and
 * the model refresh run on the gateway's clock, so these tests advance a fake one instead of sleeping.
 */
import { describe, expect, it } from 'vitest'
import { QueueScheduler } from '../../src/queue/queue-scheduler.js'
import { UpstreamHealth } from '../../src/gateway/upstream-health.js'
import { RunningJobs } from '../../src/gateway/running-jobs.js'
import { createQueueNotifier } from '../../src/gateway/queue-notices.js'
import { ModelCatalog } from '../../src/gateway/model-catalog.js'
import type { ModelObject } from '../../src/gateway/model-catalog.js'
import { createUpstream } from '../../src/gateway/upstream.js'
import { clockWith, systemClock } from '../../src/gateway/clock.js'
import { createFakeClock } from '../helpers/fake-clock.js'

describe('the injected clock', () => {
  it('an unreachable upstream sits out exactly its cooldown', () => {
    const clock = createFakeClock()
    const scheduler = new QueueScheduler({ upstreams: [{ id: 'a', slots: 1 }, { id: 'b', slots: 1 }], now: clock.monotonic })
    const changes: Array<[string, boolean]> = []
    const health = new UpstreamHealth(scheduler, { cooldownMs: 10_000, clock, onChange: (upstream, healthy) => changes.push([upstream, healthy]) })
    expect(health.markDown('a')).toBe(true)
    clock.advance(9_999)
    expect(scheduler.snapshot().upstreams[0]?.healthy).toBe(false)
    clock.advance(1)
    expect(scheduler.snapshot().upstreams[0]?.healthy).toBe(true)
    expect(changes).toEqual([
      ['a', false],
      ['a', true],
    ])
    health.close()
  })

  it('shutdown waits for running jobs at most its grace', async () => {
    const clock = createFakeClock()
    const running = new RunningJobs({ clock })
    running.add({ abort: () => {} })
    let idle = false
    const waiting = running.idle(5_000).then(() => (idle = true))
    await Promise.resolve()
    clock.advance(4_999)
    await Promise.resolve()
    expect(idle).toBe(false)
    clock.advance(1)
    await waiting
    expect(idle).toBe(true)
  })

  it('a waiting client gets a notice when its position changes and a keep-alive comment every keepAliveMs', () => {
    const clock = createFakeClock()
    let position = 3
    const notifier = createQueueNotifier({ mode: 'reasoning', message: 'position {position}', keepAliveMs: 15_000, clock, position: () => ({ position, queued: 3, etaMs: undefined }), chunk: { id: 'c', model: 'm', created: 1 } })
    const sent: string[] = []
    const stop = notifier.start((bytes) => sent.push(new TextDecoder().decode(bytes)))
    expect(sent).toHaveLength(1)
    expect(sent[0]).toContain('position 3')
    clock.advance(1_000)
    expect(sent).toHaveLength(1)
    position = 2
    clock.advance(1_000)
    expect(sent[1]).toContain('position 2')
    clock.advance(13_000)
    expect(sent.at(-1)).toBe(': queued\n\n')
    stop()
    expect(clock.pending).toBe(0)
  })

  it('the model catalog reads the upstreams\' lists again every modelRefreshMs, and stops on close', async () => {
    const clock = createFakeClock()
    const upstream = createUpstream({ url: 'http://127.0.0.1:9/v1' }, { readTimeoutMs: 1000, connectTimeoutMs: 1000 })
    let served: ModelObject[] = [{ id: 'm1' }]
    let reads = 0
    const changes: Array<string[] | undefined> = []
    const catalog = new ModelCatalog({
      upstreams: [upstream],
      models: [],
      aliases: new Map(),
      discover: true,
      refreshMs: 60_000,
      timeoutMs: 1000,
      clock,
      onChange: (_id, models) => changes.push(models),
      fetchModels: async () => {
        reads++
        return served
      },
    })
    catalog.start()
    await catalog.ready()
    expect(changes).toEqual([['m1']])
    expect(catalog.accepts('m1')).toBe(true)
    expect(catalog.accepts('m2')).toBe(false)
    served = [{ id: 'm2' }]
    clock.advance(59_999)
    expect(reads).toBe(1)
    clock.advance(1)
    await expect.poll(() => changes.length).toBe(2)
    expect(changes[1]).toEqual(['m2'])
    expect(catalog.accepts('m2')).toBe(true)
    catalog.close()
    clock.advance(600_000)
    expect(reads).toBe(2)
    await upstream.dispatcher.close()
  })

  it('requests wait for the first discovery round at most firstRoundWaitMs: an upstream that hangs serves any model meanwhile', async () => {
    const clock = createFakeClock()
    const upstream = createUpstream({ url: 'http://127.0.0.1:9/v1' }, { readTimeoutMs: 1000, connectTimeoutMs: 1000 })
    const catalog = new ModelCatalog({ upstreams: [upstream], models: [], aliases: new Map(), discover: true, refreshMs: 60_000, timeoutMs: 10_000, firstRoundWaitMs: 3000, clock, onChange: () => {}, fetchModels: () => new Promise(() => {}) })
    catalog.start()
    let ready = false
    void catalog.ready()?.then(() => (ready = true))
    clock.advance(2999)
    await Promise.resolve()
    expect(ready).toBe(false)
    clock.advance(1)
    await expect.poll(() => ready).toBe(true)
    expect(catalog.ready()).toBeUndefined()
    expect(catalog.accepts('anything')).toBe(true)
    catalog.close()
    await upstream.dispatcher.close()
  })

  it('clockWith: an injected now is the monotonic time too unless given; the real clock\'s timers do not hold the process', () => {
    const clock = clockWith({ now: () => 42 })
    expect(clock.now()).toBe(42)
    expect(clock.monotonic()).toBe(42)
    expect(clockWith({ now: () => 1, monotonic: () => 2 }).monotonic()).toBe(2)
    const handle = systemClock.setTimeout(() => {}, 60_000) as { hasRef?: () => boolean }
    expect(handle.hasRef?.()).toBe(false)
    systemClock.clearTimeout(handle)
  })
})
