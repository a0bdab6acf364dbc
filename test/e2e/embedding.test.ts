/**
 * queuegate embedded like middleware, as new users found it: mounted in a real Express 5 app
 * under a path, beside routes registered after it, behind express.json(); and under a base path
 * on plain node:http. The official openai client is the caller, against the fake upstream.
 */
import http from 'node:http'
import express from 'express'
import type { Express } from 'express'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { createGateway } from 'queuegate'
import type { Gateway } from 'queuegate'
import { createRequestListener } from 'queuegate/server'
import type { RequestListener, RequestListenerOptions } from 'queuegate/server'
import { listen } from '../helpers/listen.js'
import type { Listening } from '../helpers/listen.js'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'

const messages = [{ role: 'user' as const, content: 'hi' }]

/** The generation requests the upstream received (the gateway may also ask for its models). */
const generations = (upstream: FakeUpstream | undefined): string[] => (upstream?.requests ?? []).filter((request) => request.method === 'POST').map((request) => request.path)

describe('queuegate embedded like middleware', () => {
  let upstream: FakeUpstream | undefined
  let gateway: Gateway | undefined
  let server: Listening | undefined
  afterEach(async () => {
    await gateway?.close({ graceMs: 0 })
    await server?.close()
    await upstream?.close()
    gateway = undefined
    server = undefined
    upstream = undefined
  })

  /** Starts the fake upstream, a gateway on it, and a server built around the gateway's listener. */
  async function start(build: (listener: RequestListener) => Express | http.RequestListener, options: RequestListenerOptions = {}): Promise<string> {
    upstream = await startFakeUpstream({ tokens: 3 })
    gateway = createGateway({ upstreams: [{ url: `${upstream.url}/v1` }] })
    server = await listen(build(createRequestListener(gateway.fetch, options)) as http.RequestListener)
    return server.url
  }

  /** The openai client at `baseURL`: one completion and one stream, both answered by the fake upstream. */
  async function expectCompletions(baseURL: string): Promise<void> {
    const client = new OpenAI({ baseURL, apiKey: 'test', maxRetries: 0, timeout: 10_000 })
    const completion = await client.chat.completions.create({ model: 'fake-model', messages })
    expect(completion.choices[0]?.message.content).toBe('tok0 tok1 tok2')
    let streamed = ''
    for await (const chunk of await client.chat.completions.create({ model: 'fake-model', messages, stream: true })) {
      streamed += chunk.choices[0]?.delta.content ?? ''
    }
    expect(streamed).toBe('tok0 tok1 tok2')
  }

  describe('in an Express 5 app', () => {
    it("mounted under a path (app.use('/llm', listener)), answers the openai client at /llm/v1 (it answered 404)", async () => {
      const url = await start((listener) => {
        const app = express()
        app.use('/llm', listener)
        app.get('/after', (_request, response) => {
          response.json({ from: 'express' })
        })
        return app
      })
      await expectCompletions(`${url}/llm/v1`)
      const health = await fetch(`${url}/llm/healthz`)
      expect(health.status).toBe(200)
      expect(await health.json()).toMatchObject({ ok: true, upstreams: 1 })
      expect(await (await fetch(`${url}/after`)).json()).toEqual({ from: 'express' })
      expect(generations(upstream)).toEqual(['/v1/chat/completions', '/v1/chat/completions'])
    })

    it('a request the gateway has no route for goes on to the routes after it (GET /after got the gateway 404)', async () => {
      const url = await start((listener) => {
        const app = express()
        app.use(listener)
        app.get('/after', (_request, response) => {
          response.json({ from: 'express' })
        })
        // The body is still there for a handler after the gateway.
        app.post('/after', express.json(), (request, response) => {
          response.json({ echo: request.body as unknown })
        })
        return app
      })
      await expectCompletions(`${url}/v1`)
      const after = await fetch(`${url}/after`)
      expect(after.status).toBe(200)
      expect(await after.json()).toEqual({ from: 'express' })
      const posted = await fetch(`${url}/after`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
      expect(await posted.json()).toEqual({ echo: { a: 1 } })
      // Nobody after it has the route: Express's own 404, not the gateway's.
      const nowhere = await fetch(`${url}/nowhere`)
      expect(nowhere.status).toBe(404)
      expect(nowhere.headers.get('x-queuegate-job-id')).toBeNull()
    })

    it('behind express.json(), the client is told a body parser consumed the body and how to mount queuegate (it was told the body is empty)', async () => {
      const url = await start((listener) => {
        const app = express()
        app.use(express.json())
        app.use('/llm', listener)
        return app
      })
      const client = new OpenAI({ baseURL: `${url}/llm/v1`, apiKey: 'test', maxRetries: 0, timeout: 10_000 })
      const failure = await client.chat.completions.create({ model: 'fake-model', messages }).then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(failure).toBeInstanceOf(OpenAI.APIError)
      expect(failure).toMatchObject({ status: 400, code: 'body_consumed', type: 'invalid_request_error' })
      expect((failure as Error).message).toMatch(/body parser/)
      expect((failure as Error).message).toMatch(/Mount queuegate before express\.json\(\)/)
      expect(generations(upstream)).toEqual([])
    })

    it('with express.json() after it (the fix), both the gateway and the JSON routes work', async () => {
      const url = await start((listener) => {
        const app = express()
        app.use('/llm', listener)
        app.use(express.json())
        app.post('/api/echo', (request, response) => {
          response.json({ echo: request.body as unknown })
        })
        return app
      })
      await expectCompletions(`${url}/llm/v1`)
      const echoed = await fetch(`${url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
      expect(await echoed.json()).toEqual({ echo: { a: 1 } })
    })
  })

  describe('on plain node:http with basePath', () => {
    it('answers the openai client under the base path, and 404 outside it', async () => {
      const url = await start((listener) => (incoming: http.IncomingMessage, outgoing: http.ServerResponse) => listener(incoming, outgoing), { basePath: '/llm' })
      await expectCompletions(`${url}/llm/v1`)
      const outside = await fetch(`${url}/v1/models`)
      expect(outside.status).toBe(404)
      expect(await outside.json()).toMatchObject({ error: { code: 'route_not_found', type: 'invalid_request_error' } })
      expect(generations(upstream)).toEqual(['/v1/chat/completions', '/v1/chat/completions'])
    })
  })
})
