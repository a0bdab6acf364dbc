import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { LineFile, MAX_PENDING_CHARS, MIN_WRITE_CHARS } from '../../src/observe/line-file.js'

describe('LineFile (the buffered log destination)', () => {
  const dirs: string[] = []
  const files: LineFile[] = []
  afterEach(() => {
    for (const file of files.splice(0)) file.close()
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  function temp(): string {
    const dir = mkdtempSync(join(tmpdir(), 'qg-line-file-'))
    dirs.push(dir)
    return join(dir, 'log.jsonl')
  }

  async function until(check: () => boolean, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms
    while (!check() && Date.now() < deadline) await sleep(10)
  }

  it('holds lines until 4 KiB wait, then writes them in one block; flushSync writes the rest at once', async () => {
    const path = temp()
    const file = new LineFile(path)
    files.push(file)
    const line = `${'x'.repeat(99)}\n`
    for (let i = 0; i < 10; i++) file.write(line)
    await sleep(50)
    expect(readFileSync(path, 'utf8')).toBe('')
    for (let i = 10; i < Math.ceil(MIN_WRITE_CHARS / line.length) + 5; i++) file.write(line)
    // (A reader may see a write part-way: wait for the whole block.)
    await until(() => readFileSync(path, 'utf8').length >= MIN_WRITE_CHARS)
    const written = readFileSync(path, 'utf8').length
    expect(written).toBeGreaterThanOrEqual(MIN_WRITE_CHARS)
    expect(written % line.length).toBe(0)
    file.write('last\n')
    file.flushSync()
    expect(readFileSync(path, 'utf8').endsWith(`${line}last\n`)).toBe(true)
    expect(file.pending).toBe(0)
  })

  it('writes a quiet log within a second', async () => {
    const path = temp()
    const file = new LineFile(path)
    files.push(file)
    file.write('one\n')
    await until(() => readFileSync(path, 'utf8') === 'one\n', 2500)
    expect(readFileSync(path, 'utf8')).toBe('one\n')
  })

  it('keeps at most 1 MiB waiting when the destination stops taking bytes, and says how many lines it dropped once it takes them again', async () => {
    // A pipe nobody reads for a while: it fills (EAGAIN), then the reader starts and everything drains.
    const reader = spawn(process.execPath, ['-e', 'setTimeout(() => process.stdin.pipe(process.stdout), 700)'], { stdio: ['pipe', 'pipe', 'ignore'] })
    let out = ''
    reader.stdout.setEncoding('utf8').on('data', (text: string) => (out += text))
    await sleep(100)
    const fd = (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd
    const file = new LineFile(fd)
    const line = `${'y'.repeat(1023)}\n`
    let accepted = 0
    const offered = Math.ceil((2 * MAX_PENDING_CHARS) / line.length)
    for (let i = 0; i < offered; i++) {
      if (file.write(line)) accepted++
      if (i % 64 === 0) await sleep(1)
    }
    expect(accepted).toBeLessThan(offered)
    expect(file.dropped).toBe(offered - accepted)
    expect(file.pending).toBeLessThanOrEqual(MAX_PENDING_CHARS)
    await until(() => file.pending === 0 && out.length >= accepted * line.length, 10_000)
    file.write('after\n')
    file.flushSync()
    file.close()
    reader.stdin.end()
    await until(() => out.endsWith('after\n'), 5000)
    const lines = out.split('\n').filter((one) => one !== '')
    const note = lines.find((one) => one.startsWith('{'))
    expect(note).toBeDefined()
    expect(JSON.parse(note!)).toMatchObject({ level: 'warn', msg: `log: ${offered - accepted} lines dropped (the destination did not take them)` })
    expect(lines.filter((one) => one === line.slice(0, -1))).toHaveLength(accepted)
    reader.kill()
  })

  it('takes no lines after close', () => {
    const path = temp()
    const file = new LineFile(path)
    file.write('kept\n')
    file.close()
    expect(file.write('late\n')).toBe(false)
    expect(readFileSync(path, 'utf8')).toBe('kept\n')
  })
})
