/**
 * An SSE event whose data is not JSON (issue 12): it was relayed verbatim; the stream now ends
 * with the error event instead, after the events before it, and the gateway keeps serving.
 */
import type http from 'node:http'
import { APIError } from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { listen } from '../helpers/listen.js'
import type { Listening } from '../helpers/listen.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

let upstream: Listening | undefined
let gateway: TestGateway | undefined

afterEach(async () => {
  await gateway?.close()
  await upstream?.close()
  gateway = undefined
  upstream = undefined
})

const chunk = (content: string): string => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`

describe('an SSE event that is not JSON', () => {
  it('ends the stream with an upstream_bad_event error event after the events before it; its text never reaches the client', async () => {
    upstream = await listen((incoming: http.IncomingMessage, outgoing: http.ServerResponse) => {
      incoming.resume()
      incoming.on('end', () => {
        outgoing.writeHead(200, { 'content-type': 'text/event-stream' })
        outgoing.end(`${chunk('Hello')}data: <b>Internal proxy error</b>\n\n${chunk(' world')}data: [DONE]\n\n`)
      })
    })
    gateway = await startQueuegate({ upstreams: [upstream.url] })
    const stream = await gateway.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true })
    let text = ''
    const failure = await (async () => {
      for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
    })().catch((error: unknown) => error)
    expect(text).toBe('Hello')
    expect(failure).toBeInstanceOf(APIError)
    expect(String((failure as Error).message)).toContain('not a JSON object')
    expect(String((failure as Error).message)).not.toContain('proxy error')
    expect(gateway.gateway.scheduler.snapshot().running).toBe(0)
    const end = await gateway.waitForEvent((event) => event.type === 'request-end')
    expect(end).toMatchObject({ error: expect.stringContaining('not a JSON object') })
  })
})
