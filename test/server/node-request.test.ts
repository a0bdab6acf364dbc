import http from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createRequestListener } from 'queuegate/server'
import type { FetchHandler } from 'queuegate/server'
import { bridgeRequestOf } from '../../src/gateway/bridge-protocol.js'
import { listen } from '../helpers/listen.js'
import type { Listening } from '../helpers/listen.js'

/** Sends a raw request (repeated headers and all) and resolves with the response text. */
function send(url: string, options: { method: string; path: string; headers: Array<[string, string]>; body?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    // Raw headers (so a name can repeat) get no Host added: send it.
    const headers = [['Host', new URL(url).host], ...options.headers].flat()
    const request = http.request(`${url}${options.path}`, { method: options.method, headers }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (part: string) => (text += part))
      response.on('end', () => resolve(text))
    })
    request.on('error', reject)
    request.end(options.body)
  })
}

describe('the node bridge request (createNodeRequest)', () => {
  let server: Listening | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  async function serve(handler: FetchHandler): Promise<string> {
    server = await listen(createRequestListener(handler))
    return server.url
  }

  it("its bridge accessor answers what the standard members answer: target, headers, body", async () => {
    const seen: Array<Record<string, unknown>> = []
    const url = await serve(async (request) => {
      const bridge = bridgeRequestOf(request)
      if (bridge === undefined) throw new Error('not a bridge request')
      const fast = {
        target: bridge.target,
        chatId: bridge.get('X-Chat-Id'),
        repeated: bridge.get('x-repeated'),
        missing: bridge.get('x-missing'),
        body: new TextDecoder().decode(await bridge.readBody(1024)),
      }
      const parsed = new URL(request.url)
      seen.push({
        fast,
        standard: {
          target: `${parsed.pathname}${parsed.search}`,
          chatId: request.headers.get('x-chat-id'),
          repeated: request.headers.get('X-Repeated'),
          missing: request.headers.get('x-missing'),
        },
      })
      return new Response('ok')
    })
    await send(url, { method: 'POST', path: '/v1/chat/completions?x=1', headers: [['X-Chat-Id', 'c1'], ['X-Repeated', 'a'], ['X-Repeated', 'b']], body: '{"a":1}' })
    expect(seen).toEqual([
      {
        fast: { target: '/v1/chat/completions?x=1', chatId: 'c1', repeated: 'a, b', missing: null, body: '{"a":1}' },
        standard: { target: '/v1/chat/completions?x=1', chatId: 'c1', repeated: 'a, b', missing: null },
      },
    ])
  })

  it('readBody gives undefined past the cap, and the body through the stream when someone took the stream first', async () => {
    const seen: unknown[] = []
    const url = await serve(async (request) => {
      const bridge = bridgeRequestOf(request)
      if (new URL(request.url).searchParams.has('stream')) {
        void request.body
        seen.push(new TextDecoder().decode(await bridge?.readBody(1024)))
      } else {
        seen.push(await bridge?.readBody(4))
      }
      return new Response('ok')
    })
    await send(url, { method: 'POST', path: '/?stream', headers: [], body: 'streamed' })
    await send(url, { method: 'POST', path: '/', headers: [], body: 'too long' })
    expect(seen).toEqual(['streamed', undefined])
  })

  it('request.signal is one AbortSignal, the same on every read', async () => {
    const signals: AbortSignal[] = []
    const url = await serve((request) => {
      const first = request.signal
      signals.push(first, request.signal)
      return new Response(String(first.aborted))
    })
    expect(await send(url, { method: 'GET', path: '/', headers: [] })).toBe('false')
    expect(signals[0]).toBeInstanceOf(AbortSignal)
    expect(signals[0]).toBe(signals[1])
  })
})
