import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/cli/load-config.js'
import { main } from '../../src/cli/main.js'
import type { RunningServer } from 'queuegate/server'
import { startFakeUpstream } from '../e2e/fake-upstream.js'
import { startFakeToolServer } from '../tools/fake-tool-server.js'

const noFile = (path: string): string => {
  throw new Error(`ENOENT: ${path}`)
}

describe('loadConfig: tool servers', () => {
  it('reads --toolserver (repeated flags arrive comma-joined), --mcp, the prefix, timeout, cap and TTL', () => {
    const config = loadConfig({
      flags: { upstreams: 'http://a', toolserver: 'http://t1:8000,http://t2:8000/', toolserverPrefix: '/tools', mcp: 'http://m:9000/mcp', toolTimeout: '2.5', toolMaxBytes: '1000', toolSchemaTtl: '30' },
      env: {},
      readFile: noFile,
    })
    expect(config.gateway).toMatchObject({
      toolServers: [
        { url: 'http://t1:8000', prefix: '/tools' },
        { url: 'http://t2:8000/', prefix: '/tools' },
      ],
      mcpServers: ['http://m:9000/mcp'],
      toolTimeoutMs: 2500,
      toolMaxBytes: 1000,
      toolSchemaTtlMs: 30_000,
    })
  })

  it('takes the first version’s environment names: TOOLSERVER_URL, TOOLSERVER_PREFIX, TOOLSERVER_SCHEMA_TTL_SEC', () => {
    const config = loadConfig({ flags: { upstreams: 'http://a' }, env: { TOOLSERVER_URL: 'http://t:8000', TOOLSERVER_PREFIX: '/openapi', TOOLSERVER_SCHEMA_TTL_SEC: '300', MCP_SERVERS: 'http://m/mcp', TOOL_TIMEOUT_SEC: '10', TOOL_MAX_BYTES: '5' }, readFile: noFile })
    expect(config.gateway).toMatchObject({ toolServers: [{ url: 'http://t:8000', prefix: '/openapi' }], mcpServers: ['http://m/mcp'], toolSchemaTtlMs: 300_000, toolTimeoutMs: 10_000, toolMaxBytes: 5 })
  })

  it('reads per-server keys, headers and prefixes from the config file; a URL also given by flag keeps them', () => {
    const file = `{
      upstreams: ['http://a'],
      toolServers: ['http://plain:8000', { url: 'http://keyed:8000', apiKey: 'sk-secret', prefix: '/api', namePrefix: 'weather', name: 'weather' }],
      mcpServers: [{ url: 'http://m:9000/mcp', headers: { 'X-Api-Key': 'h-secret' }, namePrefix: 'fs' }],
      toolTimeout: 5,
      toolSchemaTtlMs: 1000,
    }`
    const fromFile = loadConfig({ flags: { config: 'q' }, env: {}, readFile: () => file })
    expect(fromFile.gateway).toMatchObject({
      toolServers: [{ url: 'http://plain:8000' }, { url: 'http://keyed:8000', apiKey: 'sk-secret', prefix: '/api', namePrefix: 'weather', name: 'weather' }],
      mcpServers: [{ url: 'http://m:9000/mcp', headers: { 'X-Api-Key': 'h-secret' }, namePrefix: 'fs' }],
      toolTimeoutMs: 5000,
      toolSchemaTtlMs: 1000,
    })
    const flagged = loadConfig({ flags: { config: 'q', toolserver: 'http://keyed:8000/,http://other:1', toolserverPrefix: '/x' }, env: {}, readFile: () => file })
    expect(flagged.gateway.toolServers).toEqual([
      { url: 'http://keyed:8000', apiKey: 'sk-secret', prefix: '/api', namePrefix: 'weather', name: 'weather' },
      { url: 'http://other:1', prefix: '/x' },
    ])
  })

  it('names a bad tool setting without echoing keys or headers', () => {
    const bad = (file: string): unknown => {
      try {
        loadConfig({ flags: { config: 'q' }, env: {}, readFile: () => `{ upstreams: ['http://a'], ${file} }` })
      } catch (error) {
        return error
      }
      return undefined
    }
    const unknownKey = bad("toolServers: [{ url: 'http://t', apiKey: 'sk-leak', token: 'x' }]")
    expect(unknownKey).toBeInstanceOf(ConfigError)
    expect(String(unknownKey)).toMatch(/q: toolServers\[0\]\.token: unknown setting \(known: url, prefix, apiKey, name, namePrefix\)/)
    expect(String(unknownKey)).not.toMatch(/sk-leak/)
    expect(String(bad("toolServers: [{ url: 'http://t', apiKey: 5 }]"))).toMatch(/toolServers\[0\]\.apiKey: expected a non-empty string/)
    expect(String(bad("mcpServers: [{ url: 'http://m', headers: { a: 1 } }]"))).toMatch(/mcpServers\[0\]\.headers\.a: expected a string/)
    expect(String(bad("mcpServers: [{ headers: { a: 'h-leak' } }]"))).toMatch(/mcpServers\[0\]\.url: expected a URL$/)
    expect(() => loadConfig({ flags: { upstreams: 'http://a', toolTimeout: '0' }, env: {}, readFile: noFile })).toThrow('--tool-timeout: expected a number of seconds > 0, got "0"')
  })
})

describe('queuegate CLI with tool servers', () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('lists the tool servers before listening and logs their tools; a down server is a warning, not a failure', async () => {
    const upstream = await startFakeUpstream({})
    cleanups.push(() => upstream.close())
    const tools = await startFakeToolServer({ tools: { get_time: {} } })
    cleanups.push(() => tools.close())
    const lines: string[] = []
    const server = (await main({
      argv: ['node', 'queuegate', '--port', '0', '--toolserver', tools.url, '--toolserver', 'http://user:pw-secret@127.0.0.1:9/'],
      env: { LLM_UPSTREAMS: `${upstream.url}/v1` },
      log: (line) => lines.push(line),
      handleSignals: false,
    })) as RunningServer
    cleanups.push(() => server.close({ graceMs: 0 }))
    expect(tools.listings).toBe(1)
    expect(lines.some((line) => / info tools: get_time$/.test(line))).toBe(true)
    expect(lines.some((line) => / warn tool server http:\/\/127\.0\.0\.1:9 could not be listed/.test(line))).toBe(true)
    expect(lines.join('\n')).not.toMatch(/pw-secret/)
  })

  it('a tool name offered by two servers stops start-up with a message naming both', async () => {
    const upstream = await startFakeUpstream({})
    cleanups.push(() => upstream.close())
    const a = await startFakeToolServer({ tools: { get_time: {} } })
    const b = await startFakeToolServer({ tools: { get_time: {} } })
    cleanups.push(() => a.close(), () => b.close())
    await expect(
      main({ argv: ['node', 'queuegate', '--port', '0', '--toolserver', `${a.url},${b.url}`], env: { LLM_UPSTREAMS: `${upstream.url}/v1` }, log: () => {}, handleSignals: false }),
    ).rejects.toThrow(new ConfigError(`tool name clash: get_time is offered by ${a.url} and by ${b.url}: give one of them a namePrefix`))
  })
})
