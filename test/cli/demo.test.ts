import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import type { RunningServer } from 'queuegate/server'

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Current weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}

describe('queuegate --demo', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('serves two simulated llama.cpp servers through the CLI, prints the dashboard URL and a curl to try, and stops them on close', async () => {
    const printed: string[] = []
    const logged: string[] = []
    const server = (await main({ argv: ['node', 'queuegate', '--demo', '--port', '0'], env: {}, print: (line) => printed.push(line), log: (line) => logged.push(line), handleSignals: false })) as RunningServer
    cleanups.push(() => server.close({ graceMs: 0 }))
    const text = printed.join('\n')
    expect(text).toContain(`dashboard   ${server.url}/`)
    expect(text).toContain(`curl -N ${server.url}/v1/chat/completions`)
    expect(logged.join('\n')).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ -> http:\/\/127\.0\.0\.1:\d+\/v1 \(2 slots\), http:\/\/127\.0\.0\.1:\d+\/v1 \(2 slots\)/)

    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'demo', maxRetries: 0, timeout: 15_000 })
    // The curl the demo prints, through the official client: a streamed answer.
    const stream = await client.chat.completions.create({ model: 'sim-llama-8b', stream: true, max_tokens: 6, messages: [{ role: 'user', content: 'What does queuegate do?' }] })
    let answer = ''
    let finish: string | null | undefined
    for await (const chunk of stream) {
      answer += chunk.choices[0]?.delta?.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(answer.split(' ')).toHaveLength(6)
    expect(finish).toBe('length')

    // Both servers list their models; the one only sim-gpu-b serves runs there.
    expect((await client.models.list()).data.map((model) => model.id).sort()).toEqual(['sim-llama-8b', 'sim-qwen-14b'])
    const { data: completion, response } = await client.chat.completions.create({ model: 'sim-qwen-14b', max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] }).withResponse()
    expect(completion.choices[0]?.message.content).toMatch(/\w/)
    const job = (await (await fetch(`${server.url}/v1/jobs/${response.headers.get('x-queuegate-job-id')}`)).json()) as { upstream: string }
    expect(job.upstream).toBe('sim-gpu-b')

    // sim-gpu-b writes every other tool call as text: the gateway recovers it, so both come back as tool calls.
    for (let i = 0; i < 2; i++) {
      const called = await client.chat.completions.create({ model: 'sim-qwen-14b', tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }] })
      expect(called.choices[0]?.finish_reason).toBe('tool_calls')
      expect(called.choices[0]?.message.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } })
    }

    // The dashboard is on.
    const page = await fetch(`${server.url}/`)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const state = (await (await fetch(`${server.url}/v1/dashboard/state`)).json()) as { upstreams: Array<{ id: string }>; recent: unknown[] }
    expect(state.upstreams.map((upstream) => upstream.id)).toEqual(['sim-gpu-a', 'sim-gpu-b'])
    expect(state.recent).toHaveLength(4)
    // The tool call sim-gpu-b wrote as text shows as recovered; the native one does not.
    expect((state.recent as Array<{ toolCallsRecovered: number | null }>).map((job) => job.toolCallsRecovered)).toEqual([null, 1, null, null])

    const upstreamUrls = [...logged.join('\n').matchAll(/(http:\/\/127\.0\.0\.1:\d+)\/v1 \(2 slots\)/g)].map((match) => match[1] as string)
    expect(upstreamUrls).toHaveLength(2)
    await server.close({ graceMs: 0 })
    for (const url of upstreamUrls) await expect(fetch(`${url}/health`)).rejects.toThrow()
  })
})
