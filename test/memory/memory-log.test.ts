import { describe, expect, it } from 'vitest'
import { decodeRecord, encodeRecord, readLog } from '../../src/memory/memory-log.js'
import type { LogRecord } from '../../src/memory/memory-log.js'

async function* pieces(...parts: string[]): AsyncIterable<string> {
  for (const part of parts) yield part
}

async function read(parts: string[], maxLineChars = 1000): Promise<{ records: LogRecord[]; result: Awaited<ReturnType<typeof readLog>> }> {
  const records: LogRecord[] = []
  const result = await readLog(pieces(...parts), (record) => records.push(record), maxLineChars)
  return { records, result }
}

describe('memory log', () => {
  it('encodes and decodes notes (with vectors) and forgets', () => {
    const note: LogRecord = { kind: 'note', note: { ns: 'a', text: 'line\nbreak "quoted"', role: 'user', ts: 5, vec: [0.5, -1], vecModel: 'm' } }
    const line = encodeRecord(note)
    expect(line.endsWith('\n')).toBe(true)
    expect(line.indexOf('\n')).toBe(line.length - 1)
    expect(decodeRecord(line.slice(0, -1))).toEqual(note)
    expect(decodeRecord(encodeRecord({ kind: 'forget', ns: 'a' }).trim())).toEqual({ kind: 'forget', ns: 'a' })
    expect(decodeRecord('{"ns":"a","text":"t"}')).toBeUndefined()
    expect(decodeRecord('{"ns":"","text":"t","ts":1}')).toBeUndefined()
  })

  it('reads lines split anywhere across pieces', async () => {
    const text = encodeRecord({ kind: 'note', note: { ns: 'a', text: 'one', ts: 1 } }) + encodeRecord({ kind: 'note', note: { ns: 'a', text: 'twö', ts: 2 } })
    for (let cut = 0; cut <= text.length; cut++) {
      const { records, result } = await read([text.slice(0, cut), text.slice(cut)])
      expect(records.map((record) => (record.kind === 'note' ? record.note.text : ''))).toEqual(['one', 'twö'])
      expect(result).toEqual({ lines: 2, bad: 0, tornTail: false, unterminated: false })
    }
  })

  it('a torn tail is counted as bad and torn; an overlong line is skipped without being held', async () => {
    const good = encodeRecord({ kind: 'note', note: { ns: 'a', text: 'one', ts: 1 } })
    expect((await read([good, '{"ns":"a","te'])).result).toEqual({ lines: 2, bad: 1, tornTail: true, unterminated: true })
    const long = `{"ns":"a","text":"${'x'.repeat(5000)}","ts":1}\n`
    const { records, result } = await read([good, long.slice(0, 2000), long.slice(2000), good], 1000)
    expect(records).toHaveLength(2)
    expect(result).toEqual({ lines: 3, bad: 1, tornTail: false, unterminated: false })
  })
})
