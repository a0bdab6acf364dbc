/**
 * Keys on both sides (issue 11): gateway keys clients must send, and the upstream's own key, never
 * the client's, sent upstream.
 */
import { afterEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { startFakeToolServer } from '../tools/fake-tool-server.js'
import type { Agent } from 'queuegate'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

const messages = [{ role: 'user' as const, content: 'hi' }]
let upstream: FakeUpstream | undefined
let gateway: TestGateway | undefined
let tools: { close(): Promise<void>; url: string } | undefined

afterEach(async () => {
  await gateway?.close()
  await upstream?.close()
  await tools?.close()
  tools = undefined
  gateway = undefined
  upstream = undefined
})

const clientWith = (apiKey: string): OpenAI => new OpenAI({ baseURL: `${gateway!.url}/v1`, apiKey, maxRetries: 0, timeout: 10_000 })

describe('gateway keys', () => {
  it('every /v1 request needs one of the keys (Bearer or x-api-key); /healthz stays open; 401 invalid_api_key otherwise', async () => {
    upstream = await startFakeUpstream({ tokens: 2 })
    gateway = await startQueuegate({ upstreams: [upstream.url], apiKeys: ['user-key-0001', { key: 'agent-key-0002', name: 'agents', class: 'batch' }] })
    // The harness client sends "test", which is not a key.
    await expect(gateway.client.chat.completions.create({ model: 'm', messages })).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' })
    await expect(gateway.client.models.list()).rejects.toMatchObject({ status: 401 })
    const bare = await fetch(`${gateway.url}/v1/models`)
    expect(bare.status).toBe(401)
    expect(bare.headers.get('www-authenticate')).toBe('Bearer')
    expect(((await bare.json()) as { error: { message: string } }).error.message).toMatch(/needs a key/)
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200)
    const answer = await clientWith('user-key-0001').chat.completions.create({ model: 'm', messages })
    expect(answer.choices[0]?.message.content).toBe('tok0 tok1')
    const viaHeader = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'user-key-0001' }, body: JSON.stringify({ model: 'm', messages }) })
    expect(viaHeader.status).toBe(200)
    await viaHeader.arrayBuffer()
    // No upstream request carried a client's key.
    const chats = upstream.requests.filter((request) => request.path === '/v1/chat/completions')
    expect(chats).toHaveLength(2)
    for (const request of chats) expect(request.headers.authorization).toBeUndefined()
    expect(chats.every((request) => !JSON.stringify(request.headers).includes('user-key-0001'))).toBe(true)
  })

  it('a key\'s class puts its jobs in that class whatever their headers, and its name (never the key) is in the log event', async () => {
    upstream = await startFakeUpstream({ tokens: 1 })
    gateway = await startQueuegate({ upstreams: [upstream.url], apiKeys: [{ key: 'agent-key-0002', name: 'agents', class: 'batch' }] })
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer agent-key-0002', 'x-job-kind': 'chat' }, body: JSON.stringify({ model: 'm', messages }) })
    expect(response.status).toBe(200)
    await response.arrayBuffer()
    const jobId = response.headers.get('x-queuegate-job-id') as string
    const job = await fetch(`${gateway.url}/v1/jobs/${jobId}`, { headers: { authorization: 'Bearer agent-key-0002' } })
    const jobText = await job.text()
    expect(JSON.parse(jobText)).toMatchObject({ kind: 'batch' })
    // Neither /v1/jobs nor a 401 for a wrong key shows a key.
    expect(jobText).not.toContain('agent-key-0002')
    const list = await fetch(`${gateway.url}/v1/jobs`, { headers: { authorization: 'Bearer agent-key-0002' } })
    expect(await list.text()).not.toContain('agent-key-0002')
    const wrong = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: 'Bearer agent-key-0003' } })
    expect(wrong.status).toBe(401)
    const wrongText = await wrong.text()
    expect(wrongText).not.toContain('agent-key-000')
    const event = await gateway.waitForEvent((item) => item.type === 'request-end')
    expect(event).toMatchObject({ key: 'agents' })
    expect(JSON.stringify(gateway.events)).not.toContain('agent-key-0002')
  })

  it("a key's maxRunning caps the slots it holds: beyond it its requests wait and other clients go first", async () => {
    // Two slots. The capped key sends three requests at once, another client two a moment later.
    upstream = await startFakeUpstream({ slots: 2, tokens: 3, tokenDelayMs: 100 })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 2 }], apiKeys: [{ key: 'agent-key-0002', name: 'agents', maxRunning: 1 }, 'user-key-0001'] })
    const agents = clientWith('agent-key-0002')
    const people = clientWith('user-key-0001')
    const ask = (client: OpenAI, content: string) => client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }] })
    const agentJobs = [ask(agents, 'a1'), ask(agents, 'a2'), ask(agents, 'a3')]
    await upstream.waitFor((fake) => fake.active === 1)
    // The second slot stays free for others: the key holds one at a time.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(upstream.active).toBe(1)
    const peopleJobs = [ask(people, 'p1'), ask(people, 'p2')]
    await Promise.all([...agentJobs, ...peopleJobs])
    const started = [...upstream.requests].filter((request) => request.startOrder !== undefined).sort((a, b) => (a.startOrder ?? 0) - (b.startOrder ?? 0))
    const order = started.map((request) => (request.body as { messages: Array<{ content: string }> }).messages[0]?.content)
    // a1 runs at once; p1 takes the free slot; a2 only after a1 ended, a3 after a2.
    expect(order.indexOf('a1')).toBe(0)
    expect(order.indexOf('p1')).toBeLessThan(order.indexOf('a2'))
    expect(order.indexOf('a2')).toBeLessThan(order.indexOf('a3'))
    // Never two of the key's requests upstream at once.
    const agentRuns = started.filter((request) => String((request.body as { messages: Array<{ content: string }> }).messages[0]?.content).startsWith('a'))
    for (let index = 1; index < agentRuns.length; index++) expect(agentRuns[index]!.startedAt!).toBeGreaterThanOrEqual(agentRuns[index - 1]!.endedAt!)
  })

  it("a request waiting for its key's turn leaves when its client does, and the next one goes", async () => {
    upstream = await startFakeUpstream({ slots: 2, tokens: 3, tokenDelayMs: 100 })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 2 }], apiKeys: [{ key: 'agent-key-0002', maxRunning: 1 }] })
    const agents = clientWith('agent-key-0002')
    const first = agents.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'first' }] })
    await upstream.waitFor((fake) => fake.active === 1)
    const controller = new AbortController()
    const abandoned = agents.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'abandoned' }] }, { signal: controller.signal }).catch((error: unknown) => error)
    const third = agents.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'third' }] })
    await new Promise((resolve) => setTimeout(resolve, 30))
    controller.abort()
    await abandoned
    await Promise.all([first, third])
    const contents = upstream.requests.filter((request) => request.path === '/v1/chat/completions').map((request) => (request.body as { messages: Array<{ content: string }> }).messages[0]?.content)
    expect(contents).toEqual(['first', 'third'])
  })

  it("maxRunning also holds for the key's tool-loop requests (execute mode) and its agents' model calls", async () => {
    tools = await startFakeToolServer({ tools: { get_time: { schema: { type: 'object', properties: {} }, handler: () => ({ time: 'noon' }) } } })
    upstream = await startFakeUpstream({ slots: 2, tokens: 2, tokenDelayMs: 60 })
    const agent: Agent = async ({ chat }) => {
      const answers = await Promise.all([1, 2].map((n) => chat({ model: 'm', messages: [{ role: 'user', content: `part ${n}` }] })))
      return answers.map((answer) => answer.choices[0]?.message.content).join(' | ')
    }
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, slots: 2 }], toolServers: [tools.url], agents: { agent }, apiKeys: [{ key: 'agent-key-0002', maxRunning: 1 }] })
    const agents = clientWith('agent-key-0002')
    // Two execute-mode requests of the capped key: one at a time upstream.
    await Promise.all([1, 2].map((n) => agents.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `loop ${n}` }] })))
    expect(upstream.maxConcurrency).toBe(1)
    upstream.reset()
    // The agent's two parallel model calls: one at a time too.
    const answer = await agents.chat.completions.create({ model: 'agent', messages: [{ role: 'user', content: 'go' }] })
    expect(answer.choices[0]?.message.content).toBe('tok0 tok1 | tok0 tok1')
    expect(upstream.maxConcurrency).toBe(1)
  })

  it('refuses a maxRunning that is not a whole number >= 1', async () => {
    upstream = await startFakeUpstream()
    await expect(startQueuegate({ upstreams: [upstream.url], apiKeys: [{ key: 'agent-key-0002', maxRunning: 0 }] })).rejects.toThrow(/maxRunning: expected a whole number >= 1/)
  })

  it('refuses keys too short to be keys at construction', async () => {
    upstream = await startFakeUpstream()
    await expect(startQueuegate({ upstreams: [upstream.url], apiKeys: ['short'] })).rejects.toThrow(/apiKeys\[0\]: expected a key of at least 8 characters/)
  })
})

describe('upstream keys', () => {
  it('an upstream\'s apiKey is sent as its Bearer token, the client\'s Authorization never', async () => {
    upstream = await startFakeUpstream({ tokens: 1, apiKey: 'upstream-secret' })
    gateway = await startQueuegate({ upstreams: [{ url: upstream.url, apiKey: 'upstream-secret' }] })
    const answer = await clientWith('client-own-key').chat.completions.create({ model: 'm', messages })
    expect(answer.choices[0]?.message.content).toBe('tok0')
    const chat = upstream.requests.find((request) => request.path === '/v1/chat/completions')
    expect(chat?.headers.authorization).toBe('Bearer upstream-secret')
  })
})

describe('the model field', () => {
  it('may be the model object from /v1/models: its id is meant', async () => {
    upstream = await startFakeUpstream({ tokens: 1 })
    gateway = await startQueuegate({ upstreams: [upstream.url] })
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: { id: 'fake-model', object: 'model' }, messages }) })
    expect(response.status).toBe(200)
    await response.arrayBuffer()
    expect(upstream.requests.find((request) => request.path === '/v1/chat/completions')?.body).toMatchObject({ model: 'fake-model' })
    const bad = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 42, messages }) })
    expect(bad.status).toBe(400)
  })
})
