import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/cli/load-config.js'

const noFile = (path: string): string => {
  throw new Error(`ENOENT: ${path}`)
}

describe('loadConfig', () => {
  it('needs upstreams, and says where they can come from', () => {
    expect(() => loadConfig({ flags: {}, env: {}, readFile: noFile })).toThrow(/--upstreams: required.*LLM_UPSTREAMS/)
  })

  it('reads flags into gateway options with defaults for the server', () => {
    const config = loadConfig({
      flags: { upstreams: 'http://a:8080/v1, http://b:8080', slots: '2', models: 'qwen3,llama', port: '9000', readTimeout: '30', slotAffinity: true },
      env: {},
      readFile: noFile,
    })
    expect(config.port).toBe(9000)
    expect(config.host).toBe('127.0.0.1')
    expect(config.logLevel).toBe('info')
    expect(config.gateway).toEqual({
      upstreams: [
        { url: 'http://a:8080/v1', slots: 2, slotAffinity: true },
        { url: 'http://b:8080', slots: 2, slotAffinity: true },
      ],
      models: ['qwen3', 'llama'],
      readTimeoutMs: 30_000,
      dashboard: true,
    })
  })

  it('serves the dashboard unless --no-dashboard, QUEUEGATE_DASHBOARD=false or dashboard: false says not to', () => {
    const base = { upstreams: 'http://a' }
    expect(loadConfig({ flags: base, env: {}, readFile: noFile }).gateway.dashboard).toBe(true)
    expect(loadConfig({ flags: { ...base, dashboard: false }, env: {}, readFile: noFile }).gateway.dashboard).toBe(false)
    expect(loadConfig({ flags: base, env: { QUEUEGATE_DASHBOARD: 'false' }, readFile: noFile }).gateway.dashboard).toBe(false)
    expect(loadConfig({ flags: { config: 'q.json5' }, env: {}, readFile: () => '{ upstreams: ["http://a"], dashboard: false }' }).gateway.dashboard).toBe(false)
    expect(loadConfig({ flags: { ...base, dashboard: true }, env: { QUEUEGATE_DASHBOARD: 'false' }, readFile: noFile }).gateway.dashboard).toBe(true)
  })

  it('takes given upstreams instead of configured ones (--demo), and needs none configured then', () => {
    const config = loadConfig({ flags: { slots: '4' }, env: {}, readFile: noFile, upstreams: [{ url: 'http://127.0.0.1:1/v1', id: 'sim-a', slots: 2 }] })
    expect(config.gateway.upstreams).toEqual([{ url: 'http://127.0.0.1:1/v1', id: 'sim-a', slots: 2 }])
  })

  it('keeps the first version\'s environment names working', () => {
    const config = loadConfig({
      flags: {},
      env: {
        LLM_UPSTREAMS: 'http://gpu1:8080/v1/chat/completions',
        LLM_MODELS: 'm1',
        LLM_READ_TIMEOUT: '120',
        LOG_LEVEL: 'DEBUG',
        PORT: '8081',
        HOST: '0.0.0.0',
        STICKY_HEADER: 'X-Session',
        AFFINITY_TTL_SEC: '60',
        QUEUE_NOTIFY_USER: 'always',
        QUEUE_NOTIFY_MIN_MS: '500',
        TEXT_TOOLCALL_DETECT: 'false',
      },
      readFile: noFile,
    })
    expect(config).toMatchObject({ port: 8081, host: '0.0.0.0', logLevel: 'debug' })
    expect(config.gateway).toMatchObject({
      upstreams: [{ url: 'http://gpu1:8080/v1/chat/completions' }],
      models: ['m1'],
      readTimeoutMs: 120_000,
      stickyHeader: 'X-Session',
      stickyTtlMs: 60_000,
      queueNotify: 'reasoning',
      notifyAfterMs: 500,
      textToolCalls: false,
    })
    expect(loadConfig({ flags: {}, env: { LLM_UPSTREAMS: 'http://x', PROXY_MODELS: 'a', LLM_MODELS: 'b' }, readFile: noFile }).gateway.models).toEqual(['a'])
    expect(loadConfig({ flags: {}, env: { LLM_UPSTREAMS: 'http://x', QUEUE_NOTIFY_USER: 'never' }, readFile: noFile }).gateway.queueNotify).toBe('never')
  })

  it('applies file < env < flags', () => {
    const file = `{
      // JSON5: comments and trailing commas are fine
      upstreams: [{ url: 'http://file:8080/v1', slots: 4, apiKey: 'sk-file', models: ['big'] }, 'http://file2:8080'],
      port: 7000,
      host: '0.0.0.0',
      maxQueued: 10,
      logLevel: 'warn',
      readTimeout: 60,
    }`
    const readFile = (path: string): string => {
      expect(path).toBe('qg.json5')
      return file
    }
    const fromFile = loadConfig({ flags: { config: 'qg.json5' }, env: {}, readFile })
    expect(fromFile).toMatchObject({ port: 7000, host: '0.0.0.0', logLevel: 'warn' })
    expect(fromFile.gateway).toMatchObject({
      upstreams: [{ url: 'http://file:8080/v1', slots: 4, apiKey: 'sk-file', models: ['big'] }, { url: 'http://file2:8080' }],
      maxQueued: 10,
      readTimeoutMs: 60_000,
    })
    const envOverFile = loadConfig({ flags: { config: 'qg.json5' }, env: { PORT: '7100', MAX_QUEUED: '20' }, readFile })
    expect(envOverFile.port).toBe(7100)
    expect(envOverFile.gateway.maxQueued).toBe(20)
    expect(envOverFile.host).toBe('0.0.0.0')
    const flagsOverEnv = loadConfig({ flags: { config: 'qg.json5', port: '7200', upstreams: 'http://flag:1/v1' }, env: { PORT: '7100', LLM_UPSTREAMS: 'http://env:1' }, readFile })
    expect(flagsOverEnv.port).toBe(7200)
    expect(flagsOverEnv.gateway.upstreams).toEqual([{ url: 'http://flag:1/v1' }])
    const envUpstreams = loadConfig({ flags: { config: 'qg.json5' }, env: { LLM_UPSTREAMS: 'http://env:1' }, readFile })
    expect(envUpstreams.gateway.upstreams).toEqual([{ url: 'http://env:1' }])
  })

  it('--slots is the default for upstreams whose file entry has no slots', () => {
    const readFile = (): string => `{ upstreams: [{ url: 'http://a', slots: 3 }, { url: 'http://b' }] }`
    const config = loadConfig({ flags: { config: 'f', slots: '2' }, env: {}, readFile })
    expect(config.gateway.upstreams).toEqual([{ url: 'http://a', slots: 3 }, { url: 'http://b', slots: 2 }])
  })

  it.each([
    [{ flags: { upstreams: 'http://a', port: 'eighty' }, env: {} }, '--port: expected a whole number >= 0, got "eighty"'],
    [{ flags: { upstreams: 'http://a', port: '70000' }, env: {} }, '--port: expected a port 0-65535, got "70000"'],
    [{ flags: { upstreams: 'http://a' }, env: { LLM_READ_TIMEOUT: 'soon' } }, 'LLM_READ_TIMEOUT: expected a number of seconds > 0, got "soon"'],
    [{ flags: { upstreams: 'http://a' }, env: { TEXT_TOOLCALL_DETECT: 'maybe' } }, 'TEXT_TOOLCALL_DETECT: expected true or false, got "maybe"'],
    [{ flags: { upstreams: 'http://a', queueNotify: 'loud' }, env: {} }, '--queue-notify: expected one of reasoning, content, comment, never, auto, always, got "loud"'],
    [{ flags: { upstreams: 'http://a', slots: '0' }, env: {} }, '--slots: expected a whole number >= 1, got "0"'],
    [{ flags: { upstreams: ' , ' }, env: {} }, '--upstreams: expected one or more comma-separated URLs, got " , "'],
  ])('fails with one line naming the setting: %j', (input, message) => {
    expect(() => loadConfig({ ...input, readFile: noFile })).toThrow(new ConfigError(message))
  })

  it('names unknown and bad settings in the config file', () => {
    expect(() => loadConfig({ flags: { config: 'f' }, env: {}, readFile: () => '{ upstream: "http://a" }' })).toThrow(/f: unknown setting "upstream"/)
    expect(() => loadConfig({ flags: { config: 'f' }, env: {}, readFile: () => '{ upstreams: [{ url: "http://a", slot: 2 }] }' })).toThrow(/upstreams\[0\]\.slot: unknown upstream setting/)
    expect(() => loadConfig({ flags: { config: 'f' }, env: {}, readFile: () => '{ upstreams: [{ url: "http://a", slots: "many" }] }' })).toThrow(/upstreams\[0\]\.slots: expected a whole number >= 1, got "many"/)
    expect(() => loadConfig({ flags: { config: 'f' }, env: {}, readFile: () => '{ nope' })).toThrow(/--config: f is not valid JSON5/)
    expect(() => loadConfig({ flags: { config: 'missing.json5' }, env: {}, readFile: noFile })).toThrow(/--config: cannot read missing.json5/)
  })

  it('reads TOOLCALL_MODE=execute (the first version\'s name) and the tool loop\'s settings from flags, env and file', () => {
    const config = loadConfig({ flags: { upstreams: 'http://a' }, env: { TOOLCALL_MODE: 'execute' }, readFile: noFile })
    expect(config.gateway.toolMode).toBe('execute')
    const fromEnv = loadConfig({ flags: { upstreams: 'http://a' }, env: { MAX_TOOL_ITERS: '3', UNKNOWN_TOOL_POLICY: 'ignore', RELEASE_SLOT_DURING_TOOLS: 'yes', INJECT_TOOLS: 'off' }, readFile: noFile })
    expect(fromEnv.gateway).toMatchObject({ maxToolIters: 3, unknownToolPolicy: 'ignore', releaseSlotDuringTools: true, injectTools: false })
    const fromFlags = loadConfig({ flags: { upstreams: 'http://a', maxToolIters: '2', unknownToolPolicy: 'passthrough', releaseSlotDuringTools: true, injectTools: false }, env: { MAX_TOOL_ITERS: '3' }, readFile: noFile })
    expect(fromFlags.gateway).toMatchObject({ maxToolIters: 2, unknownToolPolicy: 'passthrough', releaseSlotDuringTools: true, injectTools: false })
    const fromFile = loadConfig({ flags: { config: 'q.json5' }, env: {}, readFile: () => '{ upstreams: ["http://a"], toolMode: "execute", maxToolIters: 4, unknownToolPolicy: "error", injectTools: true }' })
    expect(fromFile.gateway).toMatchObject({ toolMode: 'execute', maxToolIters: 4, unknownToolPolicy: 'error', injectTools: true })
    expect(() => loadConfig({ flags: { upstreams: 'http://a' }, env: { UNKNOWN_TOOL_POLICY: 'explode' }, readFile: noFile })).toThrow(/UNKNOWN_TOOL_POLICY: expected one of error, passthrough, ignore, got "explode"/)
    expect(() => loadConfig({ flags: { upstreams: 'http://a', maxToolIters: '-1' }, env: {}, readFile: noFile })).toThrow(/--max-tool-iters: expected a whole number >= 0/)
  })
})

