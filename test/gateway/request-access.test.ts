import { describe, expect, it } from 'vitest'
import { HEADER_LOOKUP, RAW_PATH, headerLookup, isBridgeRequest, requestPath } from '../../src/gateway/request-access.js'

/** A request as the node bridge builds it: the standard members plus the fast accessors. */
function bridgeRequest(rawPath: string, headers: Record<string, string> = {}): Request {
  const request = new Request(`http://127.0.0.1${rawPath.startsWith('/') ? rawPath : `/${rawPath}`}`)
  Object.defineProperty(request, RAW_PATH, { value: rawPath })
  Object.defineProperty(request, HEADER_LOOKUP, { value: { get: (name: string) => headers[name.toLowerCase()] ?? null } })
  return request
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

describe('headerLookup and isBridgeRequest', () => {
  it('uses the bridge lookup when there is one, and the standard Headers otherwise', () => {
    const bridge = bridgeRequest('/v1/models', { 'x-chat-id': 'from-bridge' })
    expect(headerLookup(bridge).get('X-Chat-Id')).toBe('from-bridge')
    expect(isBridgeRequest(bridge)).toBe(true)
    const plain = new Request('http://h/v1/models', { headers: { 'X-Chat-Id': 'standard' } })
    expect(headerLookup(plain).get('x-chat-id')).toBe('standard')
    expect(isBridgeRequest(plain)).toBe(false)
  })
})
