/**
 * The embedded memory's log format: one JSON object per line, append-only. A note is
 * `{"ns","text","role","ts","vec","vecModel"}`; `{"ns","forget":true}` drops a namespace. Bounds
 * are not logged: replaying the lines under the same bounds drops the same notes. Reading
 * skips lines that do not parse (a torn last line after a crash) and counts them.
 * @module
 */

/** A stored note, as the log holds it. */
export interface LoggedNote {
  ns: string
  text: string
  role?: string | undefined
  ts: number
  /** The note's embedding, when semantic ranking is on. */
  vec?: number[] | undefined
  /** The model that made `vec` (a vector from another model is not compared). */
  vecModel?: string | undefined
}

/** One line of the log. */
export type LogRecord = { kind: 'note'; note: LoggedNote } | { kind: 'forget'; ns: string }

/** The line of a record, `\n` included. */
export function encodeRecord(record: LogRecord): string {
  if (record.kind === 'forget') return JSON.stringify({ ns: record.ns, forget: true }) + '\n'
  const { ns, text, role, ts, vec, vecModel } = record.note
  const out: Record<string, unknown> = { ns, text, ts }
  if (role !== undefined) out.role = role
  if (vec !== undefined && vecModel !== undefined) {
    out.vec = vec
    out.vecModel = vecModel
  }
  return JSON.stringify(out) + '\n'
}

/** The record of one line (without its `\n`), or undefined when it is not one (torn, garbled). */
export function decodeRecord(line: string): LogRecord | undefined {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const record = value as Record<string, unknown>
  const { ns } = record
  if (typeof ns !== 'string' || ns === '') return undefined
  if (record.forget === true) return { kind: 'forget', ns }
  const { text, role, ts, vec, vecModel } = record
  if (typeof text !== 'string' || typeof ts !== 'number' || !Number.isFinite(ts)) return undefined
  const note: LoggedNote = { ns, text, ts }
  if (typeof role === 'string') note.role = role
  if (Array.isArray(vec) && typeof vecModel === 'string' && vec.every((x) => typeof x === 'number')) {
    note.vec = vec as number[]
    note.vecModel = vecModel
  }
  return { kind: 'note', note }
}

/** What {@link readLog} found. */
export interface LogReadResult {
  /** Lines read (records and bad lines). */
  lines: number
  /** Lines skipped: not a record, or longer than the cap. */
  bad: number
  /** The last line had no `\n` and was not a record: torn by a crash. */
  tornTail: boolean
  /** The text did not end with `\n` (the next append must not run on from it). */
  unterminated: boolean
}

/**
 * Reads a log from pieces of text, handing each record to `onRecord` in order. A line longer
 * than `maxLineChars` is skipped without being held whole (the buffer stays capped).
 */
export async function readLog(pieces: AsyncIterable<string>, onRecord: (record: LogRecord) => void, maxLineChars: number): Promise<LogReadResult> {
  const result: LogReadResult = { lines: 0, bad: 0, tornTail: false, unterminated: false }
  let partial = ''
  let skipping = false
  const take = (line: string): void => {
    result.lines++
    if (line.trim() === '') {
      result.lines--
      return
    }
    const record = decodeRecord(line)
    if (record === undefined) result.bad++
    else onRecord(record)
  }
  for await (const piece of pieces) {
    let start = 0
    for (;;) {
      const end = piece.indexOf('\n', start)
      if (end === -1) {
        if (!skipping) {
          partial += piece.slice(start)
          if (partial.length > maxLineChars) {
            partial = ''
            skipping = true
          }
        }
        break
      }
      if (skipping) {
        result.lines++
        result.bad++
        skipping = false
      } else {
        take(partial + piece.slice(start, end))
      }
      partial = ''
      start = end + 1
    }
  }
  if (skipping) {
    result.lines++
    result.bad++
    result.tornTail = true
    result.unterminated = true
  } else if (partial !== '') {
    result.unterminated = true
    if (partial.trim() === '') return result
    const before = result.bad
    take(partial)
    // A last line without its newline that parses was written whole (the newline is what was lost).
    result.tornTail = result.bad > before
  }
  return result
}
