/**
 * Internal errors (issue 12): a request that fails on a bug in the gateway (a stage or a transform
 * that throws) answers 500 `internal_error` (or, once a stream started, the error event with that
 * code), is never blamed on the upstream, and is reported with its stack (the CLI logs it at `error`).
 */
import { APIError } from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { addTransform } from '../../src/gateway/call-plan.js'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { hello, startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

let upstream: FakeUpstream | undefined
let gateway: TestGateway | undefined

afterEach(async () => {
  await gateway?.close()
  await upstream?.close()
  gateway = undefined
  upstream = undefined
})

describe('internal errors', () => {
  it('a stage that throws a TypeError: 500 internal_error, an internal-error event with the stack, and the gateway keeps serving', async () => {
    upstream = await startFakeUpstream({ tokens: 1 })
    const broken = { name: 'broken', prepare: (plan: { body: Record<string, unknown> }) => void (plan.body.messages as unknown as { nope: () => void }).nope() }
    gateway = await startQueuegate({ upstreams: [upstream.url], _internal: { stages: (defaults) => [...defaults, broken as never] } })
    const error = await gateway.client.chat.completions.create(hello).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(APIError)
    expect(error).toMatchObject({ status: 500, code: 'internal_error' })
    const reported = await gateway.waitForEvent((event) => event.type === 'internal-error')
    expect(reported).toMatchObject({ message: expect.stringContaining('nope') })
    expect((reported as { stack?: string }).stack).toMatch(/TypeError[\s\S]*at /)
  })

  it('a transform that throws mid-stream: the error event says internal_error, not the upstream, and the call is not counted against it', async () => {
    upstream = await startFakeUpstream({ tokens: 4 })
    let seen = 0
    const throwing = {
      name: 'throwing-transform',
      prepare: (plan: Parameters<typeof addTransform>[0]) =>
        addTransform(plan, {
          stream: (onChunk) => ({
            feed(chunk) {
              if (++seen === 3) throw new TypeError('transform bug')
              onChunk(chunk)
            },
            flush() {},
          }),
          completion: (completion) => completion,
        }),
    }
    gateway = await startQueuegate({ upstreams: [upstream.url], _internal: { stages: (defaults) => [...defaults, throwing as never] } })
    const stream = await gateway.client.chat.completions.create({ ...hello, stream: true })
    const failure = await (async () => {
      for await (const chunk of stream) void chunk
    })().catch((caught: unknown) => caught)
    expect(failure).toBeInstanceOf(APIError)
    expect(String((failure as Error).message)).toContain('Internal error: transform bug')
    expect(String((failure as Error).message)).not.toContain('Upstream')
    expect(await gateway.waitForEvent((event) => event.type === 'internal-error')).toMatchObject({ message: 'transform bug' })
    const health = (await (await fetch(`${gateway.url}/healthz`)).json()) as { workers: Array<{ failures: number }> }
    expect(health.workers[0]?.failures).toBe(0)
  })
})
