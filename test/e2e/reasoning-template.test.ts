/**
 * llama.cpp's `/props` as a signal (issue 11): an upstream whose chat template ends the generation
 * prompt with `<think>` has its models' replies read as starting inside a think block from the first
 * stream, through the official client.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

const R1_TEMPLATE = "{% if add_generation_prompt %}{{'<｜Assistant｜><think>\\n'}}{% endif %}"
const PIECES = ['The user', ' greets me.\n</th', 'ink>\n\nHello!']

/** A small llama.cpp look-alike: /health, /props (with `template`), /v1/models, streamed chat. */
async function startLlama(template: string | undefined): Promise<{ url: string; propsRead: () => number; close: () => Promise<void> }> {
  let props = 0
  const server = http.createServer((request, response) => {
    if (request.url === '/health') return void response.end('{"status":"ok"}')
    if (request.url === '/props') {
      props++
      if (template === undefined) return void response.writeHead(404).end()
      return void response.setHeader('content-type', 'application/json').end(JSON.stringify({ chat_template: template, total_slots: 1 }))
    }
    if (request.url === '/v1/models') return void response.setHeader('content-type', 'application/json').end('{"object":"list","data":[{"id":"r1","object":"model"}]}')
    request.resume()
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      const event = (delta: object, finish: string | null): string => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'r1', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
      response.end(PIECES.map((content) => event({ content }, null)).join('') + event({}, 'stop') + 'data: [DONE]\n\n')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, propsRead: () => props, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

describe('reasoning: the chat template from /props', () => {
  let llama: Awaited<ReturnType<typeof startLlama>> | undefined
  let gateway: TestGateway | undefined
  afterEach(async () => {
    await gateway?.close()
    await llama?.close()
    gateway = undefined
    llama = undefined
  })

  async function streamed(): Promise<{ content: string; reasoning: string }> {
    const out = { content: '', reasoning: '' }
    for await (const chunk of await gateway!.client.chat.completions.create({ model: 'r1', messages: [{ role: 'user', content: 'hi' }], stream: true })) {
      const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined
      out.content += delta?.content ?? ''
      out.reasoning += delta?.reasoning_content ?? ''
    }
    return out
  }

  /** Waits (bounded) until the gateway read /props and had a moment to take it in (model discovery reads it). */
  async function afterProps(): Promise<void> {
    await gateway!.client.models.list()
    for (let tries = 0; tries < 200 && llama!.propsRead() === 0; tries++) await new Promise((resolve) => setTimeout(resolve, 10))
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  it('a template that opens <think>: the first stream already starts inside', async () => {
    llama = await startLlama(R1_TEMPLATE)
    gateway = await startQueuegate({ upstreams: [llama.url] })
    await afterProps()
    expect(llama.propsRead()).toBe(1)
    expect(await streamed()).toEqual({ content: 'Hello!', reasoning: 'The user greets me.\n' })
  })

  it('no /props (another server), or reasoningStartsInThink off: nothing is learnt from it', async () => {
    llama = await startLlama(undefined)
    gateway = await startQueuegate({ upstreams: [llama.url] })
    await afterProps()
    expect(await streamed()).toEqual({ content: 'The user greets me.\n</think>\n\nHello!', reasoning: '' })
    await gateway.close()
    await llama.close()
    llama = await startLlama(R1_TEMPLATE)
    gateway = await startQueuegate({ upstreams: [llama.url], reasoningStartsInThink: false })
    await gateway.client.models.list()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(llama.propsRead()).toBe(0)
    expect(await streamed()).toEqual({ content: 'The user greets me.\n</think>\n\nHello!', reasoning: '' })
  })
})
