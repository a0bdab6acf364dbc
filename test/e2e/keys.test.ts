/**
 * Keys on both sides (issue 11): gateway keys clients must send, and the upstream's own key, never
 * the client's, sent upstream.
 */
import { afterEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

const messages = [{ role: 'user' as const, content: 'hi' }]
let upstream: FakeUpstream | undefined
let gateway: TestGateway | undefined

afterEach(async () => {
  await gateway?.close()
  await upstream?.close()
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
    expect(await job.json()).toMatchObject({ kind: 'batch' })
    const event = await gateway.waitForEvent((item) => item.type === 'request-end')
    expect(event).toMatchObject({ key: 'agents' })
    expect(JSON.stringify(gateway.events)).not.toContain('agent-key-0002')
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
