/**
 * Bad input from clients (issue 12): each gets a 400 that names the problem, never a 500 or a 502
 * blaming the upstream, and the path comes from the request target alone.
 */
import http from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

let upstreams: FakeUpstream[] = []
let gateway: TestGateway | undefined

afterEach(async () => {
  await gateway?.close()
  await Promise.all(upstreams.map((upstream) => upstream.close()))
  gateway = undefined
  upstreams = []
})

/** A raw GET, so that the Host header can be anything. */
function rawGet(url: string, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url)
    const request = http.request({ host: target.hostname, port: target.port, path, method: 'GET', headers: { host } }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (part: string) => (body += part))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
    })
    request.on('error', reject)
    request.end()
  })
}

describe('bad input from clients', () => {
  it('a malformed percent escape in /v1/jobs/{id} is a 400, and the Host header cannot change the path', async () => {
    upstreams.push(await startFakeUpstream())
    gateway = await startQueuegate({ upstreams: [upstreams[0]!.url] })
    const bad = await fetch(`${gateway.url}/v1/jobs/%E0%A4%A`)
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_job_id', type: 'invalid_request_error' } })
    const tricked = await rawGet(gateway.url, '/v1/jobs/%41', 'x/healthz#')
    expect(tricked.status).toBe(404)
    expect(JSON.parse(tricked.body)).toMatchObject({ error: { code: 'job_not_found' } })
  })

  it('a body nested thousands of levels deep is a 400 invalid_body where the gateway walks it, and the gateway keeps serving', async () => {
    upstreams.push(await startFakeUpstream(), await startFakeUpstream())
    // Two upstreams: the thread key hashes the first messages, which walks them.
    gateway = await startQueuegate({ upstreams: upstreams.map((upstream) => upstream.url) })
    const deep = '['.repeat(20_000) + ']'.repeat(20_000)
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"model":"fake-model","messages":[{"role":"user","content":${deep}}]}`,
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_body', message: 'The request body is nested too deeply.' } })
    expect(upstreams.flatMap((upstream) => upstream.requests)).toHaveLength(0)
    const fine = await gateway.client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] })
    expect(fine.choices[0]?.message.content).toContain('tok0')
  })
})
