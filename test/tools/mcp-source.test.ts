import { afterEach, describe, expect, it } from 'vitest'
import { createMcpSource } from '../../src/tools/mcp-source.js'
import { createToolRegistry } from '../../src/tools/tool-registry.js'
import type { ToolRegistryOptions } from '../../src/tools/tool-registry.js'
import type { ToolRegistry, ToolSource } from '../../src/tools/types.js'
import { createFakeClock } from '../helpers/fake-clock.js'
import { listen } from '../helpers/listen.js'
import { withTimeout } from '../helpers/with-timeout.js'
import { startMcpTestServer } from './mcp-test-server.js'
import type { McpTestServer } from './mcp-test-server.js'

const opened: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  // Clients first: a server closing under a live session would log its errors.
  const items = opened.splice(0).reverse()
  for (const item of items) await item.close()
})

async function mcpServer(options: Parameters<typeof startMcpTestServer>[0]): Promise<McpTestServer> {
  const server = await startMcpTestServer(options)
  opened.push(server)
  return server
}

function registry(options: ToolRegistryOptions): ToolRegistry & { warnings: string[] } {
  const warnings: string[] = []
  const created = createToolRegistry({ onWarning: (message) => warnings.push(message), ...options })
  opened.push(created)
  return Object.assign(created, { warnings })
}

/** Waits, up to `ms`, until `check` holds (checked every 10 ms). */
async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited >= ms) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const searchSchema = { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'integer' } }, required: ['query'] }