describe('loadConfig: models', () => {
  it('takes aliases from the file, the environment and repeated flags (flags win per id), discovery and its refresh', () => {
    const file = JSON.stringify({ upstreams: ['http://a:8080'], aliases: { fast: 'qwen3-4b', big: 'qwen3-30b' }, discoverModels: true, modelRefresh: 30 })
    const fromFile = loadConfig({ flags: { config: 'q.json5' }, env: {}, readFile: () => file })
    expect(fromFile.gateway).toMatchObject({ aliases: { fast: 'qwen3-4b', big: 'qwen3-30b' }, discoverModels: true, modelRefreshMs: 30_000 })
    const merged = loadConfig({
      flags: { config: 'q.json5', modelAlias: 'fast=qwen3-8b,small=qwen3-1.7b', modelDiscovery: false, modelRefresh: '5' },
      env: { MODEL_ALIASES: 'big=ignored-by-flags-only-for-other-ids' },
      readFile: () => file,
    })
    expect(merged.gateway).toMatchObject({ aliases: { fast: 'qwen3-8b', big: 'qwen3-30b', small: 'qwen3-1.7b' }, discoverModels: false, modelRefreshMs: 5000 })
    const env = loadConfig({ flags: { upstreams: 'http://a' }, env: { MODEL_ALIASES: 'x=y', MODEL_DISCOVERY: 'off', MODEL_REFRESH_SEC: '120' }, readFile: noFile })
    expect(env.gateway).toMatchObject({ aliases: { x: 'y' }, discoverModels: false, modelRefreshMs: 120_000 })
  })

  it('names a bad alias and a bad alias object', () => {
    expect(() => loadConfig({ flags: { upstreams: 'http://a', modelAlias: 'nope' }, env: {}, readFile: noFile })).toThrow(ConfigError)
    expect(() => loadConfig({ flags: { upstreams: 'http://a', modelAlias: 'nope' }, env: {}, readFile: noFile })).toThrow(/--model-alias: expected public=upstream-id pairs, got "nope"/)
    expect(() => loadConfig({ flags: { config: 'q' }, env: {}, readFile: () => '{ upstreams: ["http://a"], aliases: { x: 1 } }' })).toThrow(/aliases\.x: expected an upstream model id/)
  })
})

