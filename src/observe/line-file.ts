/**
 * Where the log's lines go when they go to a file descriptor or a path: kept in a list and
 * written out with one `write` per 4 KiB (and at least once a second). What pino's own
 * destination (sonic-boom) does, at a fraction of its cost per line: sonic-boom measures the byte length of its whole pending string on every line (the string
 * is flattened each time), ~1 µs a line at the gateway's request rate; here a line is a push and
 * an addition. Bounded: past 1 MiB waiting (a destination that stopped taking bytes), new lines are
 * dropped and counted, and a line saying how many goes out once the destination takes bytes again.
 * A blocking pipe whose reader stops blocks the writer, as `process.stderr` does on a pipe.
 * A partial write continues with the rest; EAGAIN (a non-blocking pipe that is full) is retried
 * 10 ms later while new lines wait; a block whose write fails otherwise is counted in the same note.
 * `flushSync()` writes what waits synchronously (before the process exits; it also runs on the
 * process's `exit` event for every buffer still open).
 * @module
 */
import fs from 'node:fs'

/** Lines are written out in blocks of at least this many characters, or every {@link FLUSH_MS}. */
export const MIN_WRITE_CHARS = 4096
const FLUSH_MS = 1000
/** Characters waiting, at most; past this new lines are dropped (and counted). */
export const MAX_PENDING_CHARS = 1 << 20
/** A full non-blocking pipe: try again after this long. */
const RETRY_MS = 10
/** flushSync on a full non-blocking pipe: tries before it gives up. */
const SYNC_TRIES = 100

/** Buffers still open, flushed when the process exits (weakly held: a dropped logger is not kept alive). */
const open = new Set<WeakRef<LineFile>>()
let exitHooked = false

/** See the module doc. A pino destination: `write(line)` takes one line with its line break. */
export class LineFile {
  readonly #fd: number
  #lines: string[] = []
  #chars = 0
  /** A full pipe is being waited for (the bytes it did not take are {@link #held}). */
  #writing = false
  #held: Buffer | undefined
  #dropped = 0
  #closed = false
  readonly #timer: ReturnType<typeof setInterval>
  readonly #ref = new WeakRef(this)

  /** `destination`: a file descriptor (not closed here), or a path (opened for appending). */
  constructor(destination: number | string) {
    this.#fd = typeof destination === 'number' ? destination : fs.openSync(destination, 'a')
    this.#timer = setInterval(() => this.#drain(), FLUSH_MS)
    this.#timer.unref()
    open.add(this.#ref)
    if (!exitHooked) {
      exitHooked = true
      process.once('exit', () => {
        for (const ref of open) ref.deref()?.flushSync()
      })
    }
  }

  /** Characters waiting (not yet handed to a write). */
  get pending(): number {
    return this.#chars
  }

  /** Lines dropped so far because too much was waiting. */
  get dropped(): number {
    return this.#dropped
  }

  write(line: string): boolean {
    if (this.#closed) return false
    if (this.#chars + line.length > MAX_PENDING_CHARS) {
      this.#dropped++
      return false
    }
    this.#lines.push(line)
    this.#chars += line.length
    if (this.#chars >= MIN_WRITE_CHARS && !this.#writing) this.#drain()
    return true
  }

  /** Writes what waits now (a block held back by a full pipe first), retrying a full pipe for a moment. */
  flushSync(): void {
    const data = this.#take()
    let bytes = this.#held === undefined ? Buffer.from(data ?? '') : data === undefined ? this.#held : Buffer.concat([this.#held, Buffer.from(data)])
    this.#held = undefined
    for (let tries = 0; bytes.byteLength > 0 && tries < SYNC_TRIES; ) {
      try {
        bytes = bytes.subarray(fs.writeSync(this.#fd, bytes))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return this.#lost(bytes)
        tries++
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
      }
    }
  }

  /** Writes what waits and stops the timer; later lines are dropped. */
  close(): void {
    this.flushSync()
    this.#closed = true
    clearInterval(this.#timer)
    open.delete(this.#ref)
  }

  /** What waits, as one string (with the dropped-lines note first), and the list emptied; undefined when nothing waits. */
  #take(): string | undefined {
    if (this.#chars === 0 && this.#dropped === 0) return undefined
    let data = this.#lines.join('')
    if (this.#dropped > 0) {
      data = `${JSON.stringify({ level: 'warn', time: Date.now(), msg: `log: ${this.#dropped} lines dropped (the destination did not take them)` })}\n${data}`
      this.#dropped = 0
    }
    this.#lines = []
    this.#chars = 0
    return data
  }

  #drain(): void {
    if (this.#writing) return
    const data = this.#take()
    if (data === undefined) return
    this.#writeOut(Buffer.from(data))
  }

  /**
   * Writes a block now, with `writeSync` (what Node does for a stderr that is a file or a pipe):
   * an asynchronous `fs.write` hands each block to libuv's thread pool, and waking a pool thread
   * cost the gateway's loop more than the write (8% of its samples in a profile at c=16). A full
   * non-blocking pipe (EAGAIN) keeps the rest, and it is tried again a moment later.
   */
  #writeOut(bytes: Buffer): void {
    while (bytes.byteLength > 0) {
      try {
        bytes = bytes.subarray(fs.writeSync(this.#fd, bytes))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.#held = bytes
          this.#writing = true
          setTimeout(() => {
            this.#writing = false
            const held = this.#held
            this.#held = undefined
            if (held !== undefined) this.#writeOut(held)
            if (!this.#writing && this.#chars >= MIN_WRITE_CHARS) this.#drain()
          }, RETRY_MS).unref()
          return
        }
        this.#lost(bytes)
        return
      }
    }
  }

  /** A write failed (not EAGAIN): its lines are counted as dropped, and the note says so when writes work again. */
  #lost(bytes: Buffer): void {
    let lines = 0
    for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) lines++
    this.#dropped += lines
  }
}
