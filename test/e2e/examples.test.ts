import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { listen } from '../helpers/listen.js'
import { withTimeout } from '../helpers/with-timeout.js'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './fake-upstream.js'

interface Example {
  start(options: { upstream: string; port: number }): Promise<{ url: string; baseURL: string; close(): Promise<void> }>
}

const messages = [{ role: 'user' as const, content: 'hi' }]
const repository = fileURLToPath(new URL('../../', import.meta.url))

describe('examples', () => {
  let upstream: FakeUpstream | undefined
  let running: { close(): Promise<void> } | undefined
  afterEach(async () => {
    await running?.close()
    await upstream?.close()
    running = undefined
    upstream = undefined
  })

  it.each(['node-http', 'express'])('examples/%s starts and answers the openai client', async (name) => {
    upstream = await startFakeUpstream({ tokens: 3 })
    const example = (await import(`../../examples/${name}/server.mjs`)) as Example
    const started = await example.start({ upstream: `${upstream.url}/v1`, port: 0 })
    running = started
    const client = new OpenAI({ baseURL: started.baseURL, apiKey: 'x', maxRetries: 0 })
    const completion = await client.chat.completions.create({ model: 'fake-model', messages })
    expect(completion.choices[0]?.message.content).toBe('tok0 tok1 tok2')
    let streamed = ''
    for await (const chunk of await client.chat.completions.create({ model: 'fake-model', messages, stream: true })) {
      streamed += chunk.choices[0]?.delta.content ?? ''
    }
    expect(streamed).toBe('tok0 tok1 tok2')
    if (name === 'express') {
      expect(started.baseURL).toBe(`${started.url}/llm/v1`)
      const hello = await fetch(`${started.url}/hello`)
      expect(await hello.json()).toEqual({ hello: 'from express' })
      const note = await fetch(`${started.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hi"}' })
      expect(await note.json()).toEqual({ saved: { text: 'hi' } })
    }
  })
})

describe('README', () => {
  const upstreams: FakeUpstream[] = []
  let child: ChildProcess | undefined
  let directory: string | undefined
  afterEach(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    child = undefined
    await Promise.all(upstreams.splice(0).map((fake) => fake.close()))
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true })
    directory = undefined
  })

  /** `text` with `from` replaced by `to`, failing when the README no longer says `from`. */
  function replaceOnce(text: string, from: string, to: string): string {
    expect(text, `the snippet should contain ${JSON.stringify(from)}`).toContain(from)
    return text.replace(from, to)
  }

  it('the "As a library" snippet runs as written: a server the openai client can use, a direct call, and a clean exit on Ctrl-C', async () => {
    const readme = readFileSync(join(repository, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## As a library'))
    const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
    // Only the addresses change: the two GPU servers become fake upstreams, port 8000 a free port.
    const gpu1 = await startFakeUpstream({ tokens: 3 })
    const gpu2 = await startFakeUpstream({ tokens: 3, models: ['qwen3:8b'] })
    upstreams.push(gpu1, gpu2)
    const free = await listen(() => {})
    const port = free.port
    await free.close()
    let code = replaceOnce(snippet, "'http://gpu1:8080/v1'", `'${gpu1.url}/v1'`)
    code = replaceOnce(code, "'http://gpu2:11434/v1'", `'${gpu2.url}/v1'`)
    code = replaceOnce(code, '.listen(8000,', `.listen(${port},`)
    directory = mkdtempSync(join(tmpdir(), 'queuegate-readme-'))
    const file = join(directory, 'snippet.mts')
    writeFileSync(file, code)

    // Run from the repository, so `queuegate` resolves to src/ through tsconfig's paths.
    const started = spawn(process.execPath, ['--import', 'tsx', file], { cwd: repository, stdio: ['ignore', 'pipe', 'pipe'] })
    child = started
    let stdout = ''
    let stderr = ''
    started.stdout?.setEncoding('utf8').on('data', (part: string) => (stdout += part))
    started.stderr?.setEncoding('utf8').on('data', (part: string) => (stderr += part))
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => started.once('exit', (code, signal) => resolve({ code, signal })))

    // The direct call prints its status and body.
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (stdout.includes('\n')) resolve()
          else if (started.exitCode !== null) reject(new Error(`the snippet exited: ${stderr}`))
          else setTimeout(check, 20)
        }
        check()
      }),
      15_000,
      'the direct call',
    )
    expect(stdout).toMatch(/^200 /)
    expect(stdout).toContain('tok0 tok1 tok2')

    // The server answers the openai client.
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0, timeout: 10_000 })
    const completion = await client.chat.completions.create({ model: 'qwen3:8b', messages })
    expect(completion.choices[0]?.message.content).toBe('tok0 tok1 tok2')
    expect(stderr).toMatch(/\/v1\/chat\/completions 200 in \d+ ms/)

    // Ctrl-C: the server and the gateway close, and nothing keeps the process alive.
    started.kill('SIGINT')
    expect(await withTimeout(exited, 15_000, `exit after SIGINT (stderr: ${stderr})`)).toEqual({ code: 0, signal: null })
  }, 40_000)
})