describe('loadConfig: reasoning', () => {
  it('reads --reasoning / REASONING_MODE / reasoning and --[no-]forward-reasoning / FORWARD_REASONING / forwardReasoning', () => {
    expect(loadConfig({ flags: { upstreams: 'http://a', reasoning: 'Strip', forwardReasoning: false }, env: {}, readFile: noFile }).gateway).toMatchObject({ reasoning: 'strip', forwardReasoning: false })
    expect(loadConfig({ flags: { upstreams: 'http://a' }, env: { REASONING_MODE: 'keep', FORWARD_REASONING: 'false' }, readFile: noFile }).gateway).toMatchObject({ reasoning: 'keep', forwardReasoning: false })
    const file = '{ upstreams: ["http://a"], reasoning: "keep", forwardReasoning: false }'
    expect(loadConfig({ flags: { config: 'q.json5' }, env: {}, readFile: () => file }).gateway).toMatchObject({ reasoning: 'keep', forwardReasoning: false })
    expect(loadConfig({ flags: { config: 'q.json5', reasoning: 'split' }, env: { FORWARD_REASONING: 'on' }, readFile: () => file }).gateway).toMatchObject({ reasoning: 'split', forwardReasoning: true })
    const none = loadConfig({ flags: { upstreams: 'http://a' }, env: {}, readFile: noFile }).gateway
    expect(none.reasoning).toBeUndefined()
    expect(none.forwardReasoning).toBeUndefined()
  })

  it('names a bad reasoning mode', () => {
    expect(() => loadConfig({ flags: { upstreams: 'http://a', reasoning: 'hide' }, env: {}, readFile: noFile })).toThrow(/--reasoning: expected one of split, strip, keep, got "hide"/)
    expect(() => loadConfig({ flags: { upstreams: 'http://a' }, env: { FORWARD_REASONING: 'maybe' }, readFile: noFile })).toThrow(/FORWARD_REASONING: expected true or false/)
  })

  it('the command line takes --reasoning and --no-forward-reasoning', async () => {
    const { createProgram } = await import('../../src/cli/program.js')
    let seen: Record<string, string | boolean | undefined> = {}
    const program = createProgram((flags) => {
      seen = flags
    }).exitOverride()
    await program.parseAsync(['--upstreams', 'http://a', '--reasoning', 'strip', '--no-forward-reasoning', '--reasoning-starts-in-think', 'on', '--reasoning-start-window', '256'], { from: 'user' })
    expect(loadConfig({ flags: seen, env: {}, readFile: noFile }).gateway).toMatchObject({ reasoning: 'strip', forwardReasoning: false, reasoningStartsInThink: true, reasoningStartWindow: 256 })
  })

  it('reads --reasoning-starts-in-think / REASONING_STARTS_IN_THINK / reasoningStartsInThink (auto, on, off) and the start window; a variant may set it', () => {
    expect(loadConfig({ flags: { upstreams: 'http://a' }, env: { REASONING_STARTS_IN_THINK: 'off', REASONING_START_WINDOW: '64' }, readFile: noFile }).gateway).toMatchObject({ reasoningStartsInThink: false, reasoningStartWindow: 64 })
    expect(loadConfig({ flags: { upstreams: 'http://a', reasoningStartsInThink: 'AUTO' }, env: {}, readFile: noFile }).gateway).toMatchObject({ reasoningStartsInThink: 'auto' })
    const file = '{ upstreams: ["http://a"], reasoningStartsInThink: true, variants: [{ id: "r1", model: "m", reasoningStartsInThink: false }] }'
    expect(loadConfig({ flags: { config: 'q.json5' }, env: {}, readFile: () => file }).gateway).toMatchObject({ reasoningStartsInThink: true, variants: [{ id: 'r1', model: 'm', reasoningStartsInThink: false }] })
    expect(loadConfig({ flags: { upstreams: 'http://a', variant: 'r1=m,starts-in-think=on' }, env: {}, readFile: noFile }).gateway).toMatchObject({ variants: [{ id: 'r1', model: 'm', reasoningStartsInThink: true }] })
    expect(() => loadConfig({ flags: { upstreams: 'http://a' }, env: { REASONING_STARTS_IN_THINK: 'sometimes' }, readFile: noFile })).toThrow(/REASONING_STARTS_IN_THINK: expected auto, on or off, got "sometimes"/)
    expect(() => loadConfig({ flags: { upstreams: 'http://a', reasoningStartWindow: '-1' }, env: {}, readFile: noFile })).toThrow(/--reasoning-start-window: expected a whole number >= 0/)
  })
})

