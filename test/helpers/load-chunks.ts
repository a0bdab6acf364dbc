/**
 * `loadChunks()`: recorded upstream chunk scripts from `test/fixtures/upstream/*.chunks.jsonl`.
 * @module
 */
import { readFileSync } from 'node:fs'

const FIXTURES = new URL('../fixtures/upstream/', import.meta.url)

/**
 * Reads `test/fixtures/upstream/<name>.chunks.jsonl`: one JSON object a line (a whole
 * `chat.completion.chunk` or a bare delta), blank lines skipped. Pass the result as the fake
 * upstream's `chunks`.
 * @example const upstream = await startFakeUpstream({ chunks: loadChunks('hermes-tool-call') })
 */
export function loadChunks(name: string): Array<Record<string, unknown>> {
  if (!/^[\w.-]+$/.test(name)) throw new TypeError(`loadChunks: name must be a fixture file stem, got ${JSON.stringify(name)}`)
  const text = readFileSync(new URL(`${name}.chunks.jsonl`, FIXTURES), 'utf8')
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line, index) => {
      const value: unknown = JSON.parse(line)
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new TypeError(`loadChunks: ${name}.chunks.jsonl line ${index + 1} is not a JSON object`)
      }
      return value as Record<string, unknown>
    })
}
