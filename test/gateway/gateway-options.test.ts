import { describe, expect, it } from 'vitest'
import { createGateway, resolveGatewayOptions } from 'queuegate'

describe('gateway options', () => {
  it('fills defaults and accepts URL strings for upstreams', () => {
    const resolved = resolveGatewayOptions({ upstreams: ['http://a:8080/v1'] })
    expect(resolved).toMatchObject({
      upstreams: [{ url: 'http://a:8080/v1' }],
      models: [],
      maxBodyBytes: 10 * 1024 * 1024,
      readTimeoutMs: 3_600_000,
      stickyHeader: 'X-Chat-Id',
      stickyTtlMs: 600_000,
      stickyMaxImbalance: 2,
      batchMaxWaitMs: 30_000,
      maxQueued: 1000,
      maxWaitMs: 0,
      queueNotify: 'reasoning',
      notifyAfterMs: 1200,
      keepAliveMs: 15_000,
      textToolCalls: true,
      toolMode: 'passthrough',
      toolRegistry: undefined,
      injectTools: true,
      unknownToolPolicy: 'error',
      maxToolIters: 6,
      releaseSlotDuringTools: false,
    })
  })

  it('defaults the tool mode to execute when a tool registry is given', () => {
    const registry = { definitions: () => [], has: () => false, call: async () => ({ name: '', ok: true, content: '', truncated: false, bytes: 0, durationMs: 0 }), ready: async () => {}, refresh: async () => {}, close: async () => {} }
    expect(resolveGatewayOptions({ upstreams: ['http://a'], toolRegistry: registry }).toolMode).toBe('execute')
    expect(resolveGatewayOptions({ upstreams: ['http://a'], toolRegistry: registry, toolMode: 'passthrough' }).toolMode).toBe('passthrough')
  })

  it.each([
    [{ upstreams: [] }, 'upstreams: expected at least one upstream URL, got []'],
    [{ upstreams: ['http://a'], maxQueued: -1 }, 'maxQueued: expected a whole number >= 0, got -1'],
    [{ upstreams: ['http://a'], readTimeoutMs: 0 }, 'readTimeoutMs: expected a whole number >= 1, got 0'],
    [{ upstreams: ['http://a'], queueNotify: 'loud' }, 'queueNotify: expected one of reasoning, content, comment, never, got "loud"'],
    [{ upstreams: ['http://a'], toolMode: 'run' }, 'toolMode: expected one of execute, passthrough, suppress, got "run"'],
    [{ upstreams: ['http://a'], unknownToolPolicy: 'explode' }, 'unknownToolPolicy: expected one of error, passthrough, ignore, got "explode"'],
    [{ upstreams: ['http://a'], maxToolIters: -1 }, 'maxToolIters: expected a whole number >= 0, got -1'],
    [{ upstreams: ['http://a'], injectTools: 'yes' }, 'injectTools: expected true or false, got "yes"'],
    [{ upstreams: ['http://a'], stickyHeader: 'bad header' }, 'stickyHeader: expected an HTTP header name, got "bad header"'],
    [{ upstreams: ['http://a'], models: [''] }, 'models: expected a list of model ids, got [""]'],
  ])('rejects %j with a message naming the option', (options, message) => {
    expect(() => resolveGatewayOptions(options as never)).toThrow(new TypeError(message))
  })

  it('rejects bad upstreams at construction', () => {
    expect(() => createGateway({ upstreams: [{ url: 'http://a', slots: 0 }] })).toThrow('upstreams["http://a"].slots: expected a whole number >= 1, got 0')
    expect(() => createGateway({ upstreams: ['http://a/v1', 'http://a'] })).toThrow('upstreams: "http://a/v1" is listed twice (raise its slots instead)')
  })
})