describe('loadConfig: health checks (issue 12)', () => {
  it('takes the probe interval from --health-interval, HEALTH_INTERVAL_SEC or the file (seconds or ms), and ejectAfterFailures from the file', () => {
    const file = JSON.stringify({ upstreams: ['http://a:8080'], healthInterval: 2.5, ejectAfterFailures: 5 })
    const fromFile = loadConfig({ flags: { config: 'q.json5' }, env: {}, readFile: () => file })
    expect(fromFile.gateway).toMatchObject({ healthIntervalMs: 2500, ejectAfterFailures: 5 })
    const fileMs = loadConfig({ flags: { config: 'q.json5' }, env: {}, readFile: () => JSON.stringify({ upstreams: ['http://a'], healthIntervalMs: 750 }) })
    expect(fileMs.gateway.healthIntervalMs).toBe(750)
    const env = loadConfig({ flags: { config: 'q.json5' }, env: { HEALTH_INTERVAL_SEC: '30' }, readFile: () => file })
    expect(env.gateway.healthIntervalMs).toBe(30_000)
    const off = loadConfig({ flags: { config: 'q.json5', healthInterval: '0' }, env: { HEALTH_INTERVAL_SEC: '30' }, readFile: () => file })
    expect(off.gateway.healthIntervalMs).toBe(0)
    const none = loadConfig({ flags: { upstreams: 'http://a' }, env: {}, readFile: noFile })
    expect(none.gateway.healthIntervalMs).toBeUndefined()
    expect(none.gateway.ejectAfterFailures).toBeUndefined()
  })

  it('names a bad interval and a bad failure count', () => {
    expect(() => loadConfig({ flags: { upstreams: 'http://a', healthInterval: '-1' }, env: {}, readFile: noFile })).toThrow(new ConfigError('--health-interval: expected a number of seconds >= 0 (0 = off), got "-1"'))
    expect(() => loadConfig({ flags: { upstreams: 'http://a' }, env: { HEALTH_INTERVAL_SEC: 'often' }, readFile: noFile })).toThrow(/HEALTH_INTERVAL_SEC: expected a number of seconds >= 0/)
    expect(() => loadConfig({ flags: { config: 'q' }, env: {}, readFile: () => '{ upstreams: ["http://a"], ejectAfterFailures: 0 }' })).toThrow(/ejectAfterFailures: expected a whole number >= 1, got "0"/)
  })
})

