/**
 * The embedded memory's log as a file (`--memory-file PATH`): read in pieces at start, appended
 * to through one open handle, replaced through a temporary file and a rename (a crash during
 * compaction leaves the old log or the new one).
 * @module
 */
import { createReadStream } from 'node:fs'
import { mkdir, open, rename, writeFile } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { MemoryStorage } from '../memory/memory-storage.js'

/** A {@link MemoryStorage} in the file at `path` (created with its folder on the first write). */
export function createMemoryFile(path: string): MemoryStorage {
  if (typeof path !== 'string' || path.trim() === '') throw new TypeError(`createMemoryFile: expected a file path, got ${JSON.stringify(path)}`)
  let handle: FileHandle | undefined

  async function appendHandle(): Promise<FileHandle> {
    if (handle === undefined) {
      await mkdir(dirname(path), { recursive: true })
      handle = await open(path, 'a')
    }
    return handle
  }

  return {
    async *read(): AsyncIterable<string> {
      const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1024 * 1024 })
      try {
        for await (const piece of stream) yield piece as string
      } catch (error) {
        // No file yet: an empty log.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
        throw error
      } finally {
        stream.destroy()
      }
    },
    async append(text: string): Promise<void> {
      const file = await appendHandle()
      await file.write(text)
    },
    async replace(text: string): Promise<void> {
      await mkdir(dirname(path), { recursive: true })
      const temporary = `${path}.${process.pid}.tmp`
      await writeFile(temporary, text, { flush: true })
      // Appends after this go to the new file.
      await handle?.close()
      handle = undefined
      await rename(temporary, path)
    },
    async close(): Promise<void> {
      await handle?.close()
      handle = undefined
    },
  }
}
