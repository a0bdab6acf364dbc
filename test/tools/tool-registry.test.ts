import { afterEach, describe, expect, it } from 'vitest'
import { createToolRegistry } from '../../src/tools/tool-registry.js'
import type { ToolRegistryOptions } from '../../src/tools/tool-registry.js'
import type { ToolRegistry } from '../../src/tools/types.js'
import { createFakeClock } from '../helpers/fake-clock.js'
import { withTimeout } from '../helpers/with-timeout.js'
import { reply, startFakeToolServer } from './fake-tool-server.js'
import type { FakeToolServer } from './fake-tool-server.js'
import { loadOpenApi } from './load-openapi.js'

const forecastSchema = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    days: { type: 'integer', minimum: 1, maximum: 14, default: 3 },
    units: { anyOf: [{ type: 'string', enum: ['metric', 'imperial'] }, { type: 'null' }], default: null },
    location: { type: 'object', properties: { lat: { type: 'number' }, lon: { type: 'number' } }, required: ['lat', 'lon'] },
  },
  required: ['city', 'days'],
}

const opened: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close()))
})

async function server(options: Parameters<typeof startFakeToolServer>[0]): Promise<FakeToolServer> {
  const started = await startFakeToolServer(options)
  opened.push(started)
  return started
}

function registry(options: ToolRegistryOptions): ToolRegistry & { warnings: string[] } {
  const warnings: string[] = []
  const created = createToolRegistry({ onWarning: (message) => warnings.push(message), ...options })
  opened.push(created)
  return Object.assign(created, { warnings })
}

async function weatherServer(): Promise<FakeToolServer> {
  return server({ tools: { get_forecast: { schema: forecastSchema, description: 'Forecast for a city', handler: (args) => ({ city: args.city, temps: [20, 21] }) } } })
}

