import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

// Run in a fresh process (this one has loaded everything already): a resolve hook records every
// module resolved, and the script prints whether ioredis was loaded after each step.
const script = `
import { registerHooks } from 'node:module'
const seen = new Set()
registerHooks({ resolve(specifier, context, next) { const result = next(specifier, context); seen.add(result.url); return result } })
const loaded = () => [...seen].some((url) => url.includes('/node_modules/ioredis/'))
const steps = {}
const { createGateway } = await import(process.argv[1])
const server = await import(process.argv[2])
steps.imported = loaded()
const gateway = createGateway({ upstreams: ['http://127.0.0.1:9/v1'], healthIntervalMs: 0, discoverModels: false })
await gateway.close({ graceMs: 0 })
steps.gatewayWithoutRedis = loaded()
// Nothing listens on port 9: the state starts on its local share, and ioredis is loaded by then.
const state = await server.createRedisSchedulerState({ url: 'redis://127.0.0.1:9', _internal: { maxRetryMs: 50 } })
steps.redisState = loaded()
steps.mode = state.status().mode
await state.close()
console.log(JSON.stringify(steps))
`

describe('lazy loading of ioredis', () => {
  it('importing queuegate and queuegate/server and running a gateway without --redis loads no ioredis; the Redis state loads it', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, `${root}src/index.ts`, `${root}src/server/index.ts`], { cwd: root, encoding: 'utf8', timeout: 30_000 })
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toEqual({ imported: false, gatewayWithoutRedis: false, redisState: true, mode: 'local' })
  })
})
