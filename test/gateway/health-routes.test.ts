/**
 * The health options and routes of createGateway (issue 12): validation, `/readyz`, and the
 * per-upstream fields `/healthz` gained (probes off here: the e2e health tests run them).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createGateway } from 'queuegate'
import type { Gateway } from 'queuegate'
import { resolveGatewayOptions } from '../../src/gateway/resolve-gateway-options.js'

describe('health options and routes', () => {
  let gateway: Gateway | undefined

  afterEach(async () => {
    await gateway?.close({ graceMs: 0 })
    gateway = undefined
  })

  it('defaults to a probe every 10 s and ejection after 3 failed calls, and names bad values', () => {
    expect(resolveGatewayOptions({ upstreams: ['http://a'] })).toMatchObject({ healthIntervalMs: 10_000, ejectAfterFailures: 3 })
    expect(resolveGatewayOptions({ upstreams: ['http://a'], healthIntervalMs: 0 }).healthIntervalMs).toBe(0)
    expect(() => resolveGatewayOptions({ upstreams: ['http://a'], healthIntervalMs: -1 })).toThrow('healthIntervalMs: expected a whole number >= 0, got -1')
    expect(() => resolveGatewayOptions({ upstreams: ['http://a'], healthIntervalMs: 1.5 })).toThrow('healthIntervalMs: expected a whole number >= 0, got 1.5')
    expect(() => resolveGatewayOptions({ upstreams: ['http://a'], ejectAfterFailures: 0 })).toThrow('ejectAfterFailures: expected a whole number >= 1, got 0')
  })

  it('/healthz reports each upstream as unknown before any check; /readyz is ready, then 503 while shutting down', async () => {
    gateway = createGateway({ upstreams: ['http://127.0.0.1:9/v1'], discoverModels: false, healthIntervalMs: 0 })
    const health = await (await gateway.fetch(new Request('http://gateway.test/healthz'))).json()
    expect(health).toMatchObject({
      ok: true,
      upstreams: 1,
      workers: [{ id: 0, upstream: 'http://127.0.0.1:9/v1', slots: 1, running: 0, queued: 0, healthy: true, state: 'unknown', failures: 0, last_error: null, last_check: null }],
    })
    const ready = await gateway.fetch(new Request('http://gateway.test/readyz'))
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ ready: true })
    const closing = gateway.close({ graceMs: 0 })
    const shutting = await gateway.fetch(new Request('http://gateway.test/readyz'))
    expect(shutting.status).toBe(503)
    expect(await shutting.json()).toMatchObject({ error: { code: 'shutting_down', type: 'server_error' } })
    expect(await (await gateway.fetch(new Request('http://gateway.test/healthz'))).json()).toMatchObject({ ok: false })
    await closing
  })
})
