import { describe, expect, it } from 'vitest'
import { parseUpstreamUrl } from 'queuegate'

describe('parseUpstreamUrl', () => {
  it.each([
    ['http://gpu1:8080', 'http://gpu1:8080', '/v1'],
    ['http://gpu1:8080/', 'http://gpu1:8080', '/v1'],
    ['http://gpu1:8080/v1', 'http://gpu1:8080', '/v1'],
    ['http://gpu1:8080/v1/', 'http://gpu1:8080', '/v1'],
    ['http://gpu1:8080/v1/chat/completions', 'http://gpu1:8080', '/v1'],
    ['https://lab.example/llm/v1/chat/completions', 'https://lab.example', '/llm/v1'],
    ['http://127.0.0.1:11434/v1/models', 'http://127.0.0.1:11434', '/v1'],
  ])('%s → origin %s, API root %s', (url, origin, apiRoot) => {
    expect(parseUpstreamUrl(url)).toEqual({ origin, apiRoot })
  })

  it('names the setting and the value when the URL is unusable', () => {
    expect(() => parseUpstreamUrl('gpu1:8080')).toThrow('upstreams: "gpu1:8080" must be an http:// or https:// URL')
    expect(() => parseUpstreamUrl('not a url')).toThrow('upstreams: "not a url" is not a URL (expected e.g. http://127.0.0.1:8080/v1)')
  })
})
