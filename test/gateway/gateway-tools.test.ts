import { afterEach, describe, expect, it } from 'vitest'
import { createGateway, createToolRegistry, resolveGatewayOptions } from 'queuegate'
import type { GatewayEvent } from 'queuegate'
import { createGatewayServices } from '../../src/gateway/gateway-services.js'
import { createFakeClock } from '../helpers/fake-clock.js'
import { startFakeToolServer } from '../tools/fake-tool-server.js'

const upstreams = ['http://127.0.0.1:9/v1']

describe('the gateway’s tool registry', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('has none unless tool servers are configured (no registry, nothing listed)', () => {
    expect(createGatewayServices({ upstreams, healthIntervalMs: 0, discoverModels: false }).tools).toBeUndefined()
  })

  it('builds one from toolServers with the tool options; its warnings are warning events; closing the gateway closes it', async () => {
    const server = await startFakeToolServer({ tools: { big: { handler: () => 'x'.repeat(100) } } })
    cleanups.push(() => server.close())
    const events: GatewayEvent[] = []
    const clock = createFakeClock()
    const gateway = createGateway({
      upstreams,
      healthIntervalMs: 0,
      discoverModels: false,
      toolServers: [server.url, { url: 'http://127.0.0.1:9/down', name: 'down-server' }],
      toolMaxBytes: 10,
      toolSchemaTtlMs: 1000,
      onEvent: (event) => events.push(event),
      _internal: { clock },
    })
    cleanups.push(() => gateway.close({ graceMs: 0 }))
    await gateway.tools?.ready()
    expect(gateway.tools?.definitions().map((tool) => tool.function.name)).toEqual(['big'])
    expect((await gateway.tools?.call('big', {}))?.truncated).toBe(true)
    expect(events.filter((event) => event.type === 'warning').map((event) => (event as { message: string }).message)).toEqual([
      expect.stringMatching(/^tool server down-server could not be listed/),
    ])
    await gateway.close({ graceMs: 0 })
    clock.advance(5000)
    gateway.tools?.definitions()
    await gateway.tools?.refresh()
    expect(server.listings).toBe(1)
  })

  it('uses a registry given as toolRegistry, and leaves it open on close', async () => {
    const server = await startFakeToolServer({ tools: { echo: {} } })
    cleanups.push(() => server.close())
    const registry = createToolRegistry({ toolServers: [server.url] })
    cleanups.push(() => registry.close())
    const gateway = createGateway({ upstreams, healthIntervalMs: 0, discoverModels: false, toolRegistry: registry, toolServers: ['http://127.0.0.1:9/ignored'] })
    expect(gateway.tools).toBe(registry)
    await registry.ready()
    await gateway.close({ graceMs: 0 })
    await registry.refresh()
    expect(server.listings).toBe(2)
  })

  it('rejects bad tool options, naming them', () => {
    expect(() => resolveGatewayOptions({ upstreams, toolTimeoutMs: 0 })).toThrow('toolTimeoutMs: expected a whole number >= 1, got 0')
    expect(() => resolveGatewayOptions({ upstreams, toolMaxBytes: 1.5 })).toThrow('toolMaxBytes: expected a whole number >= 1, got 1.5')
    expect(() => resolveGatewayOptions({ upstreams, toolServers: 'http://t' as unknown as string[] })).toThrow('toolServers: expected a list')
    expect(() => resolveGatewayOptions({ upstreams, toolRegistry: {} as never })).toThrow('toolRegistry: expected a ToolRegistry')
    expect(() => createGateway({ upstreams, toolServers: ['nope'] })).toThrow('toolServers: expected an http:// or https:// URL, got "nope"')
    expect(() => createGateway({ upstreams, mcpServers: [{ url: 'http://m', headers: { 'bad header': 'x' } }] })).toThrow('mcpServers[http://m].headers: "bad header" is not a valid header')
  })
})
