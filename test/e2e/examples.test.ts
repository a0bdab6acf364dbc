import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'

interface Example {
  start(options: { upstream: string; port: number }): Promise<{ url: string; close(): Promise<void> }>
}

describe('examples', () => {
  let upstream: FakeUpstream | undefined
  let running: { close(): Promise<void> } | undefined
  afterEach(async () => {
    await running?.close()
    await upstream?.close()
    running = undefined
    upstream = undefined
  })

  it.each(['node-http', 'express'])('examples/%s starts and answers the openai client', async (name) => {
    upstream = await startFakeUpstream({ tokens: 3 })
    const example = (await import(`../../examples/${name}/server.mjs`)) as Example
    const started = await example.start({ upstream: `${upstream.url}/v1`, port: 0 })
    running = started
    const client = new OpenAI({ baseURL: `${started.url}/v1`, apiKey: 'x', maxRetries: 0 })
    const completion = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] })
    expect(completion.choices[0]?.message.content).toBe('tok0 tok1 tok2')
    let streamed = ''
    for await (const chunk of await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], stream: true })) {
      streamed += chunk.choices[0]?.delta.content ?? ''
    }
    expect(streamed).toBe('tok0 tok1 tok2')
    if (name === 'express') {
      const hello = await fetch(`${started.url}/hello`)
      expect(await hello.json()).toEqual({ hello: 'from express' })
    }
  })
})
