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
