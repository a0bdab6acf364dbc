/**
 * Where the embedded memory keeps its log: an append-only text of JSON lines. The core never
 * touches files; `queuegate/server` has the file implementation (`createMemoryFile`), and a test
 * may keep the text in a string.
 * @module
 */

/** An append-only log of lines. */
export interface MemoryStorage {
  /** The log as it is now, in pieces of text (any split, not necessarily at line ends); nothing when there is none yet. */
  read(): AsyncIterable<string>
  /** Appends whole lines (each ends with `\n`). */
  append(text: string): Promise<void>
  /** Replaces the whole log at once (compaction): a crash leaves the old log or the new one, never a mix. */
  replace(text: string): Promise<void>
  /** Lets go of the file. */
  close?(): Promise<void>
}

/** A {@link MemoryStorage} in a string: for tests and for a store that needs no persistence across processes. */
export class StringMemoryStorage implements MemoryStorage {
  /** The log's text. */
  text: string

  constructor(text = '') {
    this.text = text
  }

  async *read(): AsyncIterable<string> {
    if (this.text !== '') yield this.text
  }

  async append(text: string): Promise<void> {
    this.text += text
  }

  async replace(text: string): Promise<void> {
    this.text = text
  }
}