describe('createToolRegistry over an OpenAPI tool server', () => {
  it('lists the tools as OpenAI definitions and calls one with its arguments as the JSON body', async () => {
    const fake = await weatherServer()
    const tools = registry({ toolServers: [fake.url] })
    await withTimeout(tools.ready(), 5000, 'ready')
    expect(tools.definitions().map((tool) => tool.function.name)).toEqual(['get_forecast'])
    expect(tools.definitions()[0]?.function.description).toBe('get forecast\n\nForecast for a city')
    expect(tools.has('get_forecast')).toBe(true)
    expect(tools.has('nope')).toBe(false)
    const outcome = await tools.call('get_forecast', { city: 'Oslo', days: 2 })
    expect(outcome).toMatchObject({ name: 'get_forecast', ok: true, content: '{"city":"Oslo","temps":[20,21]}', truncated: false, bytes: 31 })
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0)
    expect(fake.calls).toHaveLength(1)
    expect(fake.calls[0]).toMatchObject({ path: '/get_forecast', method: 'POST', body: { city: 'Oslo', days: 2 } })
    expect(fake.calls[0]?.headers['content-type']).toBe('application/json')
  })

  it('calls a fixture document’s operations at the configured URL only (its `servers` ignored), with path and query arguments in place', async () => {
    const fake = await server({ openapi: loadOpenApi('fastapi-weather'), handlers: { '/tools/items/7': (args) => ({ saved: args }) } })
    const tools = registry({ toolServers: [{ url: fake.url, prefix: '/tools' }] })
    await tools.ready()
    expect(tools.definitions().map((tool) => tool.function.name)).toEqual(['get_forecast', 'search_places', 'org_chart_tools_org_chart_post', 'update_item', 'tag_all', 'ping'])
    expect(tools.warnings).toEqual([`tool server ${fake.url}: POST /tools/upload: the request body is not JSON (multipart/form-data); left out`])
    const outcome = await tools.call('update_item', { item_id: 7, verbose: true, name: 'lamp' })
    expect(outcome.content).toBe('{"saved":{"name":"lamp"}}')
    expect(fake.calls[0]).toMatchObject({ path: '/tools/items/7', query: { verbose: 'true' }, body: { name: 'lamp' } })
    const tagged = await tools.call('tag_all', { body: ['a', 'b'] })
    expect(tagged.ok).toBe(true)
    expect(fake.calls[1]).toMatchObject({ path: '/tools/tag_all', body: ['a', 'b'] })
    await tools.call('ping', {})
    expect(fake.calls[2]).toMatchObject({ path: '/tools/ping', rawBody: '' })
  })

  it('refuses a path argument that would leave the listed operation', async () => {
    const fake = await server({ openapi: { paths: { '/items/{id}': { post: { operationId: 'get_item', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] } } } } })
    const tools = registry({ toolServers: [fake.url] })
    await tools.ready()
    for (const id of ['..', '.', '%2e%2E', '']) {
      const outcome = await tools.call('get_item', { id })
      expect(outcome.error).toMatchObject({ code: 'invalid_args', field: 'id' })
    }
    await tools.call('get_item', { id: 'a/../b' })
    expect(fake.calls.map((call) => call.path)).toEqual(['/items/a%2F..%2Fb'])
  })

  it('missing required arguments: missing_required_args with the required list and an example per field, and no call', async () => {
    const fake = await weatherServer()
    const tools = registry({ toolServers: [fake.url] })
    await tools.ready()
    const outcome = await tools.call('get_forecast', { units: 'metric' })
    expect(outcome.ok).toBe(false)
    expect(outcome.error).toMatchObject({ code: 'missing_required_args', missing: ['city', 'days'], required: ['city', 'days'], example: { city: '<city>', days: 3 } })
    expect(JSON.parse(outcome.content)).toEqual(outcome.error)
    expect(outcome.error?.message).toBe('get_forecast: missing required arguments city, days. Call it again with every required argument, for example {"city":"<city>","days":3}.')
    const nested = await tools.call('get_forecast', { city: 'Oslo', days: 1, location: { lat: 1 } })
    expect(nested.error).toMatchObject({ code: 'missing_required_args', missing: ['location.lon'] })
    expect(fake.calls).toHaveLength(0)
  })

  it('a wrong type or a value outside the enum: invalid_args naming the field', async () => {
    const fake = await weatherServer()
    const tools = registry({ toolServers: [fake.url] })
    await tools.ready()
    expect((await tools.call('get_forecast', { city: 'Oslo', days: 'three' })).error).toMatchObject({ code: 'invalid_args', field: 'days', message: 'get_forecast: days must be integer' })
    expect((await tools.call('get_forecast', { city: 'Oslo', days: 2, units: 'kelvin' })).error).toMatchObject({ code: 'invalid_args', field: 'units', allowed: ['metric', 'imperial'] })
    expect((await tools.call('get_forecast', { city: 'Oslo', days: 2, location: { lat: 'north', lon: 1 } })).error).toMatchObject({ code: 'invalid_args', field: 'location.lat' })
    expect((await tools.call('get_forecast', [] as unknown as Record<string, unknown>)).error).toMatchObject({ code: 'invalid_args', field: '' })
    expect(fake.calls).toHaveLength(0)
  })

  it('drops null for an optional field (the server applies its default) and sends the rest', async () => {
    const fake = await weatherServer()
    const tools = registry({ toolServers: [fake.url] })
    await tools.ready()
    const outcome = await tools.call('get_forecast', { city: 'Oslo', days: 2, units: null, location: null })
    expect(outcome.ok).toBe(true)
    expect(fake.calls[0]?.body).toEqual({ city: 'Oslo', days: 2 })
  })

  it('an unknown tool: unknown_tool with the available ones', async () => {
    const fake = await weatherServer()
    const tools = registry({ toolServers: [fake.url] })
    await tools.ready()
    const outcome = await tools.call('get_weather', {})
    expect(outcome.error).toMatchObject({ code: 'unknown_tool', available: ['get_forecast'], message: 'There is no tool named get_weather. Available tools: get_forecast.' })
  })

  it('a tool that does not answer in time: tool_timeout, and its request is aborted', async () => {
    const fake = await server({ tools: { slow: { handler: () => reply({ hang: true }) } } })
    const tools = registry({ toolServers: [fake.url], timeoutMs: 150 })
    await tools.ready()
    const outcome = await withTimeout(tools.call('slow', {}), 5000, 'slow call')
    expect(outcome.error).toMatchObject({ code: 'tool_timeout', message: 'slow did not answer within 150 ms.' })
    await fake.waitFor((state) => state.active === 0, 5000)
  })

  it('an HTTP error: tool_http_error with the status and the first 2 KB of the body', async () => {
    const fake = await server({ tools: { broken: { handler: () => reply({ status: 500, body: `boom ${'x'.repeat(10_000)}` }) } } })
    const tools = registry({ toolServers: [fake.url] })
    await tools.ready()
    const outcome = await tools.call('broken', {})
    expect(outcome.error).toMatchObject({ code: 'tool_http_error', status: 500, message: 'broken: the tool server answered 500' })
    expect(String(outcome.error?.body)).toHaveLength(2048)
    expect(String(outcome.error?.body).startsWith('boom xx')).toBe(true)
  })

  it('a redirect is not followed (the tool stays at its server): tool_http_error with the 3xx status', async () => {
    const elsewhere = await server({ tools: { target: {} } })
    const fake = await server({ tools: { moved: { handler: () => reply({ status: 307, body: '', headers: { location: `${elsewhere.url}/target` } }) } } })
    const tools = registry({ toolServers: [fake.url] })
    await tools.ready()
    expect((await tools.call('moved', {})).error).toMatchObject({ code: 'tool_http_error', status: 307 })
    expect(elsewhere.calls).toHaveLength(0)
  })

  it('a network error: tool_call_failed; the last good list stays', async () => {
    const fake = await weatherServer()
    const tools = registry({ toolServers: [fake.url] })
    await tools.ready()
    await fake.down()
    const outcome = await tools.call('get_forecast', { city: 'Oslo', days: 1 })
    expect(outcome.error).toMatchObject({ code: 'tool_call_failed' })
    expect(outcome.error?.message).toMatch(/^get_forecast: the tool server http:\/\/127\.0\.0\.1:\d+ could not be reached \(ECONNREFUSED\)$/)
    const dropped = await server({ tools: { drop: { handler: () => reply({ drop: true }) } } })
    const other = registry({ toolServers: [dropped.url] })
    await other.ready()
    expect((await other.call('drop', {})).error).toMatchObject({ code: 'tool_call_failed' })
  })

  it('caps the result at maxBytes with a note that it was cut, on a character boundary', async () => {
    const fake = await server({ tools: { huge: { handler: () => reply({ body: 'é'.repeat(600_000) }) } } })
    const tools = registry({ toolServers: [fake.url], maxBytes: 1001 })
    await tools.ready()
    const outcome = await tools.call('huge', {})
    expect(outcome.truncated).toBe(true)
    expect(outcome.content).toBe(`${'é'.repeat(500)}\n\n[The result was cut at 1001 bytes: the tool returned more.]`)
    expect(outcome.bytes).toBe(Buffer.byteLength(outcome.content))
    const exact = await server({ tools: { exact: { handler: () => reply({ body: 'a'.repeat(1001) }) } } })
    const other = registry({ toolServers: [exact.url], maxBytes: 1001 })
    await other.ready()
    expect(await other.call('exact', {})).toMatchObject({ truncated: false, bytes: 1001 })
  })

  it('sends only the server’s own credentials: its bearer key, or the URL’s user and password, which no message shows', async () => {
    const keyed = await server({ apiKey: 'sk-tool', tools: { echo: {} } })
    const tools = registry({ toolServers: [{ url: keyed.url, apiKey: 'sk-tool' }] })
    await tools.ready()
    expect((await tools.call('echo', { a: 1 })).ok).toBe(true)
    expect(keyed.lastListingHeaders?.authorization).toBe('Bearer sk-tool')
    expect(keyed.calls[0]?.headers.authorization).toBe('Bearer sk-tool')

    const open = await server({ tools: { echo: {} } })
    const plain = registry({ toolServers: [open.url] })
    await plain.ready()
    await plain.call('echo', {})
    expect(open.calls[0]?.headers.authorization).toBeUndefined()
    expect(Object.keys(open.calls[0]?.headers ?? {}).sort()).toEqual(['accept', 'accept-encoding', 'accept-language', 'connection', 'content-length', 'content-type', 'host', 'sec-fetch-mode', 'user-agent'])

    const basic = registry({ toolServers: [open.url.replace('http://', 'http://user:s3cret@')] })
    await basic.ready()
    await basic.call('echo', {})
    expect(open.calls[1]?.headers.authorization).toBe(`Basic ${btoa('user:s3cret')}`)
    await open.down()
    await basic.refresh()
    expect((await basic.call('echo', {})).content).not.toMatch(/s3cret/)
    expect(basic.warnings.join('\n')).toMatch(/could not be listed/)
    expect(basic.warnings.join('\n')).not.toMatch(/s3cret|user/)
  })

  it('a wrong bearer key: the listing fails (warned), and start-up goes on', async () => {
    const keyed = await server({ apiKey: 'right', tools: { echo: {} } })
    const tools = registry({ toolServers: [{ url: keyed.url, apiKey: 'wrong' }] })
    await tools.ready()
    expect(tools.definitions()).toEqual([])
    expect(tools.warnings).toEqual([`tool server ${keyed.url} could not be listed (GET /openapi.json answered 401); it has no tools until it answers, retrying with backoff`])
    expect(tools.warnings.join('')).not.toMatch(/wrong/)
  })

  it('the caller’s signal aborts a call: it rejects, and the tool request is aborted', async () => {
    const fake = await server({ tools: { slow: { handler: () => reply({ hang: true }) } } })
    const tools = registry({ toolServers: [fake.url] })
    await tools.ready()
    const controller = new AbortController()
    const call = tools.call('slow', {}, { signal: controller.signal })
    await fake.waitFor((state) => state.active === 1)
    controller.abort(new Error('client gone'))
    await expect(withTimeout(call, 5000, 'aborted call')).rejects.toThrow('client gone')
    await fake.waitFor((state) => state.active === 0)
    await expect(tools.call('slow', {}, { signal: controller.signal })).rejects.toThrow('client gone')
  })
})

