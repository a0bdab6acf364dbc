/**
 * `--agent MODULE`: agents loaded from modules by the CLI, served as models; the example agent
 * (examples/agent/agent.mjs) answering through the fake upstream.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import type { RunningServer } from 'queuegate/server'
import { main } from '../../src/cli/main.js'
import { loadAgentModules } from '../../src/cli/load-agents.js'
import { startFakeUpstream } from '../e2e/fake-upstream.js'
import { startFakeToolServer } from '../tools/fake-tool-server.js'

describe('--agent modules', () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('serves the example agent as a model from the command line', async () => {
    const upstream = await startFakeUpstream({ chunks: [{ content: 'Take an umbrella.' }] })
    cleanups.push(() => upstream.close())
    const lines: string[] = []
    const server = (await main({
      argv: ['node', 'queuegate', '--port', '0', '--upstreams', `${upstream.url}/v1`, '--agent', 'examples/agent/agent.mjs', '--no-model-discovery', '--health-interval', '0'],
      env: {},
      log: (line) => lines.push(line),
      handleSignals: false,
    })) as RunningServer
    cleanups.push(() => server.close({ graceMs: 0 }))
    expect(lines.some((line) => line.includes('agents served as models: weather-agent'))).toBe(true)
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 })
    expect((await client.models.list()).data.map((model) => model.id)).toContain('weather-agent')
    const completion = await client.chat.completions.create({ model: 'weather-agent', messages: [{ role: 'user', content: 'Rain in Paris?' }] })
    const message = completion.choices[0]?.message as { content: string; reasoning_content?: string }
    expect(message.content).toBe('Take an umbrella.')
    expect(message.reasoning_content).toBe('planning (no tools configured)\nanswering without a tool\n')
    // Its model call went out as a batch job through the queue, without a model: the upstream's default.
    expect(upstream.requests.filter((request) => request.path.endsWith('/chat/completions')).map((request) => (request.body as { messages: unknown[] }).messages.length)).toEqual([2])
  })

  it('the example agent plans with the model, calls a tool of the tool server, and answers with its result', async () => {
    const toolServer = await startFakeToolServer({
      tools: { get_weather: { schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, handler: (args) => ({ city: args.city, sky: "rain" }) } },
    })
    cleanups.push(() => toolServer.close())
    // The plan round (tools offered) answers with a native call; the answer round with text.
    const upstream = await startFakeUpstream({
      respond: (request) =>
        Array.isArray((request.body as { tools?: unknown }).tools)
          ? { chunks: [{ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }] }
          : { chunks: [{ content: 'It rains in Paris: take an umbrella.' }] },
    })
    cleanups.push(() => upstream.close())
    const server = (await main({
      argv: ['node', 'queuegate', '--port', '0', '--upstreams', `${upstream.url}/v1`, '--agent', 'examples/agent/agent.mjs', '--toolserver', toolServer.url, '--no-model-discovery', '--health-interval', '0', '--log-level', 'silent'],
      env: {},
      log: () => {},
      handleSignals: false,
    })) as RunningServer
    cleanups.push(() => server.close({ graceMs: 0 }))
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 })
    const completion = await client.chat.completions.create({ model: 'weather-agent', messages: [{ role: 'user', content: 'Rain in Paris?' }] })
    const message = completion.choices[0]?.message as { content: string; reasoning_content?: string }
    expect(message.content).toBe('It rains in Paris: take an umbrella.')
    expect(message.reasoning_content).toBe('planning with 1 tool(s) at hand\ncalling get_weather {"city":"Paris"}\nget_weather answered (29 bytes)\n')
    expect(toolServer.calls.map((call) => call.body)).toEqual([{ city: 'Paris' }])
    // The answer round carried the tool's result; the agent's model calls were not run by the gateway's own tool loop.
    const chats = upstream.requests.filter((request) => request.path.endsWith('/chat/completions'))
    expect(chats).toHaveLength(2)
    expect(JSON.stringify(chats[1]?.body)).toContain('\\"sky\\":\\"rain\\"')
  })

  it('names the module that cannot be loaded or exports no agent, and ids taken twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qg-agents-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'none.mjs'), 'export const id = "x"\n')
    writeFileSync(join(dir, 'a.mjs'), 'export default async () => "a"\n')
    writeFileSync(join(dir, 'b.mjs'), 'export const id = "a"\nexport default async () => "b"\n')
    await expect(loadAgentModules(['missing.mjs'], dir)).rejects.toThrow(/--agent missing\.mjs: the module could not be loaded/)
    await expect(loadAgentModules(['none.mjs'], dir)).rejects.toThrow(/--agent none\.mjs: the module's default export must be the agent/)
    await expect(loadAgentModules(['a.mjs', 'b.mjs'], dir)).rejects.toThrow(/the id "a" is taken by a\.mjs/)
    const agents = await loadAgentModules(['a.mjs'], dir)
    expect(Object.keys(agents)).toEqual(['a'])
  })
})
