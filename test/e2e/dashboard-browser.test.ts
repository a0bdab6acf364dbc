/**
 * The dashboard in a real browser: headless Chromium (Debian's `chromium`, or $CHROMIUM_PATH)
 * driven by playwright-core, against a gateway with a fake upstream and one that is down. In CI
 * (`CI` set) a missing Chromium fails this file; elsewhere it is skipped with the reason.
 * `QUEUEGATE_SCREENSHOT=docs/dashboard.png` writes the README's screenshot from the same run.
 * @module
 */
import { existsSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'
import { startQueuegate } from './start-queuegate.js'
import type { TestGateway } from './start-queuegate.js'

/** $CHROMIUM_PATH, else Debian's /usr/bin/chromium, else the first `chromium` on PATH (what .ci/run checks for). */
function findChromium(): string {
  if (process.env.CHROMIUM_PATH !== undefined && process.env.CHROMIUM_PATH !== '') return process.env.CHROMIUM_PATH
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium'
  const onPath = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'chromium')).find((path) => existsSync(path))
  return onPath ?? '/usr/bin/chromium'
}

const CHROMIUM = findChromium()
const haveChromium = existsSync(CHROMIUM)
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false'
const root = fileURLToPath(new URL('../..', import.meta.url))

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as { port: number }
  await new Promise<void>((done) => server.close(() => done()))
  return port
}

if (!haveChromium && inCi) {
  describe('dashboard in a browser', () => {
    it('has Chromium to run in', () => {
      throw new Error(`Chromium is not at ${CHROMIUM} (CI is set, so this fails instead of skipping): apt-get install -y chromium, or set CHROMIUM_PATH`)
    })
  })
}

describe.skipIf(!haveChromium)(`dashboard in a browser${haveChromium ? '' : ` (skipped: no Chromium at ${CHROMIUM}; apt-get install -y chromium or set CHROMIUM_PATH)`}`, () => {
  let upstream: FakeUpstream
  let gateway: TestGateway
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    upstream = await startFakeUpstream({
      slots: 2,
      // A message 'slow' streams 30 tokens 100 ms apart (3 s): long enough to watch it run.
      respond: (request) => {
        const messages = (request.body as { messages?: Array<{ content?: unknown }> } | undefined)?.messages
        return messages?.[0]?.content === 'slow' ? { tokens: 30, tokenDelayMs: 100 } : { tokens: 12, tokenDelayMs: 5 }
      },
    })
    gateway = await startQueuegate({
      upstreams: [
        { url: `${upstream.url}/v1`, id: 'gpu-a', slots: 2 },
        // Nothing listens there: the probes eject it. It serves another model, so no job is sent its way.
        { url: `http://127.0.0.1:${await closedPort()}/v1`, id: 'gpu-b', slots: 2, models: ['other-model'] },
      ],
      dashboard: true,
      healthIntervalMs: 200,
      notifyAfterMs: 0,
    })
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await gateway?.close()
    await upstream?.close()
  })

  /** Starts a streamed chat; resolves with its job id (the headers come at once: notifyAfterMs 0) and a promise of its end. */
  async function chat(content: string): Promise<{ id: string; done: Promise<string> }> {
    const { data, response } = await gateway.client.chat.completions.create({ model: 'fake-model', stream: true, messages: [{ role: 'user', content }] }).withResponse()
    const id = response.headers.get('x-queuegate-job-id') ?? ''
    const done = (async () => {
      let text = ''
      for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? ''
      return text
    })()
    return { id, done }
  }

  it('shows the slots, the queue, a down upstream and finished jobs, live', async () => {
    // Some history for the recent jobs and the charts.
    for (let i = 0; i < 4; i++) await (await chat(`quick ${i}`)).done
    await page.goto(`${gateway.url}/`)
    await page.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 })
    expect(await page.title()).toBe('queuegate')
    // The upstream nobody listens on is marked once a probe failed.
    await page.waitForSelector('[data-upstream="gpu-b"][data-health="ejected"]', { timeout: 10_000 })
    expect(await page.locator('[data-upstream="gpu-a"]').getAttribute('data-health')).not.toBe('ejected')

    // Two running jobs fill gpu-a's two slots; a third waits at position 1.
    const first = await chat('slow')
    const second = await chat('slow')
    const third = await chat('slow')
    await page.waitForSelector(`[data-upstream="gpu-a"] [data-job="${first.id}"]`, { timeout: 5000 })
    await page.waitForSelector(`[data-upstream="gpu-a"] [data-job="${second.id}"]`, { timeout: 5000 })
    await page.waitForSelector(`[data-queued-job="${third.id}"] [data-position="1"]`, { timeout: 5000 })
    expect(await page.locator('#queue-interactive tbody tr').count()).toBe(1)
    expect(await page.locator('[data-recent-job]').count()).toBe(4)

    const screenshot = process.env.QUEUEGATE_SCREENSHOT
    if (screenshot !== undefined && screenshot !== '') {
      const path = resolve(root, screenshot)
      mkdirSync(dirname(path), { recursive: true })
      await page.screenshot({ path, fullPage: true })
    }

    // The first job ends: it leaves its slot, the waiting one takes a slot and leaves the queue.
    await first.done
    await page.waitForSelector(`[data-job="${first.id}"]`, { state: 'detached', timeout: 5000 })
    await page.waitForSelector(`[data-upstream="gpu-a"] [data-job="${third.id}"]`, { timeout: 5000 })
    await page.waitForSelector(`[data-queued-job="${third.id}"]`, { state: 'detached', timeout: 5000 })
    await page.waitForSelector(`[data-recent-job="${first.id}"]`, { timeout: 5000 })
    await Promise.all([second.done, third.done])
    await page.waitForSelector('[data-upstream="gpu-a"] [data-job=""] >> nth=1', { timeout: 5000 })
    expect(await page.locator('[data-upstream="gpu-a"] .slot:not([data-job=""])').count()).toBe(0)
  }, 60_000)
})
