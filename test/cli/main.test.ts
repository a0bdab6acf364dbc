import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import type { RunningServer } from 'queuegate/server'
import { startFakeUpstream } from '../e2e/fake-upstream.js'
import type { FakeUpstream } from '../e2e/fake-upstream.js'
import { withTimeout } from '../helpers/with-timeout.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const nodeBin = process.execPath

describe('queuegate CLI', () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function fake(options: Parameters<typeof startFakeUpstream>[0] = {}): Promise<FakeUpstream> {
    const upstream = await startFakeUpstream(options)
    cleanups.push(() => upstream.close())
    return upstream
  }

  it('runs in-process from argv and env, and logs one line per request', async () => {
    const upstream = await fake({ tokens: 2 })
    const lines: string[] = []
    const server = (await main({
      argv: ['node', 'queuegate', '--port', '0', '--log-level', 'info'],
      env: { LLM_UPSTREAMS: `${upstream.url}/v1` },
      log: (line) => lines.push(line),
      handleSignals: false,
    })) as RunningServer
    cleanups.push(() => server.close({ graceMs: 0 }))
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 })
    const completion = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] })
    expect(completion.choices[0]?.message.content).toBe('tok0 tok1')
    expect(lines[0]).toMatch(/info queuegate listening on http:\/\/127\.0\.0\.1:\d+ -> http:\/\/127\.0\.0\.1:\d+\/v1/)
    const requestLine = lines.find((line) => line.includes('POST /v1/chat/completions'))
    expect(requestLine).toMatch(/info job=[0-9a-f]{32} POST \/v1\/chat\/completions status=200 upstream=http:\/\/127\.0\.0\.1:\d+\/v1 model=fake-model kind=interactive stream=false slot=- wait_ms=\d+ ttft_ms=- total_ms=\d+ tokens=2 tokens_from=usage/)
  })

  function startCli(args: string[], env: Record<string, string> = {}): { child: ChildProcessWithoutNullStreams; stderr: () => string; url: Promise<string>; exited: Promise<number | null> } {
    const child = spawn(nodeBin, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } })
    let stderr = ''
    let resolveUrl: (url: string) => void = () => {}
    const url = new Promise<string>((resolve) => {
      resolveUrl = resolve
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (text: string) => {
      stderr += text
      const match = /listening on (http:\/\/[^\s]+)/.exec(stderr)
      if (match?.[1] !== undefined) resolveUrl(match[1])
    })
    child.stdout.resume()
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL')
    })
    return { child, stderr: () => stderr, url, exited }
  }

  it('fails at start with one line naming a bad setting', async () => {
    const cli = startCli(['--upstreams', 'http://127.0.0.1:9/v1', '--port', 'eighty'])
    expect(await withTimeout(cli.exited, 15_000, 'exit')).toBe(2)
    expect(cli.stderr().trim()).toBe('queuegate: --port: expected a whole number >= 0, got "eighty"')
    const badUrl = startCli(['--upstreams', 'ftp://gpu1/v1'])
    expect(await withTimeout(badUrl.exited, 15_000, 'exit')).toBe(2)
    expect(badUrl.stderr().trim()).toBe('queuegate: upstreams: "ftp://gpu1/v1" must be an http:// or https:// URL')
    const noUpstreams = startCli([])
    expect(await withTimeout(noUpstreams.exited, 15_000, 'exit')).toBe(2)
    expect(noUpstreams.stderr()).toMatch(/^queuegate: --upstreams: required/)
  })

  it('on SIGTERM lets the running request finish, answers the waiting one 503, and exits 0', async () => {
    const upstream = await fake({ slots: 4, tokens: 10, tokenDelayMs: 30 })
    const cli = startCli(['--upstreams', upstream.url, '--port', '0', '--slots', '1'])
    const url = await withTimeout(cli.url, 15_000, 'listening line')
    const body = JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] })
    const json = { 'content-type': 'application/json' }
    const running = fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: json, body })
    await upstream.waitFor((u) => u.active === 1)
    const waiting = fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: json, body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'other' }] }) })
    await withTimeout(
      (async () => {
        for (let attempt = 0; attempt < 100; attempt += 1) {
          const health = (await (await fetch(`${url}/healthz`)).json()) as { queued: number }
          if (health.queued === 1) return
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        throw new Error('the second request never queued')
      })(),
      5000,
      'queued',
    )
    cli.child.kill('SIGTERM')
    const [first, second] = await Promise.all([running, waiting])
    expect(first.status).toBe(200)
    expect((await first.json()).choices[0].message.content).toContain('tok9')
    expect(second.status).toBe(503)
    expect((await second.json()).error.code).toBe('shutting_down')
    expect(await withTimeout(cli.exited, 15_000, 'exit')).toBe(0)
    expect(cli.stderr()).toMatch(/SIGTERM: no new requests/)
  })

  it('--log-format json writes one object per line; --metrics-port serves /metrics on its own port, not the gateway\'s', async () => {
    const upstream = await fake({ tokens: 2 })
    const lines: string[] = []
    const server = (await main({
      argv: ['node', 'queuegate', '--port', '0', '--log-format', 'json', '--log-level', 'debug', '--metrics-port', '0'],
      env: { LLM_UPSTREAMS: `${upstream.url.replace('http://', 'http://user:cli-url-secret@')}/v1` },
      log: (line) => lines.push(line),
      handleSignals: false,
    })) as RunningServer
    cleanups.push(() => server.close({ graceMs: 0 }))
    const records = (): Array<Record<string, unknown>> => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    const metricsLine = records().find((record) => typeof record.msg === 'string' && record.msg.startsWith('metrics on '))
    const metricsUrl = /metrics on (\S+)/.exec(String(metricsLine?.msg))?.[1] as string
    expect(metricsUrl).not.toContain(server.url)
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 })
    await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-chat-id': 'cli-chat' } })
    await withTimeout(
      (async () => {
        while (!records().some((record) => record.msg === 'request')) await new Promise((resolve) => setTimeout(resolve, 10))
      })(),
      5000,
      'request line',
    )
    expect(records().find((record) => record.msg === 'request')).toMatchObject({ level: 'info', method: 'POST', path: '/v1/chat/completions', status: 200, model: 'fake-model', kind: 'interactive', tokens: 2 })
    // The conversation's first turn (the CLI's dashboard has conversation keys computed even for one upstream).
    expect(records().find((record) => record.msg === 'route')).toMatchObject({ level: 'debug', sticky: 'new', slot: null })
    expect(lines.join('\n')).not.toContain('cli-url-secret')
    const scraped = await fetch(metricsUrl)
    expect(scraped.status).toBe(200)
    expect(await scraped.text()).toMatch(/^queuegate_requests_total\{.*model="fake-model".*\} 1$/m)
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404)
  })

  it('logs a failure after the stream started at warn (issue 12), and a key by its name, never the key', async () => {
    const upstream = await fake({ chunks: [{ content: 'partial' }, { error: { code: 500, message: 'model crashed' } }] })
    const lines: string[] = []
    const server = (await main({
      argv: ['node', 'queuegate', '--port', '0', '--log-level', 'info', '--api-key', 'cli-key-00001'],
      env: { LLM_UPSTREAMS: `${upstream.url}/v1` },
      log: (line) => lines.push(line),
      handleSignals: false,
    })) as RunningServer
    cleanups.push(() => server.close({ graceMs: 0 }))
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'cli-key-00001', maxRetries: 0 })
    const stream = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], stream: true })
    await expect((async () => {
      for await (const chunk of stream) void chunk
    })()).rejects.toThrow(/model crashed/)
    await withTimeout(
      (async () => {
        while (!lines.some((line) => line.includes('POST /v1/chat/completions'))) await new Promise((resolve) => setTimeout(resolve, 10))
      })(),
      5000,
      'request line',
    )
    const requestLine = lines.find((line) => line.includes('POST /v1/chat/completions')) as string
    expect(requestLine).toMatch(/ warn job=.* status=200 .*key=key-1 error=".*model crashed/)
    expect(lines.join('\n')).not.toContain('cli-key-00001')
  })

  it.skipIf(!existsSync(`${root}/dist/cli/index.js`))('bin/queuegate.js prints its version and help (built package)', async () => {
    const run = (args: string[]): Promise<{ code: number | null; stdout: string }> =>
      new Promise((resolve) => {
        const child = spawn(nodeBin, ['bin/queuegate.js', ...args], { cwd: root })
        let stdout = ''
        child.stdout.setEncoding('utf8')
        child.stdout.on('data', (text: string) => {
          stdout += text
        })
        child.once('exit', (code) => resolve({ code, stdout }))
      })
    const version = await withTimeout(run(['--version']), 15_000, 'version')
    expect(version.code).toBe(0)
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
    const help = await withTimeout(run(['--help']), 15_000, 'help')
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--upstreams <urls>')
    expect(help.stdout).toContain('--queue-notify <mode>')
  })
})
