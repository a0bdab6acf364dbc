/** The CLI's resilience settings (issue 12): retries, from flag, environment or config file. */
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/cli/load-config.js'
import { createProgram } from '../../src/cli/program.js'

const noFile = (): string => {
  throw new Error('no config file expected')
}

describe('loadConfig: retries (issue 12)', () => {
  it('takes maxRetries from --max-retries, MAX_RETRIES or the file; flags win', async () => {
    let seen: Record<string, string | boolean | undefined> = {}
    const program = createProgram((flags) => {
      seen = flags
    })
    await program.parseAsync(['--upstreams', 'http://a', '--max-retries', '0'], { from: 'user' })
    expect(loadConfig({ flags: seen, env: { MAX_RETRIES: '5' }, readFile: noFile }).gateway.maxRetries).toBe(0)
    expect(loadConfig({ flags: { upstreams: 'http://a' }, env: { MAX_RETRIES: '5' }, readFile: noFile }).gateway.maxRetries).toBe(5)
    expect(loadConfig({ flags: { config: 'q' }, env: {}, readFile: () => '{ upstreams: ["http://a"], maxRetries: 3 }' }).gateway.maxRetries).toBe(3)
    expect(loadConfig({ flags: { upstreams: 'http://a' }, env: {}, readFile: noFile }).gateway.maxRetries).toBeUndefined()
  })

  it('names a bad retry count', () => {
    expect(() => loadConfig({ flags: { upstreams: 'http://a', maxRetries: '-1' }, env: {}, readFile: noFile })).toThrow(new ConfigError('--max-retries: expected a whole number >= 0, got "-1"'))
    expect(() => loadConfig({ flags: { upstreams: 'http://a' }, env: { MAX_RETRIES: 'lots' }, readFile: noFile })).toThrow(/MAX_RETRIES: expected a whole number >= 0/)
  })
})

describe('loadConfig: deadlines (issue 12)', () => {
  it('takes --ttfb-timeout, --stall-timeout and --max-duration in seconds (flag, env) or the file (seconds or ms)', () => {
    const flags = loadConfig({ flags: { upstreams: 'http://a', ttfbTimeout: '90', stallTimeout: '2.5', maxDuration: '600' }, env: {}, readFile: noFile })
    expect(flags.gateway).toMatchObject({ ttfbTimeoutMs: 90_000, stallTimeoutMs: 2500, maxDurationMs: 600_000 })
    const env = loadConfig({ flags: { upstreams: 'http://a' }, env: { TTFB_TIMEOUT_SEC: '30', STALL_TIMEOUT_SEC: '10', MAX_DURATION_SEC: '0' }, readFile: noFile })
    expect(env.gateway).toMatchObject({ ttfbTimeoutMs: 30_000, stallTimeoutMs: 10_000, maxDurationMs: 0 })
    const file = loadConfig({ flags: { config: 'q' }, env: {}, readFile: () => '{ upstreams: ["http://a"], ttfbTimeout: 45, stallTimeoutMs: 700, maxDuration: 1 }' })
    expect(file.gateway).toMatchObject({ ttfbTimeoutMs: 45_000, stallTimeoutMs: 700, maxDurationMs: 1000 })
    const none = loadConfig({ flags: { upstreams: 'http://a' }, env: {}, readFile: noFile })
    expect(none.gateway.ttfbTimeoutMs).toBeUndefined()
  })

  it('names a bad deadline', () => {
    expect(() => loadConfig({ flags: { upstreams: 'http://a', ttfbTimeout: '0' }, env: {}, readFile: noFile })).toThrow(new ConfigError('--ttfb-timeout: expected a number of seconds > 0, got "0"'))
    expect(() => loadConfig({ flags: { upstreams: 'http://a' }, env: { MAX_DURATION_SEC: '-5' }, readFile: noFile })).toThrow(/MAX_DURATION_SEC: expected a number of seconds >= 0/)
  })
})
