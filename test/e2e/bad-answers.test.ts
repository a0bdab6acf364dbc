/**
 * Upstream answers that are not what they claim (issue 12): a 200 that is neither SSE nor JSON (an
 * HTML error page from a proxy in front of the server, garbage) is a 502 `upstream_bad_response`,
 * streamed or not, and never relayed as a success; a JSON completion labelled as plain text still works.
 */
import type http from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { listen } from '../helpers/listen.js'
import type { Listening } from '../helpers/listen.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

const messages = [{ role: 'user' as const, content: 'hi' }]
let upstream: Listening | undefined
let gateway: TestGateway | undefined

afterEach(async () => {
  await gateway?.close()
  await upstream?.close()
  gateway = undefined
  upstream = undefined
})

async function serving(contentType: string, body: string): Promise<TestGateway> {
  upstream = await listen((incoming: http.IncomingMessage, outgoing: http.ServerResponse) => {
    incoming.resume()
    incoming.on('end', () => {
      outgoing.writeHead(200, { 'content-type': contentType })
      outgoing.end(body)
    })
  })
  gateway = await startQueuegate({ upstreams: [upstream.url] })
  return gateway
}

const COMPLETION = JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }] })

describe('a 2xx answer that is neither SSE nor JSON', () => {
  it('an HTML page is a 502 upstream_bad_response, non-streamed and streamed, and the gateway keeps serving', async () => {
    const gw = await serving('text/html; charset=utf-8', '<html><body>502 Bad Gateway (nginx)</body></html>')
    const whole = await gw.client.chat.completions.create({ model: 'm', messages }).catch((error: unknown) => error)
    expect(whole).toMatchObject({ status: 502, code: 'upstream_bad_response' })
    expect((whole as Error).message).not.toContain('<html>')
    const streamed = await gw.client.chat.completions.create({ model: 'm', messages, stream: true }).catch((error: unknown) => error)
    expect(streamed).toMatchObject({ status: 502, code: 'upstream_bad_response' })
    expect(gw.gateway.scheduler.snapshot().running).toBe(0)
  })

  it('garbage labelled as JSON to a streaming request is a 502 too; a JSON completion labelled text/plain is taken', async () => {
    let gw = await serving('application/json', 'not json at all')
    const streamed = await gw.client.chat.completions.create({ model: 'm', messages, stream: true }).catch((error: unknown) => error)
    expect(streamed).toMatchObject({ status: 502, code: 'upstream_bad_response' })
    await gateway!.close()
    await upstream!.close()
    gw = await serving('text/plain', COMPLETION)
    const whole = await gw.client.chat.completions.create({ model: 'm', messages })
    expect(whole.choices[0]?.message.content).toBe('fine')
    const stream = await gw.client.chat.completions.create({ model: 'm', messages, stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe('fine')
  })
})
