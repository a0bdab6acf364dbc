/**
 * Issue 12: `/healthz` answered `ok: true` with the upstream `healthy: true` while the only
 * upstream was down and every request got 502; with two upstreams and one failing at once,
 * 192 of 200 requests failed. Active probes (short interval, real clock, bounded waits) and
 * passive ejection, end to end with the official openai client and the fake llama.cpp.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { hello, startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

interface Worker {
  upstream: string
  healthy: boolean
  state: string
  failures: number
  last_error: string | null
  last_check: string | null
}

interface Health {
  ok: boolean
  upstreams: number
  workers: Worker[]
}

/**
 * A TCP proxy on a fixed port in front of a fake upstream, that can go down (connection
 * refused, every socket destroyed) and come back on the same port.
 */
async function startSwitchableProxy(target: string): Promise<{ url: string; down(): Promise<void>; up(): Promise<void> }> {
  const { port: targetPort } = new URL(target)
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  let port = 0
  const up = async (): Promise<void> => {
    const listening = net.createServer((socket) => {
      const upstream = net.connect(Number(targetPort), '127.0.0.1')
      for (const end of [socket, upstream]) {
        sockets.add(end)
        end.on('close', () => sockets.delete(end))
        end.on('error', () => {
          socket.destroy()
          upstream.destroy()
        })
      }
      socket.pipe(upstream).pipe(socket)
    })
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject)
      listening.listen(port, '127.0.0.1', () => resolve())
    })
    port = (listening.address() as AddressInfo).port
    server = listening
  }
  const down = async (): Promise<void> => {
    const closing = server
    server = undefined
    if (closing === undefined) return
    const closed = new Promise<void>((resolve) => closing.close(() => resolve()))
    for (const socket of sockets) socket.destroy()
    await closed
  }
  await up()
  return { url: `http://127.0.0.1:${port}`, down, up }
}

/** Polls `read` until `done` holds; fails after `timeoutMs` with the last value. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last: ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('health that tells the truth (issue 12)', () => {
  const upstreams: FakeUpstream[] = []
  const cleanups: Array<() => Promise<void>> = []
  let gateway: TestGateway | undefined

  afterEach(async () => {
    await gateway?.close()
    gateway = undefined
    for (const cleanup of cleanups.splice(0)) await cleanup()
    await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()))
  })

  const healthz = async (): Promise<Health> => (await (await fetch(`${gateway!.url}/healthz`)).json()) as Health
  const readyz = async (): Promise<{ status: number; body: unknown }> => {
    const response = await fetch(`${gateway!.url}/readyz`)
    return { status: response.status, body: await response.json() }
  }

  it('an upstream that is down at start is known at once: the first probes run at start, not one interval later', async () => {
    const fake = await startFakeUpstream()
    upstreams.push(fake)
    const proxy = await startSwitchableProxy(fake.url)
    await proxy.down()
    // A long interval: only the round at start can find it down within the test's deadline.
    gateway = await startQueuegate({ upstreams: [`${proxy.url}/v1`], healthIntervalMs: 600_000 })
    const down = await until(healthz, (health) => !health.ok, 3000)
    expect(down.workers[0]).toMatchObject({ healthy: false, state: 'ejected' })
    expect((await readyz()).status).toBe(503)
  })

  it('the only upstream down: /healthz ok:false with its state and last error, /readyz 503; both recover when it comes back', async () => {
    const fake = await startFakeUpstream({ tokens: 2 })
    upstreams.push(fake)
    const proxy = await startSwitchableProxy(fake.url)
    cleanups.push(() => proxy.down())
    gateway = await startQueuegate({ upstreams: [`${proxy.url}/v1`], healthIntervalMs: 50 })

    const before = await until(healthz, (health) => health.workers[0]?.state === 'healthy')
    expect(before).toMatchObject({ ok: true, upstreams: 1, workers: [{ upstream: `${proxy.url}/v1`, healthy: true, state: 'healthy', last_error: null }] })
    expect(Date.parse(before.workers[0]?.last_check ?? '')).not.toBeNaN()
    expect(await readyz()).toEqual({ status: 200, body: { ready: true } })
    // The probes are GETs of llama.cpp's /health at the upstream's origin.
    expect(fake.requests.some((request) => request.method === 'GET' && request.path === '/health')).toBe(true)

    await proxy.down()
    // A probe in flight when the proxy went down fails as a reset ("closed the connection"); the next ones as refused.
    const down = await until(healthz, (health) => !health.ok && /could not be reached/.test(health.workers[0]?.last_error ?? ''))
    expect(down.workers[0]).toMatchObject({ healthy: false, state: 'ejected', last_error: expect.stringMatching(/could not be reached/) })
    expect(Date.parse(down.workers[0]?.last_check ?? '')).not.toBeNaN()
    const notReady = await readyz()
    expect(notReady.status).toBe(503)
    expect(notReady.body).toMatchObject({ error: { type: 'server_error', code: 'no_healthy_upstream', message: expect.any(String) } })
    expect(await gateway.waitForEvent((event) => event.type === 'upstream-state' && event.state === 'ejected')).toMatchObject({ upstream: `${proxy.url}/v1` })
    // Requests still try the only upstream (and get the 502 they always got).
    await expect(gateway.client.chat.completions.create(hello)).rejects.toMatchObject({ status: 502 })

    await proxy.up()
    expect(await until(readyz, (ready) => ready.status === 200)).toEqual({ status: 200, body: { ready: true } })
    expect(await healthz()).toMatchObject({ ok: true, workers: [{ healthy: true, state: 'healthy' }] })
    await gateway.waitForEvent((event) => event.type === 'upstream-state' && event.state === 'healthy')
    const answer = await gateway.client.chat.completions.create(hello)
    expect(answer.choices[0]?.message.content).toBe('tok0 tok1')
  })

  it('two upstreams, one answering 500 to every call: once it is ejected the other serves, and its failures are retried there (it was 192 of 200 failed)', async () => {
    const bad = await startFakeUpstream({ slots: 4, failure: { kind: 'status', status: 500 } })
    const good = await startFakeUpstream({ slots: 4, tokens: 1 })
    upstreams.push(bad, good)
    // The bad one's /health says 200 (as a llama.cpp whose model answers 500 may): each good
    // probe brings it back on probation, and its next failure ejects it again.
    gateway = await startQueuegate({ upstreams: [{ url: bad.url, slots: 4 }, { url: good.url, slots: 4 }], healthIntervalMs: 1000 })
    const client = gateway.client
    let failed = 0
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < 200) {
        const index = next++
        await client.chat.completions.create({ ...hello, messages: [{ role: 'user', content: `request ${index}` }] }).catch(() => {
          failed += 1
        })
      }
    }
    await Promise.all(Array.from({ length: 8 }, () => worker()))
    expect(await gateway.waitForEvent((event) => event.type === 'upstream-state' && event.state === 'ejected')).toMatchObject({ upstream: `${bad.url}/v1` })
    const badCalls = bad.requests.filter((request) => request.path === '/v1/chat/completions').length
    const goodCalls = good.requests.filter((request) => request.path === '/v1/chat/completions').length
    // Every call the bad one failed was retried on the good one (issue 12's retries): no client saw a failure.
    expect(failed).toBe(0)
    expect(goodCalls).toBe(200)
    // Far fewer than half went to the bad one: the first few in flight, then about one per probe interval.
    expect(badCalls).toBeLessThan(25)
    const health = await healthz()
    expect(health.workers[0]).toMatchObject({ upstream: `${bad.url}/v1`, last_error: expect.stringMatching(/failed with 500/) })
  })
})
