import http from 'node:http'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createRequestListener } from 'queuegate/server'
import type { FetchHandler } from 'queuegate/server'
import { listen } from '../helpers/listen.js'
import type { Listening } from '../helpers/listen.js'
import { withTimeout } from '../helpers/with-timeout.js'
import { lightResponse } from '../../src/gateway/light-response.js'
import { markUnrouted } from '../../src/gateway/bridge-protocol.js'
import { watchClient } from '../../src/gateway/request-access.js'
import { readRequestJson } from '../../src/gateway/request-body.js'
import type { ByteSink, ByteSource } from '../../src/gateway/byte-source.js'

describe('createRequestListener (node:http ⇄ fetch)', () => {
  let server: Listening | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  async function serve(handler: FetchHandler, onError?: (error: unknown) => void): Promise<string> {
    server = await listen(createRequestListener(handler, { onError }))
    return server.url
  }

  /** An OpenAI-shaped 404 for a path the handler has no route for, marked as such. */
  const unrouted = (): Response => markUnrouted(lightResponse(JSON.stringify({ error: { message: 'No route.', type: 'invalid_request_error', param: null, code: 'route_not_found' } }), 404, { 'content-type': 'application/json' }))

  it('hands the handler a real Request: method, url, case-insensitive headers, and the body by any reader', async () => {
    const seen: Array<Record<string, unknown>> = []
    const url = await serve(async (request) => {
      const record: Record<string, unknown> = {
        isRequest: request instanceof Request,
        method: request.method,
        url: request.url,
        chatId: request.headers.get('x-openwebui-chat-id'),
        mode: request.mode,
      }
      record.body = request.method === 'POST' ? (new URL(request.url).searchParams.has('json') ? await request.json() : await request.text()) : null
      seen.push(record)
      return new Response('ok')
    })
    await fetch(`${url}/v1/x?json=1`, { method: 'POST', headers: { 'X-OpenWebUI-Chat-Id': 'c1' }, body: JSON.stringify({ a: 1 }) })
    await fetch(`${url}/plain`, { method: 'POST', body: 'hello' })
    await fetch(`${url}/get`)
    expect(seen).toEqual([
      { isRequest: true, method: 'POST', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1\/x\?json=1$/), chatId: 'c1', mode: 'cors', body: { a: 1 } },
      { isRequest: true, method: 'POST', url: expect.stringMatching(/\/plain$/), chatId: null, mode: 'cors', body: 'hello' },
      { isRequest: true, method: 'GET', url: expect.stringMatching(/\/get$/), chatId: null, mode: 'cors', body: null },
    ])
  })

  it('writes status, headers (several set-cookie too) and a streamed body', async () => {
    const url = await serve(() => {
      const headers = new Headers({ 'content-type': 'text/plain', 'x-test': 'yes' })
      headers.append('set-cookie', 'a=1')
      headers.append('set-cookie', 'b=2')
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const part of ['one ', 'two ', 'three']) controller.enqueue(new TextEncoder().encode(part))
          controller.close()
        },
      })
      return new Response(body, { status: 201, headers })
    })
    const response = await fetch(url)
    expect(response.status).toBe(201)
    expect(response.headers.get('x-test')).toBe('yes')
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(await response.text()).toBe('one two three')
  })

  it('aborts the Request signal and cancels the body when the client disconnects mid-response', async () => {
    let aborted: (() => void) | undefined
    const abortedSeen = new Promise<void>((resolve) => {
      aborted = resolve
    })
    let cancelled: (() => void) | undefined
    const cancelSeen = new Promise<void>((resolve) => {
      cancelled = resolve
    })
    const url = await serve((request) => {
      request.signal.addEventListener('abort', () => aborted?.())
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('first'))
        },
        cancel() {
          cancelled?.()
        },
      })
      return new Response(body)
    })
    await new Promise<void>((resolve, reject) => {
      const request = http.get(url, (response) => {
        response.once('data', () => {
          request.destroy()
          resolve()
        })
      })
      request.on('error', () => {})
      request.setTimeout(5000, () => reject(new Error('no data')))
    })
    await withTimeout(Promise.all([abortedSeen, cancelSeen]), 5000, 'abort and cancel')
  })

  it('answers 500 with an OpenAI-shaped body when the handler throws, and reports the error', async () => {
    const errors: unknown[] = []
    const url = await serve(() => {
      throw new Error('boom')
    }, (error) => errors.push(error))
    const response = await fetch(url)
    expect(response.status).toBe(500)
    expect(await response.json()).toEqual({ error: { message: 'Internal error.', type: 'server_error', param: null, code: 'internal_error' } })
    expect(errors).toHaveLength(1)
  })

  describe('light responses (what the gateway answers with)', () => {
    /** Writes `total` chunks of 64 KiB (chunk i filled with i % 251) as fast as the sink takes them. */
    function pushingSource(total: number): ByteSource & { refusals: number; resumes: number; cancelled: unknown[]; cancelSeen: Promise<void> } {
      let sink: ByteSink | undefined
      let next = 0
      let onCancel: (() => void) | undefined
      const source = {
        refusals: 0,
        resumes: 0,
        cancelled: [] as unknown[],
        cancelSeen: new Promise<void>((resolve) => (onCancel = resolve)),
        start(target: ByteSink) {
          sink = target
          pump()
        },
        resume() {
          source.resumes += 1
          pump()
        },
        cancel(reason?: unknown) {
          source.cancelled.push(reason)
          next = total
          onCancel?.()
        },
      }
      const pump = (): void => {
        while (next < total) {
          const chunk = new Uint8Array(64 * 1024).fill(next % 251)
          next += 1
          if (next === total) {
            sink?.end(chunk)
            return
          }
          if (sink?.write(chunk) === false) {
            source.refusals += 1
            return
          }
        }
      }
      return source
    }

    it('writes status, plain headers and a string body as they are, with its length (not chunked)', async () => {
      const url = await serve(() => lightResponse('{"ok":"é"}', 201, { 'content-type': 'application/json', 'x-a': '1' }))
      const response = await fetch(url)
      expect(response.status).toBe(201)
      expect(response.headers.get('x-a')).toBe('1')
      expect(response.headers.get('content-length')).toBe('11')
      expect(response.headers.get('transfer-encoding')).toBeNull()
      expect(await response.json()).toEqual({ ok: 'é' })
      const bytes = await serve(() => lightResponse(new TextEncoder().encode('abc'), 200, {}))
      expect((await fetch(bytes)).headers.get('content-length')).toBe('3')
    })

    it('drives a push body with backpressure: a slow reader pauses the source, drain resumes it, every byte arrives in order', async () => {
      const total = 128 // 8 MiB, far past the socket's buffers
      const source = pushingSource(total)
      const url = await serve(() => lightResponse(source, 200, { 'content-type': 'application/octet-stream' }))
      const received = await new Promise<Buffer[]>((resolve, reject) => {
        http.get(url, (response) => {
          const parts: Buffer[] = []
          response.on('data', (part: Buffer) => {
            parts.push(part)
            // A slow reader: pause after each piece, go on a little later.
            response.pause()
            setTimeout(() => response.resume(), 1)
          })
          response.on('end', () => resolve(parts))
          response.on('error', reject)
        }).on('error', reject)
      })
      const body = Buffer.concat(received)
      expect(body.byteLength).toBe(total * 64 * 1024)
      for (let index = 0; index < total; index++) expect(body[index * 64 * 1024 + 100]).toBe(index % 251)
      expect(source.refusals).toBeGreaterThan(0)
      expect(source.resumes).toBe(source.refusals)
      expect(source.cancelled).toEqual([])
    }, 20_000)

    it('cancels a push body when the client disconnects mid-way', async () => {
      const source = pushingSource(1_000_000)
      const url = await serve(() => lightResponse(source, 200, {}))
      await new Promise<void>((resolve, reject) => {
        const request = http.get(url, (response) => {
          response.once('data', () => {
            request.destroy()
            resolve()
          })
        })
        request.on('error', () => {})
        setTimeout(() => reject(new Error('no data')), 5000)
      })
      await withTimeout(source.cancelSeen, 5000, 'cancel')
      expect(source.cancelled).toHaveLength(1)
    })
  })

  describe('basePath', () => {
    it('hands the handler paths from the base path on, and answers 404 outside it without calling the handler', async () => {
      const seen: string[] = []
      server = await listen(
        createRequestListener(
          (request) => {
            seen.push(request.url.replace(/^http:\/\/[^/]+/, ''))
            return new Response('ok')
          },
          { basePath: '/llm/' },
        ),
      )
      for (const path of ['/llm/v1/models?x=1', '/llm', '/llm?y', '/llm/']) expect((await fetch(`${server.url}${path}`)).status, path).toBe(200)
      expect(seen).toEqual(['/v1/models?x=1', '/', '/?y', '/'])
      for (const path of ['/llmx/v1/models', '/v1/models', '/']) {
        const response = await fetch(`${server.url}${path}`)
        expect(response.status, path).toBe(404)
        expect(await response.json()).toEqual({ error: { message: expect.stringContaining('/llm'), type: 'invalid_request_error', param: null, code: 'route_not_found' } })
      }
      expect(seen).toHaveLength(4)
    })

    it('fails at construction on a base path that is not a path, naming the option and the value', () => {
      expect(() => createRequestListener(() => new Response(), { basePath: 'llm' })).toThrow(/basePath.*"llm"/)
      expect(() => createRequestListener(() => new Response(), { basePath: '/llm?x' })).toThrow(/basePath/)
    })
  })

  describe('as middleware (a next() is given, as Express does)', () => {
    async function serveWithNext(handler: FetchHandler, options: { basePath?: string } = {}): Promise<string> {
      const listener = createRequestListener(handler, options)
      server = await listen((incoming, outgoing) => {
        listener(incoming, outgoing, () => {
          outgoing.writeHead(200, { 'content-type': 'text/plain' })
          outgoing.end('from next')
        })
      })
      return server.url
    }

    it('an answer marked unrouted goes to next() and is not written; other answers are written', async () => {
      const url = await serveWithNext((request) => (new URL(request.url).pathname === '/mine' ? new Response('from the handler') : unrouted()))
      expect(await (await fetch(`${url}/mine`)).text()).toBe('from the handler')
      const passed = await fetch(`${url}/after`, { method: 'POST', body: 'left for the next handler' })
      expect(passed.status).toBe(200)
      expect(await passed.text()).toBe('from next')
    })

    it('a request outside basePath goes to next() without reaching the handler', async () => {
      const handler = vi.fn(() => new Response('from the handler'))
      const url = await serveWithNext(handler, { basePath: '/llm' })
      expect(await (await fetch(`${url}/after`)).text()).toBe('from next')
      expect(await (await fetch(`${url}/llm/x`)).text()).toBe('from the handler')
      expect(handler).toHaveBeenCalledTimes(1)
    })

    it('without next(), an answer marked unrouted is written as it is', async () => {
      const url = await serve(() => unrouted())
      const response = await fetch(`${url}/after`)
      expect(response.status).toBe(404)
      expect(await response.json()).toMatchObject({ error: { code: 'route_not_found' } })
    })
  })

  describe('a body parser in front (express.json() and the like)', () => {
    /** A stand-in for body-parser: reads the whole body, leaves the parsed value on `incoming.body`. */
    async function serveBehindParser(handler: FetchHandler): Promise<string> {
      const listener = createRequestListener(handler)
      server = await listen((incoming, outgoing) => {
        const parts: Buffer[] = []
        incoming.on('data', (part: Buffer) => parts.push(part))
        incoming.on('end', () => {
          ;(incoming as typeof incoming & { body?: unknown }).body = JSON.parse(Buffer.concat(parts).toString())
          listener(incoming, outgoing)
        })
      })
      return server.url
    }

    it('readRequestJson says a body parser consumed the body and how to mount queuegate, by either way of reading it', async () => {
      const url = await serveBehindParser(async (request) => {
        const useStream = new URL(request.url).searchParams.has('stream')
        try {
          if (useStream) void request.body // the standard stream: read through it, not off the socket
          await readRequestJson(request, 1024)
          return new Response('read')
        } catch (error) {
          return (error as { toResponse(): Response }).toResponse()
        }
      })
      for (const path of ['/v1/chat/completions', '/v1/chat/completions?stream']) {
        const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m"}' })
        expect(response.status, path).toBe(400)
        const { error } = (await response.json()) as { error: { message: string; code: string; type: string } }
        expect(error.code).toBe('body_consumed')
        expect(error.type).toBe('invalid_request_error')
        expect(error.message).toMatch(/body parser/)
        expect(error.message).toMatch(/before express\.json\(\)/)
      }
    })
  })

  describe('the client going away (one channel: the request tells its watcher, then its signal)', () => {
    it('cancels the push body first, then tells the watcher once and aborts the signal', async () => {
      const order: string[] = []
      let done: (() => void) | undefined
      const finished = new Promise<void>((resolve) => (done = resolve))
      const url = await serve((request) => {
        watchClient(request, {
          handleEvent() {
            order.push('watcher')
          },
        })
        request.signal.addEventListener('abort', () => {
          order.push('signal')
          done?.()
        })
        let sink: ByteSink | undefined
        const source: ByteSource = {
          start(target) {
            sink = target
            sink.write(new TextEncoder().encode('first'))
          },
          resume() {},
          cancel() {
            order.push('body')
          },
        }
        return lightResponse(source, 200, {})
      })
      await new Promise<void>((resolve, reject) => {
        const request = http.get(url, (response) => {
          response.once('data', () => {
            request.destroy()
            resolve()
          })
        })
        request.on('error', () => {})
        setTimeout(() => reject(new Error('no data')), 5000)
      })
      await withTimeout(finished, 5000, 'signal abort')
      expect(order).toEqual(['body', 'watcher', 'signal'])
    })

    it('a signal first read after the client went away is aborted already, and a watcher set then is told at once', async () => {
      let report: ((seen: { aborted: boolean; told: boolean }) => void) | undefined
      const seen = new Promise<{ aborted: boolean; told: boolean }>((resolve) => (report = resolve))
      const url = await serve(
        (request) =>
          new Promise<Response>(() => {
            // Looks at the request only once the client is gone (the 'close' has fired by then).
            setTimeout(() => {
              let told = false
              watchClient(request, { handleEvent: () => (told = true) })
              report?.({ aborted: request.signal.aborted, told })
            }, 200)
          }),
      )
      await new Promise<void>((resolve) => {
        const request = http.get(url)
        request.on('error', () => resolve())
        setTimeout(() => {
          request.destroy()
          resolve()
        }, 50)
      })
      expect(await withTimeout(seen, 5000, 'late look')).toEqual({ aborted: true, told: true })
    })
  })
})
