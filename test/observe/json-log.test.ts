import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { createEventLogger, describeEvent } from '../../src/observe/event-log.js'
import type { RequestEnd } from '../../src/observe/event-log.js'
import { requestLineJson } from '../../src/observe/json-log.js'

describe('JSON logs to a file', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  it('buffers lines and writes them within a second, one object per line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qg-json-log-'))
    dirs.push(dir)
    const path = join(dir, 'log.jsonl')
    const logger = await createEventLogger({ format: 'json', level: 'info', destination: path })
    logger.log('info', 'first', { a: 1 })
    logger.log('debug', 'not at info')
    logger.log('warn', 'second')
    const deadline = Date.now() + 3000
    let text = ''
    while (Date.now() < deadline && text.split('\n').length < 3) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      try {
        text = readFileSync(path, 'utf8')
      } catch {
        text = ''
      }
    }
    const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines).toMatchObject([
      { level: 'info', msg: 'first', a: 1 },
      { level: 'warn', msg: 'second' },
    ])
  })
})

describe('the JSON request line', () => {
  const base: RequestEnd = {
    type: 'request-end',
    jobId: 'chatcmpl-qg-1',
    method: 'POST',
    path: '/v1/chat/completions',
    status: 200,
    upstream: 'http://gpu1:8080/v1',
    model: 'qwen3',
    kind: 'interactive',
    stream: true,
    slot: 1,
    waitMs: 12.4,
    ttftMs: 80.6,
    totalMs: 1200.2,
    tokens: 40,
    tokensFrom: 'usage',
    promptTokens: 300,
    cachedTokens: 250,
    error: undefined,
  }
  const cases: Array<[string, RequestEnd]> = [
    ['a streamed answer with every figure', base],
    ['a whole answer without usage', { ...base, stream: false, slot: undefined, ttftMs: undefined, tokens: 12, tokensFrom: 'chunks', promptTokens: undefined, cachedTokens: undefined }],
    ['a failure before any upstream', { ...base, status: 503, upstream: undefined, model: undefined, kind: 'batch', ttftMs: undefined, tokens: undefined, tokensFrom: undefined, promptTokens: undefined, cachedTokens: undefined, error: 'No upstream: "all" down\n(retry)' }],
    ['an error after the answer started, with a key and a body', { ...base, error: 'upstream cut the stream', key: 'team-a', body: '{"messages":[{"role":"user","content":"héllo \\"there\\" \u2028 ✓"}]}' }],
    ['a client that left', { ...base, status: 499, error: 'client disconnected', tokens: 1, model: 'a "quoted" \\ model' }],
    ['figures that are not numbers', { ...base, waitMs: Number.NaN, totalMs: Number.POSITIVE_INFINITY, tokens: 3 }],
  ]

  it.each(cases)('is the line pino writes for the same fields: %s', async (_, event) => {
    const lines: string[] = []
    const logger = await createEventLogger({ format: 'json', level: 'info', destination: { write: (line: string) => void lines.push(line) } })
    logger.event(event)
    const described = describeEvent(event)!
    expect(lines).toHaveLength(1)
    const written = lines[0]!
    const time = (JSON.parse(written) as { time: number }).time
    // pino itself, with the logger's options, on the fields describeEvent gives.
    const reference: string[] = []
    const logged = pino({ level: 'info', base: undefined, timestamp: () => `,"time":${time}`, formatters: { level: (label) => ({ level: label }) } }, { write: (line: string) => void reference.push(line) })
    logged[described.level as 'info' | 'warn'](described.fields, described.message)
    expect(written).toBe(reference[0])
    expect(written).toBe(requestLineJson(event, described.level as 'info' | 'warn', time))
  })

  it('keeps the levels: a failure is a warning (written at warn, not at error), a client that left is info', async () => {
    const lines: string[] = []
    const logger = await createEventLogger({ format: 'json', level: 'warn', destination: { write: (line: string) => void lines.push(line) } })
    logger.event(base)
    logger.event({ ...base, status: 499 })
    logger.event({ ...base, status: 502, error: 'bad gateway' })
    expect(lines.map((line) => JSON.parse(line) as { level: string; status: number })).toMatchObject([{ level: 'warn', status: 502 }])
    const none: string[] = []
    const quiet = await createEventLogger({ format: 'json', level: 'error', destination: { write: (line: string) => void none.push(line) } })
    quiet.event({ ...base, status: 502, error: 'bad gateway' })
    expect(none).toEqual([])
  })
})

describe('describeEvent: llama.cpp slot corrections', () => {
  it('says which slots were reused behind the gateway, or that the server restarted, at info', () => {
    expect(describeEvent({ type: 'upstream-slots', upstream: 'http://gpu0:8080', reason: 'reused', slots: [0, 2] })).toEqual({
      level: 'info',
      message: 'slots: reused by another client, their prompt caches are forgotten',
      fields: { upstream: 'http://gpu0:8080', slots: '0,2' },
    })
    expect(describeEvent({ type: 'upstream-slots', upstream: 'http://gpu0:8080', reason: 'restarted' })).toMatchObject({ level: 'info', fields: { upstream: 'http://gpu0:8080' } })
  })
})