describe('loadConfig: keys', () => {
  it('takes gateway keys from repeated flags, QUEUEGATE_API_KEYS or the file (objects with name and class), and an upstream key for upstreams without their own', () => {
    const flags = loadConfig({ flags: { upstreams: 'http://a,http://b', apiKey: 'key-one-1111,key-two-2222', upstreamKey: 'up-key' }, env: {}, readFile: noFile })
    expect(flags.gateway.apiKeys).toEqual(['key-one-1111', 'key-two-2222'])
    expect(flags.gateway.upstreams).toEqual([
      { url: 'http://a', apiKey: 'up-key' },
      { url: 'http://b', apiKey: 'up-key' },
    ])
    const env = loadConfig({ flags: { upstreams: 'http://a' }, env: { QUEUEGATE_API_KEYS: 'k-env-00001', HF_TOKEN: 'hf_token' }, readFile: noFile })
    expect(env.gateway).toMatchObject({ apiKeys: ['k-env-00001'], upstreams: [{ url: 'http://a', apiKey: 'hf_token' }] })
    const file = loadConfig({
      flags: { config: 'q.json5' },
      env: { UPSTREAM_API_KEY: 'shared' },
      readFile: () => "{ upstreams: [{ url: 'http://a', apiKey: 'own' }, 'http://b'], apiKeys: ['plain-key-0001', { key: 'agent-key-0002', name: 'agents', class: 'batch' }] }",
    })
    expect(file.gateway.apiKeys).toEqual(['plain-key-0001', { key: 'agent-key-0002', name: 'agents', class: 'batch' }])
    expect(file.gateway.upstreams).toEqual([
      { url: 'http://a', apiKey: 'own' },
      { url: 'http://b', apiKey: 'shared' },
    ])
    expect(() => loadConfig({ flags: { config: 'q' }, env: {}, readFile: () => "{ upstreams: ['http://a'], apiKeys: [{ key: 'k', klass: 'batch' }] }" })).toThrow(/apiKeys\[0\]\.klass: unknown key setting/)
  })
})

