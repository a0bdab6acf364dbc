import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

// Run in a fresh process (this one has loaded everything already): a resolve hook records every
// module resolved, and the script prints which heavy packages were loaded after each step.
const script = `
import { registerHooks } from 'node:module'
const seen = new Set()
registerHooks({ resolve(specifier, context, next) { const result = next(specifier, context); seen.add(result.url); return result } })
const loaded = () => ['ajv', '@modelcontextprotocol/sdk'].filter((name) => [...seen].some((url) => url.includes('/node_modules/' + name + '/')))
const steps = {}
const { createGateway, createToolRegistry } = await import(process.argv[1])
steps.imported = loaded()
const gateway = createGateway({ upstreams: ['http://127.0.0.1:9/v1'], healthIntervalMs: 0, discoverModels: false })
await gateway.close({ graceMs: 0 })
steps.gatewayWithoutTools = loaded()
const source = { id: 'inline', list: async () => [{ type: 'function', function: { name: 'echo', parameters: { type: 'object', properties: { a: { type: 'string' } } } } }], call: async () => 'ok' }
const registry = createToolRegistry({ sources: [source] })
await registry.ready()
steps.listed = loaded()
await registry.call('echo', { a: 'x' })
steps.called = loaded()
const mcp = createToolRegistry({ mcpServers: ['http://127.0.0.1:9/mcp'] })
await mcp.ready()
steps.mcpListed = loaded()
await Promise.all([registry.close(), mcp.close()])
console.log(JSON.stringify(steps))
`

describe('lazy loading of the tool packages', () => {
  it('importing queuegate and running a gateway without tools loads neither ajv nor the MCP SDK; ajv comes with the first call, the SDK with the first MCP server', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, `${root}src/index.ts`], { cwd: root, encoding: 'utf8', timeout: 30_000 })
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toEqual({
      imported: [],
      gatewayWithoutTools: [],
      listed: [],
      called: ['ajv'],
      mcpListed: ['ajv', '@modelcontextprotocol/sdk'],
    })
  })
})
