import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createEventLogger } from '../../src/observe/event-log.js'

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