describe('loadConfig: variants', () => {
  it('reads --variant specs (repeated flags arrive ;-joined), QUEUEGATE_VARIANTS and the file\'s variants, file first', () => {
    const config = loadConfig({
      flags: { config: 'q', variant: 'qwen3-nothink=qwen3,append=/nothink,reasoning=strip;terse=qwen3,system=Answer in one line.' },
      env: {},
      readFile: () => "{ upstreams: ['http://a'], variants: [{ id: 'cold', model: 'qwen3', params: { temperature: 0.1 } }] }",
    })
    expect(config.gateway.variants).toEqual([
      { id: 'cold', model: 'qwen3', params: { temperature: 0.1 } },
      { id: 'qwen3-nothink', model: 'qwen3', appendToUser: '/nothink', reasoning: 'strip' },
      { id: 'terse', model: 'qwen3', system: 'Answer in one line.' },
    ])
    expect(loadConfig({ flags: { upstreams: 'http://a' }, env: { QUEUEGATE_VARIANTS: 'a=b' }, readFile: noFile }).gateway.variants).toEqual([{ id: 'a', model: 'b' }])
    expect(() => loadConfig({ flags: { upstreams: 'http://a', variant: 'x=y,temperature=1' }, env: {}, readFile: noFile })).toThrow(/unknown variant setting "temperature".*params go in the config file/)
    expect(() => loadConfig({ flags: { upstreams: 'http://a', variant: 'nope' }, env: {}, readFile: noFile })).toThrow(/--variant: expected id=model/)
  })
})

