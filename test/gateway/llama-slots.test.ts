/**
 * The `/slots` watch against a real node:http server that serves llama.cpp-shaped `/slots` answers (scripted per
 * test): corrections of a real PrefixIndex when the server reused, cleared or restarted behind the gateway's back,
 * none for the gateway's own jobs, and quiet degradation when the endpoint is absent.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Agent } from 'undici'
import { LlamaSlotsWatch, parseLlamaSlots } from '../../src/gateway/llama-slots.js'
import type { SlotsCorrection } from '../../src/gateway/llama-slots.js'
import { createUpstream } from '../../src/gateway/upstream.js'
import type { Upstream } from '../../src/gateway/upstream.js'
import type { ProbeResult } from '../../src/gateway/upstream-probe.js'
import { PrefixIndex } from '../../src/queue/prefix-index.js'

interface SlotsServer {
  url: string
  paths: string[]
  /** What `/slots` answers next. */
  answer: { status: number; body: unknown }
  close(): Promise<void>
}

async function serveSlots(): Promise<SlotsServer> {
  const state: SlotsServer = { url: '', paths: [], answer: { status: 200, body: [] }, close: async () => {} }
  const server = http.createServer((incoming, outgoing) => {
    state.paths.push(incoming.url ?? '/')
    if (incoming.url !== '/slots') return void outgoing.writeHead(404).end()
    outgoing.writeHead(state.answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(state.answer.body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  return state
}

/** A slot in today's llama.cpp shape (metrics fields). */
const slot = (id: number, task: number | undefined, tokens: number, processing = false) => ({
  id,
  n_ctx: 8192,
  speculative: false,
  is_processing: processing,
  ...(task === undefined ? {} : { id_task: task, n_past: tokens, n_prompt_tokens: tokens, n_prompt_tokens_processed: 10, n_prompt_tokens_cache: tokens - 10, params: { temperature: 0.8 }, next_token: [{ has_next_token: processing, has_new_line: false, n_remain: -1, n_decoded: 5 }] }),
})

const matched = (index: PrefixIndex, hashes: string[]) => [...index.matches(hashes).values()].map(({ place }) => `${place.upstream}/${place.slot}`).sort()

describe('parseLlamaSlots', () => {
  it("reads today's llama.cpp slots, older ones (id_task -1, no sizes; task_id and state), and nothing of another shape", () => {
    expect(parseLlamaSlots([slot(0, 41, 900, true), slot(1, undefined, 0)])).toEqual([
      { id: 0, processing: true, task: 41, tokens: 900 },
      { id: 1, processing: false, task: undefined, tokens: undefined },
    ])
    expect(parseLlamaSlots([{ id: 0, id_task: -1, n_ctx: 4096, is_processing: false, prompt: '' }])).toEqual([{ id: 0, processing: false, task: undefined, tokens: undefined }])
    expect(parseLlamaSlots([{ id: 0, task_id: 3, state: 1, n_past: 12 }])).toEqual([{ id: 0, processing: true, task: 3, tokens: 12 }])
    for (const other of [{ error: { code: 501, message: 'This server does not support slots endpoint.' } }, [{ id: 'a', is_processing: false }], [{ id: 0 }], ['x'], null]) expect(parseLlamaSlots(other)).toBeUndefined()
  })
})

describe('LlamaSlotsWatch', () => {
  const opened: Array<{ close(): Promise<void> }> = []
  const upstreams: Upstream[] = []

  afterEach(async () => {
    await Promise.all(upstreams.splice(0).map((upstream) => upstream.dispatcher.close()))
    await Promise.all(opened.splice(0).map((item) => item.close()))
  })

  const upstreamAt = (url: string, slotAffinity = true): Upstream => {
    const upstream = createUpstream({ url: `${url}/v1`, slots: 2, slotAffinity }, { readTimeoutMs: 5000, connectTimeoutMs: 1000, dispatcherFactory: (_origin, options) => new Agent({ ...options, keepAliveTimeout: 10 }) })
    upstreams.push(upstream)
    return upstream
  }
  const never = (): AbortSignal => new AbortController().signal

  async function setup() {
    const server = await serveSlots()
    opened.push(server)
    const upstream = upstreamAt(server.url)
    const prefixes = new PrefixIndex()
    const corrections: SlotsCorrection[] = []
    const watch = new LlamaSlotsWatch({ prefixes, onCorrection: (id, correction) => corrections.push(correction) })
    // The gateway's index: slot 0 holds conversation A, slot 1 conversation B, both behind the same system prompt.
    prefixes.record(['s', 's-a'], upstream.id, 0)
    prefixes.record(['s', 's-b'], upstream.id, 1)
    return { server, upstream, prefixes, corrections, watch }
  }

  /** As setup(), then the gateway runs a job on slot 0: a read catches it processing as task 12 (its own), and it ends. */
  async function setupWithOwnJob() {
    const fixture = await setup()
    const { server, upstream, watch } = fixture
    server.answer = { status: 200, body: [slot(0, 10, 900), slot(1, 11, 700)] }
    await watch.read(upstream, never())
    watch.started(upstream.id, 0)
    server.answer = { status: 200, body: [slot(0, 12, 950, true), slot(1, 11, 700)] }
    await watch.read(upstream, never())
    watch.ended(upstream.id, 0)
    return fixture
  }

  it("keeps what the gateway's own jobs put in a slot, forgets a slot the server reused for someone else (another task)", async () => {
    const { server, upstream, prefixes, corrections, watch } = await setupWithOwnJob()
    server.answer = { status: 200, body: [slot(0, 12, 990), slot(1, 11, 700)] }
    await watch.read(upstream, never())
    expect(corrections).toEqual([])
    expect(matched(prefixes, ['s', 's-a'])).toEqual([`${upstream.id}/0`, `${upstream.id}/1`])
    // Slot 1 ran task 13, which the gateway never sent: what the index says it holds is gone.
    server.answer = { status: 200, body: [slot(0, 12, 990), slot(1, 13, 300)] }
    await watch.read(upstream, never())
    expect(corrections).toEqual([{ reason: 'reused', slots: [1] }])
    expect(matched(prefixes, ['s', 's-b'])).toEqual([`${upstream.id}/0`])
    expect([...prefixes.matches(['s', 's-b']).values()][0]?.blocks).toBe(1) // slot 0 still holds the system prompt
    expect(server.paths).toEqual(['/slots', '/slots', '/slots', '/slots'])
  })

  it("a read that caught the gateway's job processing tells its task: a later task there is someone else's, even in the same window", async () => {
    const { server, upstream, prefixes, corrections, watch } = await setupWithOwnJob()
    // Task 13 ran on slot 0 right after the gateway's task 12 ended, before the next read.
    server.answer = { status: 200, body: [slot(0, 13, 40), slot(1, 11, 700)] }
    await watch.read(upstream, never())
    expect(corrections).toEqual([{ reason: 'reused', slots: [0] }])
    expect(matched(prefixes, ['s', 's-a'])).toEqual([`${upstream.id}/1`])
    // A job no read caught: any change in its window is taken for the gateway's own.
    watch.started(upstream.id, 1)
    watch.ended(upstream.id, 1)
    server.answer = { status: 200, body: [slot(0, 13, 40), slot(1, 15, 80)] }
    await watch.read(upstream, never())
    expect(corrections).toHaveLength(1)
  })

  it('forgets a slot cleared with the same task (erase: its size drops) and one that started processing for someone else', async () => {
    const { server, upstream, prefixes, corrections, watch } = await setup()
    server.answer = { status: 200, body: [slot(0, 10, 900), slot(1, 11, 700)] }
    await watch.read(upstream, never())
    server.answer = { status: 200, body: [slot(0, 10, 0), slot(1, 11, 700)] }
    await watch.read(upstream, never())
    expect(corrections).toEqual([{ reason: 'reused', slots: [0] }])
    server.answer = { status: 200, body: [slot(0, 10, 0), slot(1, 11, 700, true)] }
    await watch.read(upstream, never())
    expect(corrections).toEqual([
      { reason: 'reused', slots: [0] },
      { reason: 'reused', slots: [1] },
    ])
    expect(matched(prefixes, ['s'])).toEqual([])
  })

  it('a slot the gateway started and ended a job on between two reads is its own; slots beyond its count are not its business', async () => {
    const { server, upstream, corrections, watch } = await setup()
    server.answer = { status: 200, body: [slot(0, 10, 900), slot(1, 11, 700), slot(2, 5, 100)] }
    await watch.read(upstream, never())
    watch.started(upstream.id, 1)
    watch.ended(upstream.id, 1)
    server.answer = { status: 200, body: [slot(0, 10, 900), slot(1, 14, 720), slot(2, 15, 400)] }
    await watch.read(upstream, never())
    expect(corrections).toEqual([])
  })

  it('a restart (task ids back to nothing, or lower; or another slot count) forgets everything the upstream held', async () => {
    const { server, upstream, prefixes, corrections, watch } = await setup()
    server.answer = { status: 200, body: [slot(0, 10, 900), slot(1, 11, 700)] }
    await watch.read(upstream, never())
    server.answer = { status: 200, body: [slot(0, undefined, 0), slot(1, undefined, 0)] }
    await watch.read(upstream, never())
    expect(corrections).toEqual([{ reason: 'restarted' }])
    expect(matched(prefixes, ['s'])).toEqual([])
    prefixes.record(['s', 's-a'], upstream.id, 0)
    watch.started(upstream.id, 0)
    watch.ended(upstream.id, 0)
    server.answer = { status: 200, body: [slot(0, 0, 900), slot(1, undefined, 0)] }
    await watch.read(upstream, never())
    expect(corrections).toHaveLength(1)
    server.answer = { status: 200, body: [slot(0, 0, 900)] }
    await watch.read(upstream, never())
    expect(corrections).toEqual([{ reason: 'restarted' }, { reason: 'restarted' }])
    expect(matched(prefixes, ['s'])).toEqual([])
  })

  it.each([
    ['404 (not llama.cpp)', 404, { error: 'File Not Found' }],
    ['501 (llama.cpp --no-slots)', 501, { error: { code: 501, message: 'This server does not support slots endpoint. Start it with `--slots`', type: 'not_supported_error' } }],
    ['200 of another shape', 200, { slots: 'n/a' }],
  ])('without /slots (%s): asked once after good probes, again only after the upstream was down', async (_name, status, body) => {
    const { server, upstream, corrections, watch } = await setup()
    server.answer = { status, body }
    let result: ProbeResult = { state: 'healthy' }
    const probe = watch.wrap(async () => result)
    for (let round = 0; round < 3; round++) expect(await probe(upstream, never())).toEqual({ state: 'healthy' })
    expect(server.paths).toEqual(['/slots'])
    result = { state: 'down', error: 'unreachable' }
    expect(await probe(upstream, never())).toEqual(result)
    result = { state: 'healthy' }
    await probe(upstream, never())
    await probe(upstream, never())
    expect(server.paths).toEqual(['/slots', '/slots'])
    expect(corrections).toEqual([])
  })

  it('asks again after a 5xx; reads nothing for an upstream without slot affinity, or after a probe that was not healthy', async () => {
    const { server, upstream, watch } = await setup()
    server.answer = { status: 503, body: { error: { code: 503, message: 'Loading model' } } }
    const probe = watch.wrap(async () => ({ state: 'healthy' }))
    await probe(upstream, never())
    await probe(upstream, never())
    expect(server.paths).toEqual(['/slots', '/slots'])
    await watch.wrap(async () => ({ state: 'loading', error: '503' }))(upstream, never())
    await probe(upstreamAt(server.url, false), never())
    expect(server.paths).toHaveLength(2)
  })

  it('an aborted read ends at once and says nothing; a read of a server that does not answer ends at its deadline, the probe healthy', async () => {
    const { upstream, watch, corrections } = await setup()
    const controller = new AbortController()
    controller.abort(new Error('closed'))
    await watch.read(upstream, controller.signal)
    const hanging = http.createServer(() => {})
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
    opened.push({ close: () => new Promise<void>((resolve) => (hanging.closeAllConnections(), hanging.close(() => resolve()))) })
    const stuck = upstreamAt(`http://127.0.0.1:${(hanging.address() as AddressInfo).port}`)
    const late = new AbortController()
    setTimeout(() => late.abort(new Error('deadline')), 50)
    await watch.read(stuck, late.signal)
    const quick = new LlamaSlotsWatch({ prefixes: new PrefixIndex(), timeoutMs: 100 })
    const started = performance.now()
    expect(await quick.wrap(async () => ({ state: 'healthy' }))(stuck, never())).toEqual({ state: 'healthy' })
    expect(performance.now() - started).toBeLessThan(2000)
    expect(corrections).toEqual([])
  })
})
