/**
 * `createThinkSplitter()`: the pure, incremental splitter of `<think>…</think>` blocks out of
 * content text. Feed text pieces, get `{ content, reasoning }` back: text at once, holding back
 * only a tail that could still become a tag (as the tool-call scanner does with its markers).
 * The result never depends on how the text was split.
 * @module
 */

/** Tags that open a thinking block. */
export const THINK_OPEN_TAGS: readonly string[] = ['<think>', '<thinking>', '<seed:think>', '&lt;think&gt;']
/** Tags that close one; any of them closes any block (models do not mix them, and a stray mismatch should not swallow the answer). */
export const THINK_CLOSE_TAGS: readonly string[] = ['</think>', '</thinking>', '</seed:think>', '&lt;/think&gt;']

/**
 * The start window of a streamed reply by default: 0, off. Holding the start of every reply
 * delays the first token of every plain answer (a reply shorter than the window would arrive in
 * one piece at its end), so a stream opts in; a whole answer uses `Infinity` (it costs nothing there).
 */
export const DEFAULT_START_WINDOW = 0

/** What one `feed` or `flush` released. */
export interface ThinkSplit {
  /** Answer text (tags and the thinking removed). */
  content: string
  /** Text that was inside a thinking block. */
  reasoning: string
}

/** Options of {@link createThinkSplitter}. */
export interface ThinkSplitterOptions {
  /**
   * The start window, in characters. Qwen3 and DeepSeek-R1 templates put `<think>` into the
   * prompt, so the reply starts inside the block and only its `</think>` is seen. The rule: a
   * close tag that begins within the first `startWindow` characters of the reply, with no open
   * tag before it, closes a block that began at the start (the text before it is reasoning). To
   * decide that, the start of the reply is held until a tag in the window decides it, or the
   * window has passed with none (then the start is content and flows at once from there on).
   * A close tag further on with no block open is left as text. `0` turns the rule off (no
   * hold); `Infinity` suits a whole answer (nothing is streamed, so nothing waits).
   * @default 0 (DEFAULT_START_WINDOW)
   */
  startWindow?: number | undefined
  /**
   * The reply is already under way: visible content came before this splitter (a transform
   * started late, see `reasoning-trigger.ts`), so the start rules are past. @default false
   */
  midway?: boolean | undefined
  /**
   * The reply starts inside a block the prompt opened (Qwen3-Thinking, QwQ and DeepSeek-R1
   * templates end the generation prompt with `<think>`): its text is reasoning until a close tag.
   * An open tag that the model writes itself at the start (after whitespace only) is dropped.
   * @default false
   */
  startInside?: boolean | undefined
  /**
   * Called once, the first time a close tag with no open tag before it is found at the start of
   * the reply (the start window, or a whole answer) or, when this is set, anywhere in content
   * before any block opened: the sign of a reply that started inside a block the prompt opened.
   * Setting it makes the splitter also hold a possible partial close tag in such content.
   */
  onOrphanClose?: (() => void) | undefined
}

/** The incremental splitter. */
export interface ThinkSplitter {
  /** Adds content text; returns what can be released now. */
  feed(text: string): ThinkSplit
  /** Ends the text: everything held is released (an unclosed block ends as reasoning). */
  flush(): ThinkSplit
  /** A close tag ended a block (one opened in the text, or by the prompt). */
  readonly closed: boolean
}

const NOTHING: ThinkSplit = Object.freeze({ content: '', reasoning: '' })
const MAX_TAG_LENGTH = Math.max(...THINK_OPEN_TAGS.map((tag) => tag.length), ...THINK_CLOSE_TAGS.map((tag) => tag.length))

/** Where a tag of `tags` first occurs in `text` at or after `from`, and its length; `index` -1 when none does. */
function findTag(text: string, tags: readonly string[], from = 0): { index: number; length: number } {
  let index = -1
  let length = 0
  for (const tag of tags) {
    const at = text.indexOf(tag, from)
    if (at !== -1 && (index === -1 || at < index)) {
      index = at
      length = tag.length
    }
  }
  return { index, length }
}

/**
 * The start of the shortest tail of `text` that is a proper prefix of one of `tags` (it could
 * still become that tag), or `text.length` when there is none. As vercel/ai's `getPotentialStartIndex`.
 */
function partialTagStart(text: string, tags: readonly string[]): number {
  for (let start = Math.max(0, text.length - MAX_TAG_LENGTH + 1); start < text.length; start++) {
    const code = text.charCodeAt(start)
    // Every tag starts with `<` or `&`.
    if (code !== 60 && code !== 38) continue
    const tail = text.slice(start)
    for (const tag of tags) if (tag.length > tail.length && tag.startsWith(tail)) return start
  }
  return text.length
}

/** True when `text` holds only whitespace. */
function isBlank(text: string): boolean {
  return !/\S/.test(text)
}

const ALL_TAGS: readonly string[] = [...THINK_OPEN_TAGS, ...THINK_CLOSE_TAGS]

/**
 * Creates a splitter. Rules:
 * - Text inside a block (`<think>…</think>`, `<thinking>`, `<seed:think>`, `&lt;think&gt;`) is
 *   reasoning; tags are dropped; blocks may repeat; an open tag inside a block is text.
 * - Whitespace right after a close tag is dropped (templates put `\n\n` before the answer), and
 *   so is whitespace before a block that opens the reply (held until the next visible character).
 * - The start window rule for replies that begin inside a block (see `startWindow`).
 * - Nothing held but a possible partial tag (at most 13 characters), and the start window
 *   when one is set.
 * @example
 * const splitter = createThinkSplitter()
 * splitter.feed('<think>plan</thi') // { content: '', reasoning: 'plan' }
 * splitter.feed('nk>\n\nAnswer')    // { content: 'Answer', reasoning: '' }
 */