describe('loadConfig: client limits (issue 12)', () => {
  it('has defaults, and takes flags, env and the file in seconds (0 turns a limit off)', () => {
    expect(loadConfig({ flags: { upstreams: 'http://a' }, env: {}, readFile: noFile }).clients).toEqual({ headersTimeoutMs: 30_000, bodyTimeoutMs: 120_000, maxConnections: 2048, clientIdleTimeoutMs: 60_000 })
    const config = loadConfig({
      flags: { config: 'q', upstreams: 'http://a', clientIdleTimeout: '0' },
      env: { BODY_TIMEOUT_SEC: '5', MAX_CONNECTIONS: '10' },
      readFile: () => '{ headersTimeout: 2.5, maxConnections: 99, clientIdleTimeout: 30 }',
    })
    expect(config.clients).toEqual({ headersTimeoutMs: 2500, bodyTimeoutMs: 5000, maxConnections: 10, clientIdleTimeoutMs: 0 })
    expect(() => loadConfig({ flags: { upstreams: 'http://a', headersTimeout: '0' }, env: {}, readFile: noFile })).toThrow(/--headers-timeout: expected a number of seconds > 0/)
    expect(() => loadConfig({ flags: { upstreams: 'http://a', maxConnections: '-1' }, env: {}, readFile: noFile })).toThrow(/--max-connections/)
  })
})

describe('loadConfig: security (issue 12)', () => {
  it('requires JSON by default; reads --allowed-hosts, --cors-origin and their env and file forms; --upstream-key skips a URL with a password', () => {
    const defaults = loadConfig({ flags: { upstreams: 'http://a' }, env: {}, readFile: noFile })
    expect(defaults.security).toEqual({ requireJson: true, allowedHosts: undefined, corsOrigins: undefined })
    const flags = loadConfig({ flags: { upstreams: 'http://a,http://u:p@b', requireJson: false, allowedHosts: 'gpu-box.lan, .example.org', corsOrigin: 'http://x.test,http://y.test', upstreamKey: 'shared-key' }, env: {}, readFile: noFile })
    expect(flags.security).toEqual({ requireJson: false, allowedHosts: ['gpu-box.lan', '.example.org'], corsOrigins: ['http://x.test', 'http://y.test'] })
    expect(flags.gateway.upstreams).toEqual([{ url: 'http://a', apiKey: 'shared-key' }, { url: 'http://u:p@b' }])
    const fromEnvAndFile = loadConfig({ flags: { config: 'q' }, env: { ALLOWED_HOSTS: '*', REQUIRE_JSON: 'no' }, readFile: () => "{ upstreams: ['http://a'], corsOrigins: ['*'], requireJson: true }" })
    expect(fromEnvAndFile.security).toEqual({ requireJson: false, allowedHosts: ['*'], corsOrigins: ['*'] })
  })
})
