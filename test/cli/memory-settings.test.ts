import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/cli/load-config.js'
import { createProgram } from '../../src/cli/program.js'

const noFile = (path: string): string => {
  throw new Error(`ENOENT: ${path}`)
}
const up = { upstreams: 'http://a:8080/v1' }

describe('memory settings', () => {
  it('memory is off by default: no memory option at all', () => {
    const config = loadConfig({ flags: up, env: {}, readFile: noFile })
    expect(config.gateway.memory).toBeUndefined()
    expect(config.memoryFile).toBeUndefined()
  })

  it('CHAT_MEMORY_ENABLE=true turns memory on: the tool server when TOOLSERVER_URL is set, else local; the CHAT_MEMORY_* names work', () => {
    const env = {
      CHAT_MEMORY_ENABLE: 'true',
      CHAT_MEMORY_TRUNCATE_HISTORY: 'false',
      CHAT_MEMORY_KEEP_LAST: '6',
      CHAT_MEMORY_QUERY_K: '3',
      CHAT_MEMORY_UPSERT: '0',
      CHAT_MEMORY_INJECT_ROLE: 'USER',
      CHAT_MEMORY_HINT: 'no',
      CHAT_MEMORY_MAX_UPSERT_CHARS: '500',
      CHAT_MEMORY_FOR_AGENTS: 'yes',
    }
    expect(loadConfig({ flags: up, env, readFile: noFile }).gateway.memory).toEqual({ store: 'local', truncateHistory: false, keepLast: 6, queryK: 3, upsert: false, injectRole: 'user', hint: false, maxUpsertChars: 500, forAgents: true })
    expect(loadConfig({ flags: up, env: { ...env, TOOLSERVER_URL: 'http://tools:8000' }, readFile: noFile }).gateway.memory?.store).toBe('toolserver')
    expect(loadConfig({ flags: up, env: { CHAT_MEMORY_ENABLE: 'false' }, readFile: noFile }).gateway.memory).toBeUndefined()
  })

  it('flags override env, which overrides the config file; the file path and timeout in seconds', () => {
    const file = JSON.stringify({ upstreams: ['http://a:8080/v1'], memory: { store: 'local', file: '/var/lib/qg/memory.jsonl', keepLast: 2, timeout: 0.5, maxItems: 50, embeddings: 'nomic' } })
    const config = loadConfig({ flags: { config: 'qg.json5', memoryKeepLast: '9', memoryTimeout: '3', memoryHint: true }, env: { CHAT_MEMORY_KEEP_LAST: '5', CHAT_MEMORY_MAX_TOTAL_ITEMS: '7000' }, readFile: () => file })
    expect(config.gateway.memory).toEqual({ store: 'local', keepLast: 9, timeoutMs: 3000, maxItems: 50, maxTotalItems: 7000, embeddings: 'nomic', hint: true })
    expect(config.memoryFile).toBe('/var/lib/qg/memory.jsonl')
    expect(loadConfig({ flags: { config: 'qg.json5' }, env: {}, readFile: () => file }).gateway.memory?.timeoutMs).toBe(500)
    expect(loadConfig({ flags: { ...up, memory: 'off' }, env: { CHAT_MEMORY_ENABLE: 'true' }, readFile: noFile }).gateway.memory).toBeUndefined()
    expect(loadConfig({ flags: { config: 'c.json5' }, env: {}, readFile: () => JSON.stringify({ upstreams: ['http://a'], memory: 'local' }) }).gateway.memory).toEqual({ store: 'local' })
  })

  it('bad values fail with one line naming the setting', () => {
    expect(() => loadConfig({ flags: { ...up, memory: 'redis' }, env: {}, readFile: noFile })).toThrow(/--memory: expected one of off, local, toolserver/)
    expect(() => loadConfig({ flags: up, env: { CHAT_MEMORY_ENABLE: 'true', CHAT_MEMORY_KEEP_LAST: '0' }, readFile: noFile })).toThrow(/CHAT_MEMORY_KEEP_LAST: expected a whole number >= 1/)
    expect(() => loadConfig({ flags: up, env: { CHAT_MEMORY_INJECT_ROLE: 'assistant' }, readFile: noFile })).toThrow(ConfigError)
    expect(() => loadConfig({ flags: { config: 'c.json5' }, env: {}, readFile: () => JSON.stringify({ upstreams: ['http://a'], memory: { keep: 1 } }) })).toThrow(/memory\.keep: unknown memory setting/)
  })

  it('--memory-file with the tool server is ignored with a warning', () => {
    const config = loadConfig({ flags: { ...up, memory: 'toolserver', memoryFile: '/tmp/m.jsonl' }, env: {}, readFile: noFile })
    expect(config.memoryFile).toBeUndefined()
    expect(config.warnings).toEqual([expect.stringMatching(/--memory-file: ignored/)])
  })

  it('the program knows the flags (and the --no- forms)', () => {
    let flags: Record<string, unknown> = {}
    const program = createProgram((parsed) => {
      flags = parsed
    })
    program.parse(['node', 'queuegate', '--memory', 'local', '--memory-file', 'm.jsonl', '--memory-max-items', '10', '--memory-max-total-items', '100', '--memory-embeddings', 'e', '--memory-timeout', '1', '--no-memory-truncate-history', '--memory-keep-last', '2', '--memory-query-k', '4', '--no-memory-upsert', '--memory-inject-role', 'user', '--no-memory-hint', '--memory-max-upsert-chars', '99', '--memory-for-agents'])
    expect(flags).toMatchObject({ memory: 'local', memoryFile: 'm.jsonl', memoryMaxItems: '10', memoryMaxTotalItems: '100', memoryEmbeddings: 'e', memoryTimeout: '1', memoryTruncateHistory: false, memoryKeepLast: '2', memoryQueryK: '4', memoryUpsert: false, memoryInjectRole: 'user', memoryHint: false, memoryMaxUpsertChars: '99', memoryForAgents: true })
  })
})
