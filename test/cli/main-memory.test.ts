/**
 * The CLI with chat memory: `--memory local --memory-file PATH` keeps the notes in the file, and a
 * restarted server injects them (issue 10).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import type { RunningServer } from 'queuegate/server'
import { startFakeUpstream } from '../e2e/fake-upstream.js'
import type { FakeUpstream } from '../e2e/fake-upstream.js'

let upstream: FakeUpstream | undefined
let server: RunningServer | undefined
let folder: string | undefined

afterEach(async () => {
  await server?.close({ graceMs: 0 })
  await upstream?.close()
  if (folder !== undefined) await rm(folder, { recursive: true, force: true })
  server = undefined
  upstream = undefined
  folder = undefined
})

describe('queuegate CLI with chat memory', () => {
  it('--memory local --memory-file: notes written to the file survive a restart and are injected', async () => {
    folder = await mkdtemp(join(tmpdir(), 'qg-cli-memory-'))
    const file = join(folder, 'memory.jsonl')
    upstream = await startFakeUpstream({ chunks: [{ content: 'Noted.' }] })
    const lines: string[] = []
    const start = async (): Promise<OpenAI> => {
      server = (await main({ argv: ['node', 'queuegate', '--port', '0', '--memory', 'local', '--memory-file', file], env: { LLM_UPSTREAMS: `${upstream!.url}/v1`, HEALTH_INTERVAL_SEC: '0', MODEL_DISCOVERY: 'false' }, log: (line) => lines.push(line), handleSignals: false })) as RunningServer
      return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 10_000 })
    }
    let client = await start()
    expect(lines.some((line) => line.includes(`info chat memory: local (log ${file})`))).toBe(true)
    await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'My locker number is 4711.' }] }, { headers: { 'X-Chat-Id': 'cli-1' } })
    // Closing waits for the turn being stored and writes the log.
    for (let attempt = 0; attempt < 100; attempt++) {
      const notes = ((await (await fetch(`${server!.url}/v1/memory/cli-1`)).json()) as { data: unknown[] }).data
      if (notes.length === 2) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await server!.close({ graceMs: 0 })
    server = undefined
    expect(await readFile(file, 'utf8')).toContain('My locker number is 4711.')
    client = await start()
    await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'What is my locker number?' }] }, { headers: { 'X-Chat-Id': 'cli-1' } })
    const sent = upstream.requests.filter((request) => request.path === '/v1/chat/completions').at(-1)?.body as { messages: Array<{ role: string; content: string }> }
    expect(sent.messages[0]?.content).toContain('My locker number is 4711.')
  })
})
