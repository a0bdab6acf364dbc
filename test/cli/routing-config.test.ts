import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/cli/load-config.js'
import { createProgram } from '../../src/cli/program.js'

const noFile = (path: string): string => {
  throw new Error(`ENOENT: ${path}`)
}

describe('loadConfig: routing (issue 15)', () => {
  it('takes routing from --routing, ROUTING or the file; unset leaves the gateway default (sticky)', async () => {
    let seen: Record<string, string | boolean | undefined> = {}
    const program = createProgram((flags) => {
      seen = flags
    })
    await program.parseAsync(['--upstreams', 'http://a', '--routing', 'cache-aware'], { from: 'user' })
    expect(loadConfig({ flags: seen, env: { ROUTING: 'sticky' }, readFile: noFile }).gateway.routing).toBe('cache-aware')
    expect(loadConfig({ flags: { upstreams: 'http://a' }, env: { ROUTING: 'cache-aware' }, readFile: noFile }).gateway.routing).toBe('cache-aware')
    expect(loadConfig({ flags: { config: 'q' }, env: {}, readFile: () => '{ upstreams: ["http://a"], routing: "cache-aware" }' }).gateway.routing).toBe('cache-aware')
    expect(loadConfig({ flags: { upstreams: 'http://a' }, env: {}, readFile: noFile }).gateway.routing).toBeUndefined()
    expect(() => loadConfig({ flags: { upstreams: 'http://a', routing: 'radix' }, env: {}, readFile: noFile })).toThrow(/--routing/)
  })
})
