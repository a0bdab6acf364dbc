import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { Registry } from 'prom-client'
import { createGateway } from 'queuegate'
import { createGatewayMetrics } from 'queuegate/observe'
import { startProcessMetrics } from '../../src/observe/process-metrics.js'

setFlagsFromString('--expose-gc')
/** A full collection, on demand (the flag above makes `gc` exist in new contexts). */
const collectGarbage = runInNewContext('gc') as () => void

/** One sample's value from the exposition text (the first line of that name and labels). */
function sample(text: string, line: string): number {
  const found = text.split('\n').find((one) => one.startsWith(`${line} `))
  if (found === undefined) throw new Error(`no sample ${line}`)
  return Number(found.slice(line.length + 1))
}

/** GCs seen by the registry's GC observer, after a few forced ones and time for the observer to hear of them. */
async function gcCountAfterCollecting(registry: Registry): Promise<number> {
  for (let i = 0; i < 3; i++) collectGarbage()
  await sleep(30)
  const text = await registry.metrics()
  return text
    .split('\n')
    .filter((line) => line.startsWith('nodejs_gc_duration_seconds_count'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
}

/** The event loop delay's largest sample since the last scrape (0 when there was none). */
async function lagMaxAfterWaiting(registry: Registry): Promise<number> {
  await registry.metrics() // a scrape resets the histogram
  for (let i = 0; i < 5; i++) await sleep(15)
  return sample(await registry.metrics(), 'nodejs_eventloop_lag_max_seconds')
}

describe('process metrics', () => {
  it('catches the one GC observer and the one event-loop-delay histogram prom-client starts, and stops both', async () => {
    const registry = new Registry()
    const metrics = startProcessMetrics(registry)
    expect(metrics.started).toEqual({ observers: 1, histograms: 1 })
    // Running: GCs are counted and the loop's delay is sampled.
    const before = await gcCountAfterCollecting(registry)
    expect(before).toBeGreaterThan(0)
    expect(await lagMaxAfterWaiting(registry)).toBeGreaterThan(0)
    metrics.stop()
    metrics.stop()
    // Stopped: neither moves any more, and the registry still renders.
    expect(await gcCountAfterCollecting(registry)).toBe(await gcCountAfterCollecting(registry))
    expect(await lagMaxAfterWaiting(registry)).toBe(0)
  })

  it('leaves perf_hooks as it found it', async () => {
    const perfHooks = await import('node:perf_hooks')
    const observe = perfHooks.PerformanceObserver.prototype.observe
    const monitor = perfHooks.default.monitorEventLoopDelay
    startProcessMetrics(new Registry()).stop()
    expect(perfHooks.PerformanceObserver.prototype.observe).toBe(observe)
    expect(perfHooks.default.monitorEventLoopDelay).toBe(monitor)
  })

  it("are stopped when the gateway closes (the GC observer and the loop's timer do not outlive it)", async () => {
    const metrics = createGatewayMetrics()
    const gateway = createGateway({ upstreams: ['http://127.0.0.1:9/v1'], metrics })
    expect(await gcCountAfterCollecting(metrics.registry)).toBeGreaterThan(0)
    await gateway.close()
    const afterClose = await gcCountAfterCollecting(metrics.registry)
    expect(await gcCountAfterCollecting(metrics.registry)).toBe(afterClose)
    expect(await lagMaxAfterWaiting(metrics.registry)).toBe(0)
  })

  it('with processMetrics false, none are registered and close is harmless', async () => {
    const metrics = createGatewayMetrics({ processMetrics: false })
    expect(await metrics.registry.metrics()).not.toContain('nodejs_')
    metrics.close()
  })
})
