import { describe, expect, it, vi } from 'vitest'
import { BRIDGE_REQUEST, bridgeRequestOf } from '../../src/gateway/bridge-protocol.js'
import type { BridgeRequest } from '../../src/gateway/bridge-protocol.js'
import { headerLookup, requestPath, unwatchClient, watchClient } from '../../src/gateway/request-access.js'

/** A request as the node bridge builds it: the standard members plus the bridge accessor. */
function bridgeRequest(rawPath: string, headers: Record<string, string> = {}): Request & { gone(): void } {
  const request = new Request(`http://127.0.0.1${rawPath.startsWith('/') ? rawPath : `/${rawPath}`}`)
  let watcher: EventListenerObject | undefined
  let gone = false
  const access: BridgeRequest = {
    target: rawPath,
    get: (name: string) => headers[name.toLowerCase()] ?? null,
    readBody: async () => new Uint8Array(0),
    watch(listener) {
      if (gone) listener.handleEvent(new Event('abort'))
      else watcher = listener
    },
    unwatch(listener) {
      if (watcher === listener) watcher = undefined
    },
  }
  Object.defineProperty(request, BRIDGE_REQUEST, { value: access })
  return Object.assign(request, {
    gone() {
      gone = true
      const listener = watcher
      watcher = undefined
      listener?.handleEvent(new Event('abort'))
    },
  })
}

describe('requestPath', () => {
  it('gives the same path from the raw path as URL parsing gives, for simple and tricky paths alike', () => {
    const paths = [
      '/v1/chat/completions',
      '/v1/chat/completions/',
      '/v1/chat/completions?stream=1',
      '/v1/models//',
      '/',
      '/v1/jobs/abc-123',
      '/v1/../v1/chat/completions',
      '/v1/./models',
      '/v1/%6Dodels',
      '/v1/a b',
      '/v1/jobs/ä',
    ]
    for (const path of paths) {
      const expected = new URL(`http://h${path}`).pathname.replace(/\/+$/, '') || '/'
      expect(requestPath(bridgeRequest(path)), path).toBe(expected)
      expect(requestPath(new Request(`http://h${path}`)), path).toBe(expected)
    }
  })
})

describe('headerLookup and bridgeRequestOf', () => {
  it('uses the bridge lookup when there is one, and the standard Headers otherwise', () => {
    const bridge = bridgeRequest('/v1/models', { 'x-chat-id': 'from-bridge' })
    expect(headerLookup(bridge).get('X-Chat-Id')).toBe('from-bridge')
    expect(bridgeRequestOf(bridge)).toBeDefined()
    const plain = new Request('http://h/v1/models', { headers: { 'X-Chat-Id': 'standard' } })
    expect(headerLookup(plain).get('x-chat-id')).toBe('standard')
    expect(bridgeRequestOf(plain)).toBeUndefined()
  })
})

describe('watchClient and unwatchClient', () => {
  /** A standard request whose client can go away, and one from the bridge. */
  const kinds = [
    [
      'standard Request',
      () => {
        const controller = new AbortController()
        return Object.assign(new Request('http://h/v1/models', { signal: controller.signal }), { gone: () => controller.abort() })
      },
    ],
    ['bridge request', () => bridgeRequest('/v1/models')],
  ] as const

  it.each(kinds)('%s: the watcher hears the client go away once', (_, make) => {
    const request = make()
    const listener = { handleEvent: vi.fn() }
    watchClient(request, listener)
    request.gone()
    request.gone()
    expect(listener.handleEvent).toHaveBeenCalledTimes(1)
  })

  it.each(kinds)('%s: after unwatchClient the watcher hears nothing', (_, make) => {
    const request = make()
    const listener = { handleEvent: vi.fn() }
    watchClient(request, listener)
    unwatchClient(request, listener)
    request.gone()
    expect(listener.handleEvent).not.toHaveBeenCalled()
  })

  it.each(kinds)('%s: a client already gone is told at once', (_, make) => {
    const request = make()
    request.gone()
    const listener = { handleEvent: vi.fn() }
    watchClient(request, listener)
    expect(listener.handleEvent).toHaveBeenCalledTimes(1)
  })
})
