import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream, RecordedRequest } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

const label = (request: RecordedRequest): unknown => (request.body as { messages?: Array<{ content?: unknown }> } | undefined)?.messages?.[0]?.content

describe('queue notices and job ETAs', () => {
  let upstream: FakeUpstream | undefined
  let gateway: TestGateway | undefined
  afterEach(async () => {
    await gateway?.close()
    await upstream?.close()
  })

  it('the first notice carries the ETA once one job has finished and names the model a request without one runs on; eta_ms is whole and shrinks while the job waits', async () => {
    upstream = await startFakeUpstream({ respond: (request) => (label(request) === 'blocker' ? { tokens: 10, tokenDelayMs: 100 } : { tokens: 5, tokenDelayMs: 100 }) })
    gateway = await startQueuegate({ upstreams: [{ url: `${upstream.url}/v1`, slots: 1 }], discoverModels: true, notifyAfterMs: 0 })
    const url = `${gateway.url}/v1/chat/completions`
    const post = (content: string, stream = false): Promise<Response> => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream, messages: [{ role: 'user', content }] }) })
    // One job finishes: a service time is known (about 500 ms).
    expect((await post('warm-up')).status).toBe(200)
    const blocker = post('blocker')
    await upstream.waitFor((u) => u.active === 1)
    const waiting = await post('waiting', true)
    const id = waiting.headers.get('x-queuegate-job-id')
    const reader = (waiting.body as ReadableStream<Uint8Array>).getReader()
    const first = new TextDecoder().decode((await reader.read()).value)
    const notice = JSON.parse(first.slice(first.indexOf('data: ') + 6, first.indexOf('\n\n'))) as { model: string; choices: Array<{ delta: { reasoning_content?: string } }> }
    expect(notice.choices[0]?.delta.reasoning_content).toMatch(/^Queued: position 1 of 1, about \d+s\n$/)
    expect(notice.model).toBe('fake-model')
    const eta = async (): Promise<unknown> => ((await (await fetch(`${gateway!.url}/v1/jobs/${id}`)).json()) as { eta_ms: unknown }).eta_ms
    const before = await eta()
    await new Promise((resolve) => setTimeout(resolve, 200))
    const later = await eta()
    expect(Number.isInteger(before) && Number.isInteger(later)).toBe(true)
    expect(later as number).toBeLessThan(before as number)
    await reader.cancel()
    expect((await blocker).status).toBe(200)
  })
})
