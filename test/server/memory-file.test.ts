import { appendFile, mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLocalMemory } from 'queuegate'
import { createMemoryFile } from 'queuegate/server'

let folder: string | undefined

afterEach(async () => {
  if (folder !== undefined) await rm(folder, { recursive: true, force: true })
  folder = undefined
})

describe('createMemoryFile', () => {
  it('a missing file is an empty log; notes written survive a restart; a torn tail is skipped and the file rewritten', async () => {
    folder = await mkdtemp(join(tmpdir(), 'qg-memory-'))
    const path = join(folder, 'nested', 'memory.jsonl')
    const first = createLocalMemory({ storage: createMemoryFile(path) })
    await first.upsert('chat', [{ text: 'the wifi password is hunter2', role: 'user', ts: 1 }])
    await first.upsert('chat', [{ text: 'noted', role: 'assistant', ts: 2 }])
    await first.close()
    expect((await readFile(path, 'utf8')).split('\n')).toHaveLength(3)

    await appendFile(path, '{"ns":"chat","text":"half wri')
    const onWarning = vi.fn()
    const second = createLocalMemory({ storage: createMemoryFile(path), onWarning })
    expect((await second.query('chat', 'wifi password'))[0]).toMatchObject({ text: 'the wifi password is hunter2', role: 'user', ts: 1 })
    expect(onWarning).toHaveBeenCalledWith(expect.stringMatching(/skipped 1 unreadable line/))
    await second.upsert('chat', [{ text: 'after restart', ts: 3 }])
    await second.close()
    const text = await readFile(path, 'utf8')
    expect(text).not.toContain('half wri')
    expect(text.trim().split('\n').map((line) => (JSON.parse(line) as { text: string }).text)).toEqual(['the wifi password is hunter2', 'noted', 'after restart'])
    // No temporary file left behind.
    expect(await readdir(join(folder, 'nested'))).toEqual(['memory.jsonl'])
  })
})