describe('createToolRegistry: several servers', () => {
  it('start-up goes on when a server is down: a warning names it, the others’ tools are there', async () => {
    const fake = await weatherServer()
    const gone = await server({ tools: { other: {} } })
    await gone.down()
    const tools = registry({ toolServers: [`${gone.url}/`, fake.url] })
    await withTimeout(tools.ready(), 5000, 'ready')
    expect(tools.definitions().map((tool) => tool.function.name)).toEqual(['get_forecast'])
    expect(tools.warnings).toEqual([`tool server ${gone.url} could not be listed (ECONNREFUSED); it has no tools until it answers, retrying with backoff`])
  })

  it('a name offered by two servers is a start-up error naming both', async () => {
    const a = await weatherServer()
    const b = await weatherServer()
    const tools = registry({ toolServers: [a.url, b.url] })
    await expect(tools.ready()).rejects.toThrow(`tool name clash: get_forecast is offered by ${a.url} and by ${b.url}: give one of them a namePrefix`)
  })

  it('a namePrefix keeps them apart: weather__get_forecast goes to its own server under its own name', async () => {
    const a = await weatherServer()
    const b = await weatherServer()
    const tools = registry({ toolServers: [a.url, { url: b.url, namePrefix: 'weather', name: 'backup' }] })
    await tools.ready()
    expect(tools.definitions().map((tool) => tool.function.name)).toEqual(['get_forecast', 'weather__get_forecast'])
    await tools.call('weather__get_forecast', { city: 'Bergen', days: 1 })
    expect(a.calls).toHaveLength(0)
    expect(b.calls[0]).toMatchObject({ path: '/get_forecast', body: { city: 'Bergen', days: 1 } })
    const missing = await tools.call('weather__get_forecast', {})
    expect(missing.error?.message).toMatch(/^weather__get_forecast: missing required/)
  })

  it('a clash that appears after start-up is warned about, and the earlier server keeps the name', async () => {
    const a = await weatherServer()
    const b = await server({ tools: { other: {} } })
    const clock = createFakeClock()
    const tools = registry({ toolServers: [a.url, b.url], clock, schemaTtlMs: 1000 })
    await tools.ready()
    b.setTool('get_forecast', { handler: () => 'from b' })
    clock.advance(1000)
    tools.definitions()
    await b.waitFor((state) => state.listings === 2)
    await tools.refresh()
    expect(tools.definitions().map((tool) => tool.function.name)).toEqual(['get_forecast', 'other'])
    expect(tools.warnings).toEqual([`tool name clash: get_forecast is offered by ${a.url} and by ${b.url}; ${b.url}'s tool is left out`])
  })

  it('rejects bad options, naming them', () => {
    expect(() => createToolRegistry({ timeoutMs: 0 })).toThrow('timeoutMs: expected a whole number >= 1, got 0')
    expect(() => createToolRegistry({ listTimeoutMs: 1.5 })).toThrow('listTimeoutMs: expected a whole number >= 1, got 1.5')
    expect(() => createToolRegistry({ toolServers: ['ftp://x'] })).toThrow('toolServers: expected an http:// or https:// URL, got "ftp://x"')
    expect(() => createToolRegistry({ toolServers: ['not a url://user:pw@x'] })).not.toThrow(/pw/)
    expect(() => createToolRegistry({ toolServers: [{ url: 'http://127.0.0.1:1', namePrefix: 'a b' }] })).toThrow('namePrefix')
    expect(() => createToolRegistry({ toolServers: ['http://127.0.0.1:1', 'http://127.0.0.1:1/'] })).toThrow('is listed twice')
  })
})