describe('MCP servers in the registry', () => {
  it('reads every page of tools/list, with the schemas as parameters', async () => {
    const tools = Object.fromEntries(Array.from({ length: 5 }, (_, index) => [`tool_${index}`, { description: `tool number ${index}`, inputSchema: searchSchema }]))
    const server = await mcpServer({ tools, pageSize: 2 })
    const registered = registry({ mcpServers: [server.url] })
    await withTimeout(registered.ready(), 10_000, 'ready')
    expect(registered.warnings).toEqual([])
    expect(registered.definitions().map((tool) => tool.function.name)).toEqual(['tool_0', 'tool_1', 'tool_2', 'tool_3', 'tool_4'])
    expect(registered.definitions()[0]).toEqual({ type: 'function', function: { name: 'tool_0', description: 'tool number 0', parameters: searchSchema } })
    expect(server.requests.filter((request) => request.rpc.includes('tools/list'))).toHaveLength(3)
  })

  it('joins text parts with newlines, names other parts, and checks arguments before calling', async () => {
    const server = await mcpServer({
      tools: {
        search: {
          inputSchema: searchSchema,
          handler: (args) => ({
            content: [
              { type: 'text', text: `results for ${String(args.query)}:` },
              { type: 'text', text: 'one\ntwo' },
              { type: 'image', data: 'aGk=', mimeType: 'image/png' },
            ],
          }),
        },
      },
    })
    const registered = registry({ mcpServers: [server.url] })
    await registered.ready()
    const outcome = await registered.call('search', { query: 'cats' })
    expect(outcome).toMatchObject({ ok: true, content: 'results for cats:\none\ntwo\n[image image/png content, not shown]' })
    expect(server.calls).toEqual([{ name: 'search', args: { query: 'cats' } }])
    expect((await registered.call('search', { limit: 2 })).error).toMatchObject({ code: 'missing_required_args', missing: ['query'] })
    expect((await registered.call('search', { query: 1 })).error).toMatchObject({ code: 'invalid_args', field: 'query' })
    expect(server.calls).toHaveLength(1)
  })

  it('an isError result goes to the model as tool_error with the tool’s text', async () => {
    const server = await mcpServer({ tools: { fail: { handler: () => ({ content: [{ type: 'text', text: 'disk full' }], isError: true }) } } })
    const registered = registry({ mcpServers: [server.url] })
    await registered.ready()
    const outcome = await registered.call('fail', {})
    expect(outcome.ok).toBe(false)
    expect(outcome.error).toEqual({ code: 'tool_error', message: 'fail reported an error: disk full', tool: 'fail' })
    expect(JSON.parse(outcome.content)).toEqual(outcome.error)
  })

  it('lists again when the server sends notifications/tools/list_changed (no TTL needed)', async () => {
    const server = await mcpServer({ tools: { first: {} } })
    const clock = createFakeClock()
    const registered = registry({ mcpServers: [server.url], clock })
    await registered.ready()
    await eventually(() => server.requests.some((request) => request.method === 'GET'))
    await server.setTool('second', { description: 'new' })
    await eventually(() => registered.definitions().length === 2)
    expect(registered.definitions().map((tool) => tool.function.name)).toEqual(['first', 'second'])
    expect((await registered.call('second', {})).ok).toBe(true)
  })

  it('sends the configured headers, and the URL’s credentials as Basic, never shown', async () => {
    const server = await mcpServer({ tools: { echo: {} } })
    const registered = registry({ mcpServers: [{ url: server.url.replace('http://', 'http://me:pw-secret@'), headers: { 'X-Api-Key': 'k-123' }, namePrefix: 'fs' }] })
    await registered.ready()
    expect(registered.definitions().map((tool) => tool.function.name)).toEqual(['fs__echo'])
    expect((await registered.call('fs__echo', { a: 1 })).content).toBe('{"tool":"echo","args":{"a":1}}')
    for (const request of server.requests) {
      expect(request.headers['x-api-key']).toBe('k-123')
      expect(request.headers.authorization).toBe(`Basic ${btoa('me:pw-secret')}`)
    }
    await server.close()
    const outcome = await registered.call('fs__echo', {})
    expect(outcome.error?.code).toBe('tool_call_failed')
    await registered.refresh()
    expect(`${outcome.content}${registered.warnings.join('')}`).not.toMatch(/pw-secret|k-123/)
  })

  it('tool names the OpenAI API would refuse are cleaned, and calls use the server’s name', async () => {
    const server = await mcpServer({ tools: { 'weather.get_forecast': {} } })
    const registered = registry({ mcpServers: [server.url] })
    await registered.ready()
    expect(registered.definitions().map((tool) => tool.function.name)).toEqual(['weather_get_forecast'])
    await registered.call('weather_get_forecast', {})
    expect(server.calls[0]?.name).toBe('weather.get_forecast')
  })

  it('a server that is down at start: a warning names it; a broken session is opened again on the next call', async () => {
    const closed = await listen(() => {})
    await closed.close()
    const down = registry({ mcpServers: [`${closed.url}/mcp`] })
    await withTimeout(down.ready(), 10_000, 'ready')
    expect(down.warnings).toEqual([`tool server ${closed.url}/mcp could not be listed (ECONNREFUSED); it has no tools until it answers, retrying with backoff`])

    const server = await mcpServer({ tools: { echo: {} } })
    const source: ToolSource = createMcpSource({ url: server.url })
    opened.push({ close: () => source.close?.() ?? Promise.resolve() })
    await source.list()
    expect(server.sessions).toBe(1)
    await server.dropSessions()
    await expect(source.call('echo', { x: 1 })).rejects.toMatchObject({ toolError: { code: 'tool_call_failed', message: 'echo: the MCP server answered 404' } })
    expect(await source.call('echo', { x: 2 })).toBe('{"tool":"echo","args":{"x":2}}')
    expect(server.sessions).toBe(1)
  })

  it('cuts a long result to the registry’s cap', async () => {
    const server = await mcpServer({ tools: { long: { handler: () => ({ content: [{ type: 'text', text: 'x'.repeat(5000) }] }) } } })
    const registered = registry({ mcpServers: [server.url], maxBytes: 100 })
    await registered.ready()
    const outcome = await registered.call('long', {})
    expect(outcome.truncated).toBe(true)
    expect(outcome.content).toBe(`${'x'.repeat(100)}\n\n[The result was cut at 100 bytes: the tool returned more.]`)
  })
})