export function createThinkSplitter(options: ThinkSplitterOptions = {}): ThinkSplitter {
  const { startWindow = DEFAULT_START_WINDOW, midway = false, startInside = false, onOrphanClose } = options
  if (typeof startWindow !== 'number' || Number.isNaN(startWindow) || startWindow < 0) {
    throw new TypeError(`startWindow: expected a number >= 0, got ${JSON.stringify(startWindow)}`)
  }
  /** `start`: the start of the reply is undecided; `content`/`reasoning`: outside/inside a block. */
  let state: 'start' | 'content' | 'reasoning' = midway ? 'content' : startInside ? 'reasoning' : 'start'
  /** Text not yet released (the start, or a possible partial tag). */
  let held = ''
  /** Drop whitespace before the next content (after a close tag). */
  let trimLeading = false
  /** Inside from the start: an open tag the model writes itself first is dropped (decided at the first visible character). */
  let openerPending = startInside && !midway
  /** A block opened in the text; a close tag ended one. */
  let opened = false
  let closed = false
  /** Orphan close tags are looked for (and reported once) while no block opened. */
  let watchOrphans = onOrphanClose !== undefined

  function orphanClose(): void {
    if (!watchOrphans) return
    watchOrphans = false
    onOrphanClose?.()
  }

  function emitContent(out: ThinkSplit, text: string): void {
    let piece = text
    if (trimLeading && piece !== '') {
      piece = piece.trimStart()
      if (piece !== '') trimLeading = false
    }
    if (piece !== '') out.content = out.content === '' ? piece : out.content + piece
  }

  function emitReasoning(out: ThinkSplit, text: string): void {
    if (text !== '') out.reasoning = out.reasoning === '' ? text : out.reasoning + text
  }

  /**
   * The start of the reply: decided by a tag beginning inside the window or an open tag after
   * nothing but whitespace, or by the window passing with neither; false while undecided.
   */
  function decideStart(out: ThinkSplit, final: boolean): boolean {
    const tag = findTag(held, ALL_TAGS)
    const before = tag.index === -1 ? '' : held.slice(0, tag.index)
    const opens = tag.index !== -1 && THINK_OPEN_TAGS.includes(held.slice(tag.index, tag.index + tag.length))
    if (tag.index !== -1 && (tag.index < startWindow || (opens && isBlank(before)))) {
      held = held.slice(tag.index + tag.length)
      if (opens) {
        if (!isBlank(before)) emitContent(out, before)
        state = 'reasoning'
        opened = true
      } else {
        emitReasoning(out, before)
        state = 'content'
        trimLeading = true
        closed = true
        orphanClose()
      }
      return true
    }
    if (!final) {
      // Only whitespace so far, or whitespace and what could still become an open tag: wait.
      const rest = held.trimStart()
      if (rest === '' || THINK_OPEN_TAGS.some((open) => open.length > rest.length && open.startsWith(rest))) return false
      if (held.length < startWindow || partialTagStart(held, ALL_TAGS) < startWindow) return false
    }
    state = 'content'
    return true
  }

  /**
   * Inside from the start: drops an open tag the model wrote itself after nothing but whitespace
   * (with that whitespace); false while what is held could still become one.
   */
  function dropOwnOpener(final: boolean): boolean {
    const rest = held.trimStart()
    if (rest === '') return final
    for (const open of THINK_OPEN_TAGS) {
      if (rest.startsWith(open)) {
        held = rest.slice(open.length)
        openerPending = false
        return true
      }
      if (!final && open.length > rest.length && open.startsWith(rest)) return false
    }
    openerPending = false
    return true
  }

  function run(final: boolean): ThinkSplit {
    const out: ThinkSplit = { content: '', reasoning: '' }
    for (;;) {
      if (state === 'start') {
        if (!decideStart(out, final)) return out
        continue
      }
      if (openerPending && !dropOwnOpener(final)) return out
      const inside = state === 'reasoning'
      // Before any block opened, a close tag in content is an orphan (reported, left as text).
      const orphans = !inside && watchOrphans && !opened
      const tags = inside ? THINK_CLOSE_TAGS : orphans ? ALL_TAGS : THINK_OPEN_TAGS
      const tag = findTag(held, tags)
      if (tag.index !== -1 && orphans && THINK_CLOSE_TAGS.includes(held.slice(tag.index, tag.index + tag.length))) {
        orphanClose()
        emitContent(out, held.slice(0, tag.index + tag.length))
        held = held.slice(tag.index + tag.length)
        continue
      }
      if (tag.index !== -1) {
        const before = held.slice(0, tag.index)
        if (inside) emitReasoning(out, before)
        else emitContent(out, before)
        held = held.slice(tag.index + tag.length)
        state = inside ? 'content' : 'reasoning'
        if (inside) {
          trimLeading = true
          closed = true
        } else opened = true
        continue
      }
      const keep = final ? held.length : partialTagStart(held, tags)
      const release = keep === held.length ? held : held.slice(0, keep)
      held = keep === held.length ? '' : held.slice(keep)
      if (inside) emitReasoning(out, release)
      else emitContent(out, release)
      return out
    }
  }

  return {
    feed(text) {
      if (text === '') return NOTHING
      // Fast path (most pieces): plain content, nothing held, no character that could begin a tag.
      if (state === 'content' && held === '' && !trimLeading && text.indexOf('<') === -1 && text.indexOf('&') === -1) return { content: text, reasoning: '' }
      held = held === '' ? text : held + text
      return run(false)
    },
    flush() {
      if (held === '' && state !== 'start') return NOTHING
      return run(true)
    },
    get closed() {
      return closed
    },
  }
}