describe('createToolRegistry: refresh', () => {
  it('lists again after the TTL, once for many concurrent uses (single flight)', async () => {
    const fake = await weatherServer()
    const clock = createFakeClock()
    const tools = registry({ toolServers: [fake.url], clock, schemaTtlMs: 300_000 })
    await tools.ready()
    expect(fake.listings).toBe(1)
    clock.advance(299_999)
    tools.definitions()
    expect(fake.listings).toBe(1)
    fake.setTool('get_time', {})
    fake.hangListing(true)
    clock.advance(1)
    for (let index = 0; index < 5; index++) tools.definitions()
    await Promise.all([tools.call('get_forecast', { city: 'x', days: 1 }), fake.waitFor((state) => state.listings === 2)])
    fake.hangListing(false)
    const refreshed = tools.refresh()
    expect(fake.listings).toBe(2)
    // The hanging listing is still the one in flight: refresh() joined it. A listing has 10 s (not the call's 60 s).
    clock.advance(9_999)
    expect(tools.warnings).toEqual([])
    clock.advance(1)
    await refreshed
    expect(tools.warnings).toEqual([`tool server ${fake.url} could not be listed (no answer within 10000 ms); its last 1 tools stay in use, retrying with backoff`])
    expect(tools.definitions().map((tool) => tool.function.name)).toEqual(['get_forecast'])
    await tools.refresh()
    expect(fake.listings).toBe(3)
    expect(tools.definitions().map((tool) => tool.function.name)).toEqual(['get_forecast', 'get_time'])
    expect(tools.warnings.at(-1)).toBe(`tool server ${fake.url} is back (2 tools)`)
  })

  it('a server that fails keeps its last good list and is retried with backoff, not on every use', async () => {
    const fake = await weatherServer()
    const clock = createFakeClock()
    const tools = registry({ toolServers: [fake.url], clock, schemaTtlMs: 60_000, retryMs: 1000 })
    await tools.ready()
    fake.failListing(503)
    clock.advance(60_000)
    tools.definitions()
    await fake.waitFor((state) => state.listings === 2)
    await tools.refresh().catch(() => {})
    const listingsAfterFailure = (): number => fake.listings
    // refresh() above was one more attempt (explicit refreshes skip the backoff).
    const base = listingsAfterFailure()
    expect(tools.definitions().map((tool) => tool.function.name)).toEqual(['get_forecast'])
    for (let index = 0; index < 10; index++) tools.definitions()
    clock.advance(999)
    tools.definitions()
    expect(fake.listings).toBe(base)
    clock.advance(1000)
    tools.definitions()
    await fake.waitFor((state) => state.listings === base + 1)
    expect((await tools.call('get_forecast', { city: 'x', days: 1 })).ok).toBe(true)
    expect(tools.warnings.filter((message) => message.includes('could not be listed'))).toEqual([
      `tool server ${fake.url} could not be listed (GET /openapi.json answered 503); its last 1 tools stay in use, retrying with backoff`,
    ])
  })

  it('close() stops listing and closes the sources', async () => {
    const fake = await weatherServer()
    const clock = createFakeClock()
    const tools = registry({ toolServers: [fake.url], clock, schemaTtlMs: 1000 })
    await tools.ready()
    await tools.close()
    clock.advance(5000)
    tools.definitions()
    await tools.refresh()
    expect(fake.listings).toBe(1)
  })
})
