/** Issue 14: `--redis`, `QUEUEGATE_REDIS_URL`, the config file's `redis`, `--lease-ttl-ms`; the password never logged. */
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { ConfigError, loadConfig } from '../../src/cli/load-config.js'
import type { RunningServer } from '../../src/server/serve.js'
import { redisSkipReason, startRedis } from './redis-server.js'

const UPSTREAM = 'http://127.0.0.1:9/v1'
const load = (flags: Record<string, unknown>, env: Record<string, string> = {}, file?: string) =>
  loadConfig({ flags: { upstreams: UPSTREAM, ...(file === undefined ? {} : { config: 'queuegate.json5' }), ...flags }, env, readFile: () => file ?? '{}' })

describe('Redis settings', () => {
  it('are off without --redis; the flag, the environment and the file switch them on, flags first', () => {
    expect(load({}).redis).toBeUndefined()
    expect(load({ redis: 'redis://10.0.0.5:6379/2' }).redis).toEqual({ url: 'redis://10.0.0.5:6379/2', keyPrefix: undefined, leaseTtlMs: 15_000 })
    expect(load({}, { QUEUEGATE_REDIS_URL: 'rediss://cache:6380', QUEUEGATE_LEASE_TTL_MS: '5000' }).redis).toEqual({ url: 'rediss://cache:6380', keyPrefix: undefined, leaseTtlMs: 5000 })
    const file = "{ redis: { url: 'redis://file:6379', keyPrefix: 'team-a:' }, leaseTtlMs: 9000 }"
    expect(load({}, {}, file).redis).toEqual({ url: 'redis://file:6379', keyPrefix: 'team-a:', leaseTtlMs: 9000 })
    expect(load({ redis: 'redis://flag:6379', leaseTtlMs: '4000' }, { QUEUEGATE_REDIS_URL: 'redis://env:6379' }, file).redis).toEqual({ url: 'redis://flag:6379', keyPrefix: 'team-a:', leaseTtlMs: 4000 })
    expect(load({}, {}, "{ redis: 'redis://short:6379' }").redis?.url).toBe('redis://short:6379')
  })

  it('a bad URL or lease fails at start, naming the setting, with the password redacted', () => {
    expect(() => load({ redis: 'http://:secret@host:6379' })).toThrow(new ConfigError('--redis: expected a redis:// or rediss:// URL, got "http://:***@host:6379"'))
    expect(() => load({ redis: 'redis://host', leaseTtlMs: '100' })).toThrow(ConfigError)
    expect(() => load({}, {}, "{ redis: { url: 'redis://h', db: 2 } }")).toThrow(/redis: unknown setting "db"/)
  })
})

const skip = redisSkipReason()
describe.skipIf(skip !== undefined)('the CLI with --redis', () => {
  const cleanups: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('logs the Redis URL without its password and says the mode on /healthz', async () => {
    const redis = await startRedis()
    cleanups.push(() => redis.close())
    const lines: string[] = []
    // The server has no password: ioredis warns about the AUTH and goes on.
    const server = (await main({ argv: ['node', 'queuegate', '--port', '0', '--upstreams', UPSTREAM, '--no-model-discovery', '--redis', `redis://:hunter2@127.0.0.1:${redis.port}`], env: {}, log: (line) => lines.push(line), handleSignals: false })) as RunningServer
    cleanups.push(() => server.close({ graceMs: 0 }))
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { shared: { mode: string; store: string } }
    expect(health.shared.mode).toBe('shared')
    expect(health.shared.store).toBe(`redis://:***@127.0.0.1:${redis.port}`)
    expect(lines.join('\n')).toContain(`shared state: Redis redis://:***@127.0.0.1:${redis.port}`)
    expect(lines.join('\n')).not.toContain('hunter2')
  })
})
