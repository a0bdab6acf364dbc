import { afterEach, describe, expect, it } from 'vitest'
import { createEventLogger, createGatewayMetrics } from 'queuegate/observe'
import type { GatewayOptions } from 'queuegate'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream, RecordedRequest } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'
import { loadChunks } from '../helpers/load-chunks.js'

/** One sample of the exposition text: name, labels, value. */
interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses Prometheus text format samples (the lines that are not comments). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) })
  }
  return samples
}

/** The value of the one sample with this name and these labels (among others); throws when there is none. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted))
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}: ${JSON.stringify(found)}`)
  return (found[0] as Sample).value
}

const label = (request: RecordedRequest): string => ((request.body as { messages?: Array<{ content: string }> }).messages?.[0]?.content ?? '')

describe('GET /metrics and the event log, end to end', () => {
  const upstreams: FakeUpstream[] = []
  let gateway: TestGateway | undefined
  afterEach(async () => {
    await gateway?.close()
    gateway = undefined
    await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()))
  })

  async function fake(options: Parameters<typeof startFakeUpstream>[0] = {}): Promise<FakeUpstream> {
    const upstream = await startFakeUpstream(options)
    upstreams.push(upstream)
    return upstream
  }

  async function scrape(headers: Record<string, string> = {}): Promise<Sample[]> {
    const response = await fetch(`${gateway!.url}/metrics`, { headers })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    return parseMetrics(await response.text())
  }

  it('counts requests, tokens (usage, else chunks) and times by upstream and model, and reads queue, slots and health when scraped', async () => {
    const upstream = await fake({ slots: 2, tokens: 3 })
    const metrics = createGatewayMetrics()
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 2 }], models: ['fake-model'], metrics })
    const id = `${upstream.url}/v1`
    const client = gateway.client
    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] })
    // vLLM-style: usage only when asked for; without it, the chunks are counted.
    for await (const chunk of await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } })) void chunk
    for await (const chunk of await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], stream: true })) void chunk
    await gateway.waitForEvent((event) => event.type === 'request-end' && gateway!.events.filter((e) => e.type === 'request-end').length === 5)

    const samples = await scrape()
    const labels = { upstream: id, model: 'fake-model' }
    expect(value(samples, 'queuegate_requests_total', { ...labels, kind: 'interactive', status: '200' })).toBe(5)
    // Three whole answers with usage (3 tokens each), one stream with usage, one counted: role + 3 tokens + finish.
    expect(value(samples, 'queuegate_generated_tokens_total', { ...labels, source: 'usage' })).toBe(3 * 3 + 3)
    expect(value(samples, 'queuegate_generated_tokens_total', { ...labels, source: 'chunks' })).toBe(5)
    expect(value(samples, 'queuegate_prompt_tokens_total', labels)).toBeGreaterThan(0)
    // Time to first token: streams only; total time: every request.
    expect(value(samples, 'queuegate_time_to_first_token_seconds_count', labels)).toBe(2)
    expect(value(samples, 'queuegate_time_to_first_token_seconds_bucket', { ...labels, le: '+Inf' })).toBe(2)
    expect(value(samples, 'queuegate_request_duration_seconds_count', labels)).toBe(5)
    expect(value(samples, 'queuegate_request_duration_seconds_bucket', { ...labels, le: '600' })).toBe(5)
    expect(value(samples, 'queuegate_queue_wait_seconds_count', { kind: 'interactive' })).toBe(5)
    // Scraped state: nothing waits or runs now; two slots; in rotation.
    expect(value(samples, 'queuegate_queue_depth', { kind: 'interactive' })).toBe(0)
    expect(value(samples, 'queuegate_queue_depth', { kind: 'batch' })).toBe(0)
    expect(value(samples, 'queuegate_running_jobs', { upstream: id })).toBe(0)
    expect(value(samples, 'queuegate_slots', { upstream: id })).toBe(2)
    expect(value(samples, 'queuegate_upstream_healthy', { upstream: id })).toBe(1)
    // Default process metrics, in the gateway's own registry.
    expect(samples.some((sample) => sample.name === 'process_cpu_user_seconds_total')).toBe(true)
    expect(samples.some((sample) => sample.name === 'nodejs_eventloop_lag_seconds')).toBe(true)
  })

  it('shows a running and a queued job while they are there, and an upstream out of rotation', async () => {
    const upstream = await fake({ slots: 1, respond: (request) => (label(request) === 'slow' ? { tokens: 3, tokenDelayMs: 300 } : { tokens: 1 }) })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 1 }, { url: 'http://127.0.0.1:9/v1', slots: 1, models: ['elsewhere'] }], metrics: createGatewayMetrics({ processMetrics: false }) })
    const id = `${upstream.url}/v1`
    const post = (content: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${gateway!.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content }] }) })
    const slow = post('slow')
    await upstream.waitFor((u) => u.active === 1)
    const waiting = post('agent', { 'X-Job-Kind': 'agent' })
    await gateway.waitForEvent((event) => event.type === 'job-queued')
    let samples = await scrape()
    expect(value(samples, 'queuegate_running_jobs', { upstream: id })).toBe(1)
    expect(value(samples, 'queuegate_queue_depth', { kind: 'batch' })).toBe(1)
    expect(value(samples, 'queuegate_queue_depth', { kind: 'interactive' })).toBe(0)
    expect(value(samples, 'queuegate_upstream_queued', { upstream: id })).toBe(1)
    expect((await slow).status).toBe(200)
    expect((await waiting).status).toBe(200)
    // The unreachable one: the call fails over to the other upstream (a retry), and it sits out its cooldown.
    const failedOver = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'elsewhere', messages: [{ role: 'user', content: 'x' }] }) })
    expect(failedOver.status).toBe(200)
    await failedOver.text()
    samples = await scrape()
    const down = 'http://127.0.0.1:9/v1'
    expect(value(samples, 'queuegate_upstream_errors_total', { upstream: down, kind: 'upstream_unreachable' })).toBe(1)
    expect(value(samples, 'queuegate_retries_total', { upstream: down, reason: 'upstream_unreachable' })).toBe(1)
    expect(value(samples, 'queuegate_upstream_healthy', { upstream: down })).toBe(0)
    expect(value(samples, 'queuegate_upstream_healthy', { upstream: id })).toBe(1)
    expect(value(samples, 'queuegate_requests_total', { upstream: id, model: 'elsewhere', status: '200' })).toBe(1)
    expect(value(samples, 'queuegate_queue_wait_seconds_count', { kind: 'batch' })).toBe(1)
  })

  it('counts a failure after the answer started as an upstream error of its kind, and the request with it', async () => {
    const upstream = await fake({ chunks: [{ content: 'partial' }, { error: { code: 500, message: 'model crashed' } }] })
    gateway = await startQueuegate({ upstreams: [upstream.url], models: ['fake-model'], metrics: createGatewayMetrics({ processMetrics: false }) })
    const stream = await gateway.client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'x' }], stream: true })
    await expect((async () => {
      for await (const chunk of stream) void chunk
    })()).rejects.toThrow(/model crashed/)
    await gateway.waitForEvent((event) => event.type === 'request-end')
    const samples = await scrape()
    const id = `${upstream.url}/v1`
    expect(value(samples, 'queuegate_upstream_errors_total', { upstream: id, kind: 'upstream_error' })).toBe(1)
    expect(value(samples, 'queuegate_requests_total', { upstream: id, model: 'fake-model', status: '200' })).toBe(1)
  })

  it('keeps the model label bounded: known ids by name, any other name as `other`', async () => {
    const upstream = await fake({ tokens: 1 })
    gateway = await startQueuegate({ upstreams: [upstream.url], aliases: { known: 'fake-model' }, metrics: createGatewayMetrics({ processMetrics: false }) })
    for (let i = 0; i < 40; i++) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: `random-model-${i}`, messages: [{ role: 'user', content: 'x' }] }) })
      expect(response.status).toBe(200)
      await response.text()
    }
    await gateway.client.chat.completions.create({ model: 'known', messages: [{ role: 'user', content: 'x' }] })
    const samples = await scrape()
    const models = new Set(samples.filter((sample) => sample.name === 'queuegate_requests_total').map((sample) => sample.labels.model))
    expect([...models].sort()).toEqual(['known', 'other'])
    expect(value(samples, 'queuegate_requests_total', { model: 'other' })).toBe(40)
    const series = samples.filter((sample) => sample.name.startsWith('queuegate_request_duration_seconds_bucket'))
    expect(series.length).toBeLessThanOrEqual(2 * 17)
  })

  it('puts /metrics behind the gateway keys when there are some, and nowhere with metricsPath false', async () => {
    const upstream = await fake({ tokens: 1 })
    gateway = await startQueuegate({ upstreams: [upstream.url], apiKeys: ['metrics-key-0001'], metrics: createGatewayMetrics({ processMetrics: false }) })
    const open = await fetch(`${gateway.url}/metrics`)
    expect(open.status).toBe(401)
    expect(((await open.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key')
    await scrape({ authorization: 'Bearer metrics-key-0001' })
    await gateway.close()
    gateway = await startQueuegate({ upstreams: [upstream.url], metrics: createGatewayMetrics({ processMetrics: false }), metricsPath: false })
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(404)
  })

  it('counts sticky decisions (new, kept, moved for load) and logs each at debug with the slot', async () => {
    const first = await fake({ slots: 2, respond: (request) => (label(request) === 'slow' ? { tokens: 3, tokenDelayMs: 300 } : { tokens: 1 }) })
    const second = await fake({ slots: 2, respond: (request) => (label(request) === 'slow' ? { tokens: 3, tokenDelayMs: 300 } : { tokens: 1 }) })
    const lines: string[] = []
    const logger = await createEventLogger({ format: 'json', level: 'debug', destination: (line) => lines.push(line) })
    gateway = await startQueuegate({
      upstreams: [
        { url: first.url, slots: 1 },
        { url: second.url, slots: 1 },
      ],
      stickyMaxImbalance: 0,
      metrics: createGatewayMetrics({ processMetrics: false }),
      onEvent: (event) => logger.event(event),
    })
    const post = (content: string): Promise<Response> =>
      fetch(`${gateway!.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-chat-id': 'conversation-1' }, body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content }] }) })
    await (await post('fast')).text()
    // The second turn stays (and is slow); the third arrives while it runs: its upstream is busier by 1 > 0.
    const slow = post('slow')
    await gateway.waitForEvent((event) => event.type === 'job-start' && event.route?.sticky === 'kept')
    await (await post('fast')).text()
    await (await slow).text()
    const samples = await scrape()
    expect(value(samples, 'queuegate_sticky_routes_total', { decision: 'new' })).toBe(1)
    expect(value(samples, 'queuegate_sticky_routes_total', { decision: 'kept' })).toBe(1)
    expect(value(samples, 'queuegate_sticky_routes_total', { decision: 'moved', reason: 'load' })).toBe(1)
    const routes = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'route')
    expect(routes.map((line) => line.sticky)).toEqual(['new', 'kept', 'moved'])
    expect(routes[2]).toMatchObject({ level: 'debug', because: 'load', moved_from: routes[0]?.upstream, kind: 'interactive', model: 'fake-model' })
    expect(routes[2]?.upstream).not.toBe(routes[0]?.upstream)
  })

  it('counts llama.cpp slot reuse under slot affinity, and the prompt tokens its cache served', async () => {
    // llama-server's last chunk: usage and timings (cache_n: prompt tokens its slot's cache served).
    const upstream = await fake({
      slots: 2,
      chunks: [
        { choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' }, finish_reason: null }] },
        { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 }, timings: { cache_n: 8, prompt_n: 2 } },
      ],
    })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 2, slotAffinity: true }], metrics: createGatewayMetrics({ processMetrics: false }) })
    for (let i = 0; i < 2; i++) {
      const stream = await gateway.client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'same conversation' }], stream: true }, { headers: { 'x-chat-id': 'c-7' } })
      for await (const chunk of stream) void chunk
    }
    await gateway.waitForEvent((event) => event.type === 'request-end' && gateway!.events.filter((e) => e.type === 'request-end').length === 2)
    const samples = await scrape()
    const id = `${upstream.url}/v1`
    expect(value(samples, 'queuegate_slot_reuse_total', { upstream: id, result: 'reused' })).toBe(1)
    expect(value(samples, 'queuegate_prompt_cached_tokens_total', { upstream: id })).toBe(16)
    expect(value(samples, 'queuegate_generated_tokens_total', { upstream: id, source: 'usage' })).toBe(2)
    const ends = gateway.events.filter((event) => event.type === 'request-end')
    expect(ends.map((event) => event.slot)).toEqual([ends[0]?.slot, ends[0]?.slot])
    expect(typeof ends[0]?.slot).toBe('number')
  })

  it('counts tool calls recovered from text by their format', async () => {
    const upstream = await fake({ chunks: loadChunks('hermes-tool-call') })
    gateway = await startQueuegate({ upstreams: [upstream.url], metrics: createGatewayMetrics({ processMetrics: false }) })
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]
    for await (const chunk of await gateway.client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'Weather?' }], tools, stream: true })) void chunk
    await gateway.client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'Weather?' }], tools })
    const samples = await scrape()
    expect(value(samples, 'queuegate_tool_calls_recovered_total', { format: 'hermes' })).toBe(2)
  })

  it('writes JSON request lines with every field, and nothing secret: no key, no URL password, no message text (unless logBodies)', async () => {
    const upstream = await fake({ tokens: 2, ttftMs: 20 })
    const secretUrl = upstream.url.replace('http://', 'http://admin:url-passw0rd@')
    const run = async (options: Partial<GatewayOptions>): Promise<Array<Record<string, unknown>>> => {
      const lines: string[] = []
      const logger = await createEventLogger({ format: 'json', level: 'debug', destination: (line) => lines.push(line) })
      gateway = await startQueuegate({ upstreams: [{ url: `${secretUrl}/v1`, slots: 2 }], apiKeys: [{ key: 'sk-gateway-secret-1', name: 'alice' }], onEvent: (event) => logger.event(event), ...options })
      const headers = { authorization: 'Bearer sk-gateway-secret-1' }
      const stream = await gateway.client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'my private message text' }], stream: true }, { headers })
      for await (const chunk of stream) void chunk
      await gateway.client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'my private message text' }] }, { headers })
      await gateway.waitForEvent((event) => event.type === 'request-end' && gateway!.events.filter((e) => e.type === 'request-end').length === 2)
      await gateway.close()
      gateway = undefined
      const all = lines.join('\n')
      expect(all).not.toContain('sk-gateway-secret-1')
      expect(all).not.toContain('url-passw0rd')
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    }
    const records = await run({})
    expect(JSON.stringify(records)).not.toContain('my private message text')
    const requests = records.filter((record) => record.msg === 'request')
    expect(requests).toHaveLength(2)
    for (const record of requests) {
      expect(record).toMatchObject({ level: 'info', kind: 'interactive', model: 'fake-model', upstream: `${upstream.url}/v1`, slot: null, status: 200, key: 'alice' })
      expect(Math.abs((record.time as number) - Date.now())).toBeLessThan(60_000)
      expect(record.job).toMatch(/^[0-9a-f]{32}$/)
      for (const field of ['wait_ms', 'total_ms']) expect(typeof record[field]).toBe('number')
    }
    const streamed = requests.find((record) => record.stream === true) as Record<string, unknown>
    expect(streamed.ttft_ms).toBeGreaterThanOrEqual(15)
    // No usage in the stream (not asked for): the chunks counted, role and finish chunks included.
    expect(streamed).toMatchObject({ tokens: 4, tokens_from: 'chunks' })
    expect(requests.find((record) => record.stream === false)).toMatchObject({ ttft_ms: null, tokens: 2, tokens_from: 'usage' })
    const withBodies = await run({ logBodies: true })
    expect(withBodies.filter((record) => record.msg === 'request').every((record) => String(record.body).includes('my private message text'))).toBe(true)
  })
})
