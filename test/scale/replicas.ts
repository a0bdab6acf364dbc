/**
 * Gateway replicas as real processes (`src/cli/index.ts` through tsx, as `queuegate` runs), sharing
 * their scheduler state through a test Redis.
 * @module
 */
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import OpenAI from 'openai'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** A running replica. */
export interface Replica {
  readonly url: string
  readonly client: OpenAI
  readonly child: ChildProcessWithoutNullStreams
  /** Everything it logged so far. */
  log(): string
  /** `GET /healthz`. */
  health(): Promise<{ queued: number; running: number; shared?: { mode: string; replicas: number }; workers: Array<{ running: number; queued: number }> }>
  /** SIGKILL, no goodbye. */
  kill(): Promise<void>
  close(): Promise<void>
}

/** Starts `queuegate --redis …` and waits (15 s at most) until it listens. */
export async function startReplica(args: string[]): Promise<Replica> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', '--port', '0', '--no-dashboard', '--no-metrics', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '' } })
  let output = ''
  child.stdout.resume()
  child.stderr.setEncoding('utf8')
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the replica did not start within 15 s: ${output}`)), 15_000)
    child.stderr.on('data', (text: string) => {
      output = (output + text).slice(-200_000)
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match?.[1] !== undefined) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the replica exited with ${code}: ${output}`))
    })
  })
  const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())))
  const kill = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await exited
  }
  return {
    url,
    child,
    client: new OpenAI({ baseURL: `${url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 30_000 }),
    log: () => output,
    async health() {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) })
      return (await response.json()) as Awaited<ReturnType<Replica['health']>>
    },
    kill,
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** Polls `check` every 20 ms until it returns true, for `timeoutMs` at most. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Streams one chat answer; resolves with its text. */
export async function streamChat(client: OpenAI, content: string, headers: Record<string, string> = {}): Promise<string> {
  const stream = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content }], stream: true }, { headers })
  let text = ''
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
  return text
}
