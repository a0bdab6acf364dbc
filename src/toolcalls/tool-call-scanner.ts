/**
 * The detection engine for one text channel (content, or one reasoning field): finds tool-call
 * openers in one pass, holds back only what could still be a call, asks the formats, and reports
 * released text and recognised calls through callbacks. Pure and incremental; the result does not
 * depend on how the text was split. See `.coord/toolcalls.md` for the rules.
 * @module
 */
import type { DeclaredTools, MalformedCall, MatchResult, ParsedCall, ToolCallFormat } from './formats/types.js'
import { CUT_OFF } from './formats/call-section.js'
import { cutLeftoverAt, leftoverAt } from './leftovers.js'
import { NO, PARTIAL, literalAt, skipWhitespace } from './scan.js'

/** A recognised call, name resolved to a declared tool, arguments serialised. */
export interface RecognisedCall {
  name: string
  /** JSON text of the arguments object. */
  arguments: string
  /** The format that recognised it. */
  format: string
}

/**
 * A call inside a recognised call section that could not be turned into a call (its arguments cannot
 * be repaired, or the section was cut off after complete calls). Its text is removed with the section.
 */
export interface MalformedToolCall {
  /** The tool name as written, when it could be read. */
  name: string | undefined
  /** The call's raw text, capped at `MALFORMED_TEXT_CHARS` characters. */
  text: string
  /** A short sentence saying what is wrong, e.g. `arguments are not valid JSON`. */
  reason: string
  /** The id of the format that read the section. */
  format: string
}

/** A malformed call and its place among the calls of the same `onCalls` report. */
export interface PlacedMalformedCall {
  /** How many of the report's calls come before it. */
  at: number
  call: MalformedToolCall
}

/** Most characters of a malformed call's text kept in its report. */
export const MALFORMED_TEXT_CHARS = 4096

interface MarkerEntry {
  marker: string
  format: number
}

/** Opener tables built once per tool list and format list, shared by every channel of a request. */
export interface MarkerIndex {
  readonly formats: readonly ToolCallFormat[]
  readonly tools: DeclaredTools
  /** Per char code: 1 = first char of a strong opener, 2 = newline. */
  readonly interesting: Uint8Array
  /** Hashed bigram filter: non-zero when some strong opener may start with these two chars. */
  readonly bigrams: Uint8Array
  readonly strong: ReadonlyMap<number, readonly MarkerEntry[]>
  readonly weak: ReadonlyMap<number, readonly MarkerEntry[]>
}

/** Builds the opener tables for `formats` with `tools` declared. */
export function createMarkerIndex(formats: readonly ToolCallFormat[], tools: DeclaredTools): MarkerIndex {
  // The tables depend only on the formats and the declared names, and cost two 64 KiB arrays to
  // build: a gateway sees the same tool list on request after request, so they are cached.
  const key = `${formats.map(formatKey).join(',')}\u0000${tools.names.join('\u0000')}`
  let tables = tableCache.get(key)
  if (tables === undefined) {
    tables = buildTables(formats, tools)
    if (tableCache.size >= TABLE_CACHE_SIZE) tableCache.delete(tableCache.keys().next().value as string)
  } else {
    tableCache.delete(key)
  }
  tableCache.set(key, tables)
  return { formats, tools, ...tables }
}

type MarkerTables = Pick<MarkerIndex, 'interesting' | 'bigrams' | 'strong' | 'weak'>

const TABLE_CACHE_SIZE = 64
/** Most recently used last. */
const tableCache = new Map<string, MarkerTables>()
const formatKeys = new WeakMap<ToolCallFormat, number>()
let nextFormatKey = 0

function formatKey(format: ToolCallFormat): number {
  let key = formatKeys.get(format)
  if (key === undefined) formatKeys.set(format, (key = nextFormatKey++))
  return key
}

function buildTables(formats: readonly ToolCallFormat[], tools: DeclaredTools): MarkerTables {
  const interesting = new Uint8Array(65536)
  const bigrams = new Uint8Array(65536)
  const strong = new Map<number, MarkerEntry[]>()
  const weak = new Map<number, MarkerEntry[]>()
  interesting[10] = 2
  formats.forEach((format, index) => {
    const starts = typeof format.starts === 'function' ? format.starts(tools) : format.starts
    const table = format.strength === 'strong' ? strong : weak
    for (const marker of new Set(starts)) {
      if (marker === '') continue
      const code = marker.charCodeAt(0)
      if (format.strength === 'strong') {
        interesting[code] = 1
        bigrams[bigramHash(code, marker.length > 1 ? marker.charCodeAt(1) : -1)] = 1
        if (marker.length === 1) for (let c = 0; c < 65536; c++) bigrams[bigramHash(code, c)] = 1
      }
      let entries = table.get(code)
      if (entries === undefined) table.set(code, (entries = []))
      entries.push({ marker, format: index })
    }
  })
  return { interesting, bigrams, strong, weak }
}

/** Letters, digits, `_` (ASCII; other scripts count as word characters too). */
export function isWordCode(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95 || (code > 127 && code !== 0xff5c && code !== 0x2581)
}

function bigramHash(first: number, second: number): number {
  return (Math.imul(first, 0x9e3779b1) ^ Math.imul(second + 1, 0x85ebca6b)) >>> 16
}

/**
 * How much of `text` is plain: `text.length` when nothing in it could open a call or change the line
 * state; the index where a strong opener could start, when that is only a prefix cut off by the end
 * (hold from there); `-1` when the full scan is needed (a newline, an opener).
 */
function plainUntil(text: string, index: MarkerIndex, previous: number): number {
  const { interesting, bigrams, strong } = index
  const last = text.length - 1
  for (let i = 0; i <= last; i++) {
    const code = text.charCodeAt(i)
    const kind = interesting[code]
    if (kind === 0) continue
    if (kind === 2) return -1
    // Openers that start with a word character only count at a word boundary.
    if (isWordCode(code) && isWordCode(i === 0 ? previous : text.charCodeAt(i - 1))) continue
    if (i < last && bigrams[bigramHash(code, text.charCodeAt(i + 1))] === 0) continue
    for (const { marker } of strong.get(code)!) {
      const n = Math.min(marker.length, text.length - i)
      let k = 1
      while (k < n && marker.charCodeAt(k) === text.charCodeAt(i + k)) k++
      if (k === n) return n === marker.length ? -1 : i
    }
  }
  return text.length
}

/** Options of `createToolCallScanner`. */
export interface ToolCallScannerOptions {
  index: MarkerIndex
  /** Reasoning mode: every call must end the text (and no content follow) to count. @default false */
  deferCalls?: boolean | undefined
  /** Longest text one call block may span before it is given up and released. @default 1048576 */
  maxCallChars?: number | undefined
  /** Most text held back at once (a pending group of calls plus the current candidate). @default 2097152 */
  maxHeldChars?: number | undefined
  /** Text released to the channel, in order. */
  onText: (text: string) => void
  /**
   * Calls recognised, in order, with the malformed calls of the same sections (each placed among
   * `calls`; absent when there are none). A section may hold only malformed calls (`calls` empty).
   */
  onCalls: (calls: RecognisedCall[], malformed?: readonly PlacedMalformedCall[]) => void
}

/** An incremental scanner for one channel. */
export interface ToolCallScanner {
  /** Adds text. */
  feed(text: string): void
  /** Ends the channel: decides everything held, releases the rest. */
  finish(): void
  /** Content (or a native call) followed: calls held in reasoning are planning, release them as text. */
  contentFollows(): void
}

interface FormatState {
  format: ToolCallFormat
  index: number
  weak: boolean
  memo: Map<string, unknown>
  lastLength: number
  waitFor: readonly string[] | undefined
  /** One of `waitFor` arrived since the last match. */
  triggered: boolean
  verdict: MatchResult | undefined
}

interface Candidate {
  /** Offset of the opener in `text` (whitespace before it is held with it). */
  offset: number
  states: FormatState[]
  messageStart: boolean
  /** Only whitespace (and removed debris) since the last recovered call. */
  followsCall: boolean
  /** A weak match waiting for the end of its line. */
  eol: { length: number; calls: ParsedCall[]; malformed: MalformedCall[] | undefined; format: FormatState } | undefined
}

/** How many trailing chars `noteArrival` keeps to find a `waitFor` literal split across chunks. */
const RECENT = 64

const isSpace = (code: number): boolean => code === 32 || code === 9 || code === 10 || code === 13 || code === 12

function hasNonSpace(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isSpace(text.charCodeAt(i))) return true
  return false
}

function placeMalformed(entry: MalformedCall, format: string): PlacedMalformedCall {
  const text = entry.text.length > MALFORMED_TEXT_CHARS ? entry.text.slice(0, MALFORMED_TEXT_CHARS) : entry.text
  return { at: entry.at, call: { name: entry.name, text, reason: entry.reason, format } }
}

/** Index after the last non-whitespace character of `text.slice(0, end)`. */
function trimEndIndex(text: string, end: number): number {
  let k = end
  while (k > 0 && isSpace(text.charCodeAt(k - 1))) k--
  return k
}

/**
 * Creates the scanner of one channel.
 * @example
 * const scanner = createToolCallScanner({ index, onText: (t) => out.push(t), onCalls: (c) => calls.push(...c) })
 * scanner.feed('Sure.\n<tool_call>{"name":"get_weather","arguments":{}}</tool_call>')
 * scanner.finish()
 */
export function createToolCallScanner(options: ToolCallScannerOptions): ToolCallScanner {
  const { index, deferCalls = false, maxCallChars = 1_048_576, maxHeldChars = 2_097_152, onText, onCalls } = options
  const { interesting, bigrams, strong, weak, formats, tools } = index
  const hasWeak = weak.size > 0

  /** Text not yet released or consumed. */
  let text = ''
  /** Whether `text[0]` is at a line start (only spaces/tabs before it on its line). */
  let baseAtLine = true
  /** Positions of `text` before this are scanned and start no candidate. */
  let scanned = 0
  /** Whether position `scanned` is at a line start. */
  let scanAtLine = true
  let candidate: Candidate | undefined
  /** Calls that count only if nothing but whitespace and calls follows (weak mid-message, reasoning). */
  let pending: { text: string; calls: RecognisedCall[]; malformed: PlacedMalformedCall[] | undefined } | undefined
  let emittedNonSpace = false
  let dropLeadingSpace = false
  /**
   * Whitespace removed around calls since the last text, when text came before them: if text follows
   * too, ONE separator takes the calls' place (a newline if the removed whitespace had one, else a
   * space; nothing if none was removed), so sentences on both sides are not glued together.
   */
  let gap: { newline: boolean; any: boolean } | undefined
  /** Code of the character just before `text[0]` (released or consumed), -1 at the start. */
  let previousCode = -1
  let contentSeen = false
  /** The last `RECENT` chars of the text, while a candidate is open (for `waitFor` literals split across chunks). */
  let recent = ''
  /** A call was just removed: marker debris right after it (see `leftovers.ts`) goes with it. */
  let afterCall = false
  /** No text but whitespace released since the last recovered call (and there was one). */
  let sinceCall = false
  /**
   * Index in `text` of an opener left unclosed right before the same opener (`<tool_call>\n<tool_call>{…}`):
   * held with the candidate at the second one, removed with it if it is a call.
   */
  let dangling = -1

  function emitText(raw: string): void {
    let piece = raw
    if (piece === '') return
    if (dropLeadingSpace) {
      let k = 0
      while (k < piece.length && isSpace(piece.charCodeAt(k))) k++
      if (gap !== undefined && k > 0) noteGap(piece.slice(0, k))
      if (k === piece.length) return
      piece = piece.slice(k)
      dropLeadingSpace = false
      if (gap !== undefined) {
        const separator = gap.newline ? '\n' : gap.any ? ' ' : ''
        gap = undefined
        if (separator !== '') {
          if (pending !== undefined) pending.text = separator + pending.text
          else piece = separator + piece
        }
      }
    }
    if (pending !== undefined) {
      if (!hasNonSpace(piece)) {
        pending.text += piece
        if (pending.text.length > maxHeldChars) releasePendingAsText()
        return
      }
      piece = pending.text + piece
      pending = undefined
    }
    if (!emittedNonSpace && hasNonSpace(piece)) emittedNonSpace = true
    if (sinceCall && hasNonSpace(piece)) sinceCall = false
    onText(piece)
  }

  function noteGap(whitespace: string): void {
    if (gap === undefined) return
    if (whitespace.length > 0) gap.any = true
    if (whitespace.includes('\n')) gap.newline = true
  }

  function releasePendingAsText(): void {
    if (pending === undefined) return
    const held = pending.text
    pending = undefined
    if (held === '') return
    if (!emittedNonSpace && hasNonSpace(held)) emittedNonSpace = true
    if (sinceCall && hasNonSpace(held)) sinceCall = false
    onText(held)
  }

  /** Releases `text.slice(0, end)` except its trailing whitespace, which stays held. */
  function release(end: number): void {
    const k = trimEndIndex(text, end)
    if (k === 0) return
    emitText(text.slice(0, k))
    previousCode = text.charCodeAt(k - 1)
    text = text.slice(k)
    if (dangling >= 0) dangling = dangling >= k ? dangling - k : -1
    // text[k - 1] was not whitespace, so the new text[0] is not at a line start.
    baseAtLine = false
    scanned = Math.max(0, scanned - k)
  }

  /** Whether `pos` in `text` is at a line start (only spaces/tabs back to a newline or the base). */
  function lineStartAt(pos: number): boolean {
    let k = pos
    while (k > 0) {
      const code = text.charCodeAt(k - 1)
      if (code === 10) return true
      if (code !== 32 && code !== 9) return false
      k--
    }
    return baseAtLine
  }

  /** Adds to `into` the formats with an opener that fits at `pos` (fully, or as a prefix at the end). */
  function compatible(entries: readonly MarkerEntry[] | undefined, pos: number, into: Set<number>): boolean {
    if (entries === undefined) return false
    const available = text.length - pos
    let full = false
    for (const { marker, format } of entries) {
      const n = marker.length < available ? marker.length : available
      let k = 1
      while (k < n && marker.charCodeAt(k) === text.charCodeAt(pos + k)) k++
      if (k === n) {
        into.add(format)
        if (n === marker.length) full = true
      }
    }
    return full
  }

  function openCandidate(pos: number, found: Set<number>): void {
    // Whitespace touching the candidate stays held with it (it goes if the candidate is a call), and
    // so does an unclosed opener right before it.
    const before = text.length
    release(dangling >= 0 && dangling < pos ? dangling : pos)
    dangling = -1
    const offset = pos - (before - text.length)
    const messageStart = !emittedNonSpace && pending === undefined
    const states = [...found]
      .sort((a, b) => a - b)
      .map((i): FormatState => {
        const format = formats[i]!
        return { format, index: i, weak: format.strength === 'weak', memo: new Map(), lastLength: -1, waitFor: undefined, triggered: false, verdict: undefined }
      })
    candidate = { offset, states, messageStart, followsCall: sinceCall && !hasNonSpace(text.slice(0, offset)), eol: undefined }
    // The text was just scanned (flat): its tail seeds the window `noteArrival` searches.
    recent = text.length > RECENT ? text.slice(-RECENT) : text
  }

  const foundFormats = new Set<number>()

  /** Scans from `scanned` for the next opener; opens a candidate, else releases what is safe. */
  function scan(): void {
    const length = text.length
    let i = scanned
    let atLine = scanAtLine
    const found = foundFormats
    found.clear()
    while (i < length) {
      const code = text.charCodeAt(i)
      if (code === 10) {
        atLine = true
        i++
        continue
      }
      if (atLine && (code === 32 || code === 9 || code === 13)) {
        i++
        continue
      }
      // Weak openers count only at a line start; strong ones anywhere.
      let full = atLine && hasWeak ? compatible(weak.get(code), i, found) : false
      if (
        interesting[code] === 1 &&
        (i + 1 === length || bigrams[bigramHash(code, text.charCodeAt(i + 1))] !== 0) &&
        !(isWordCode(code) && isWordCode(i === 0 ? previousCode : text.charCodeAt(i - 1)))
      ) {
        full = compatible(strong.get(code), i, found) || full
      }
      if (found.size > 0) {
        if (full) {
          openCandidate(i, found)
          return
        }
        // Only prefixes of openers, cut off by the end of the text: hold from here and look again
        // when more arrives (cheaper than a candidate; the tail is shorter than the longest opener).
        scanned = i
        scanAtLine = atLine
        release(i)
        return
      }
      atLine = false
      i++
    }
    scanned = i
    scanAtLine = atLine
    release(length)
  }

  function evaluate(final: boolean): 'wait' | 'done' {
    const current = candidate!
    // The body is sliced (and the held text flattened) only when a format is asked: long bodies are
    // not copied per chunk.
    const bodyLength = text.length - current.offset
    let body: string | undefined
    const bodyText = (): string => (body ??= current.offset === 0 ? text : text.slice(current.offset))
    if (current.eol !== undefined) return finishEol(current, bodyText(), final)
    if (bodyLength > maxCallChars || text.length + (pending?.text.length ?? 0) > maxHeldChars) {
      rejectCandidate(current, bodyLength)
      return 'done'
    }
    let rejectLength = Number.POSITIVE_INFINITY
    for (const state of current.states) {
      let verdict = state.verdict
      if (verdict === undefined) {
        if (!final && !shouldMatch(state, bodyLength)) return 'wait'
        const result = state.format.match(bodyText(), { final, tools, memo: state.memo })
        state.lastLength = bodyLength
        state.triggered = false
        if (result.status === 'partial') {
          if (!final) {
            state.waitFor = result.waitFor
            return 'wait'
          }
          // A call cut off by the end of the text is content.
          verdict = { status: 'reject' }
        } else if (result.status === 'reject' && final && result.cut !== undefined && current.followsCall && !state.weak) {
          // Cut off right after a recovered call: it goes with the calls before it (reported when named).
          const { name } = result.cut
          deliver(current, bodyLength, [], name === undefined ? undefined : [{ name, text: bodyText(), reason: CUT_OFF, at: 0 }], state)
          return 'done'
        } else if (result.status === 'reject' && final) {
          // Lengths given at the end could differ from those given earlier for the same text (a
          // truncated block): rescan from the next char, so the result never depends on chunking.
          verdict = { status: 'reject' }
        } else verdict = result
        state.verdict = verdict
      }
      if (verdict.status === 'reject') {
        // A weak candidate (bare JSON, `[`, a name) may have swallowed a real envelope: always rescan.
        rejectLength = Math.min(rejectLength, state.weak ? 1 : Math.max(1, verdict.length ?? 1))
        continue
      }
      if (verdict.status === 'partial') return 'wait'
      return accept(current, state, verdict.length, verdict.calls, verdict.malformed, bodyText(), final)
    }
    const second = repeatedOpener(current, final)
    if (second === PARTIAL) return 'wait'
    if (second !== NO) {
      // `<tool_call>\n<tool_call>{…}`: the first opener waits with the candidate at the second.
      candidate = undefined
      dangling = current.offset
      scanned = second
      scanAtLine = lineStartAt(second)
      return 'done'
    }
    rejectCandidate(current, Number.isFinite(rejectLength) ? rejectLength : 1)
    return 'done'
  }

  /**
   * Where the same strong opener starts again after the rejected candidate's opener and whitespace:
   * its index, `PARTIAL` while the text cannot tell yet, `NO` when it does not (or the opener is a word).
   */
  function repeatedOpener(current: Candidate, final: boolean): number {
    const at = current.offset
    const entries = strong.get(text.charCodeAt(at))
    if (entries === undefined || isWordCode(text.charCodeAt(at))) return NO
    let marker: string | undefined
    for (const entry of entries) if (entry.marker.length >= 3 && text.startsWith(entry.marker, at) && (marker === undefined || entry.marker.length > marker.length)) marker = entry.marker
    if (marker === undefined) return NO
    const next = skipWhitespace(text, at + marker.length)
    if (next >= text.length) return final ? NO : PARTIAL
    const again = literalAt(text, next, marker)
    if (again === PARTIAL) return final ? NO : PARTIAL
    return again === NO ? NO : next
  }

  /** Whether a strong opener starts at `pos` (leftover debris is never one). */
  function strongOpenerAt(pos: number): boolean {
    const entries = strong.get(text.charCodeAt(pos))
    if (entries === undefined) return false
    for (const entry of entries) if (text.startsWith(entry.marker, pos)) return true
    return false
  }

  /** Removes the marker debris right after a call (`leftovers.ts`); `wait` while it may still come. */
  function stripLeftovers(final: boolean): 'wait' | 'done' {
    for (;;) {
      const at = skipWhitespace(text, 0)
      if (at >= text.length) {
        if (final) afterCall = false
        return final ? 'done' : 'wait'
      }
      const end = leftoverAt(text, at, strongOpenerAt)
      if (end === NO || (end === PARTIAL && final && !cutLeftoverAt(text, at))) {
        afterCall = false
        return 'done'
      }
      if (end === PARTIAL && !final) return 'wait'
      // A token, or one cut off by the end of the message (`</tool_`): removed like the call.
      const cut = end === PARTIAL ? text.length : end
      noteGap(text.slice(0, at))
      if (pending !== undefined) pending.text += text.slice(0, cut)
      previousCode = text.charCodeAt(cut - 1)
      text = text.slice(cut)
      scanned = 0
      scanAtLine = true
      baseAtLine = true
      if (end === PARTIAL) {
        afterCall = false
        return 'done'
      }
    }
  }

  function shouldMatch(state: FormatState, bodyLength: number): boolean {
    if (state.lastLength < 0) return true
    if (bodyLength <= state.lastLength) return false
    // Each match re-reads (and flattens) the body, so for long bodies re-match only after geometric
    // growth: the total cost stays linear. Verdicts are stable, so this delays, never changes, them.
    if (state.waitFor !== undefined && state.waitFor.length > 0) return state.triggered && (bodyLength <= 32_768 || bodyLength >= state.lastLength * 1.125)
    return bodyLength <= 1024 || bodyLength >= state.lastLength * 1.25
  }

  /** Marks the candidate's formats whose `waitFor` literal arrived with `chunk` (seen with the recent tail). */
  function noteArrival(chunk: string): void {
    const before = recent.length
    const window = recent + chunk
    recent = window.length > RECENT ? window.slice(-RECENT) : window
    for (const state of candidate!.states) {
      if (state.verdict !== undefined || state.triggered || state.waitFor === undefined) continue
      for (const literal of state.waitFor) {
        // Only occurrences that end in the new chunk count (older ones were seen before).
        if (literal.length > RECENT || window.indexOf(literal, Math.max(0, before - literal.length + 1)) >= 0) {
          state.triggered = true
          break
        }
      }
    }
  }

  function accept(current: Candidate, state: FormatState, length: number, calls: ParsedCall[], malformed: MalformedCall[] | undefined, body: string, final: boolean): 'wait' | 'done' {
    for (const call of calls) {
      if (tools.resolve(call.name) === undefined) {
        // A call-shaped text naming an undeclared tool is content, verbatim.
        rejectCandidate(current, Math.max(1, length))
        return 'done'
      }
    }
    if (state.weak) {
      current.eol = { length: Math.max(1, length), calls, malformed, format: state }
      return finishEol(current, body, final)
    }
    deliver(current, length, calls, malformed, state)
    return 'done'
  }

  /** A weak match counts only when the rest of its line is blank. */
  function finishEol(current: Candidate, body: string, final: boolean): 'wait' | 'done' {
    const eol = current.eol!
    let k = eol.length
    while (k < body.length && (body.charCodeAt(k) === 32 || body.charCodeAt(k) === 9 || body.charCodeAt(k) === 13)) k++
    if (k === body.length && !final) return 'wait'
    if (k < body.length && body.charCodeAt(k) !== 10) {
      rejectCandidate(current, eol.length)
      return 'done'
    }
    deliver(current, eol.length, eol.calls, eol.malformed, eol.format)
    return 'done'
  }

  function rejectCandidate(current: Candidate, length: number): void {
    candidate = undefined
    const end = Math.min(text.length, current.offset + length)
    const atLine = lineStartAt(end)
    const before = text.length
    release(end)
    scanned = end - (before - text.length)
    scanAtLine = atLine
  }

  function deliver(current: Candidate, length: number, calls: ParsedCall[], malformed: MalformedCall[] | undefined, state: FormatState): void {
    candidate = undefined
    const recognised: RecognisedCall[] = calls.map((call) => ({ name: tools.resolve(call.name)!, arguments: JSON.stringify(call.arguments), format: state.format.id }))
    const placed = malformed === undefined || malformed.length === 0 ? undefined : malformed.map((entry) => placeMalformed(entry, state.format.id))
    const end = current.offset + length
    const raw = text.slice(0, end)
    previousCode = end > 0 ? text.charCodeAt(end - 1) : previousCode
    text = text.slice(end)
    // Right after a removed call counts as a line start (stripped calls come back to back).
    baseAtLine = true
    scanned = 0
    scanAtLine = true
    const defer = deferCalls || (state.weak && (state.format.position === 'end' || !current.messageStart))
    if (defer) {
      afterCall = true
      sinceCall = true
      if (pending === undefined) pending = { text: '', calls: [], malformed: undefined }
      pending.text += raw
      if (placed !== undefined) {
        const before = pending.calls.length
        pending.malformed ??= []
        for (const entry of placed) pending.malformed.push({ at: entry.at + before, call: entry.call })
      }
      pending.calls.push(...recognised)
      return
    }
    // Text before the call: remember the whitespace removed, for a separator if text follows.
    if (emittedNonSpace) {
      gap ??= { newline: false, any: false }
      noteGap(raw.slice(0, current.offset))
    }
    dropLeadingSpace = true
    afterCall = true
    sinceCall = true
    if (placed === undefined) onCalls(recognised)
    else onCalls(recognised, placed)
  }

  /** Held trailing whitespace beyond the cap goes out as text (a model can emit megabytes of it). */
  function flushHeldSpace(): void {
    const held = text
    text = ''
    scanned = 0
    emitText(held)
  }

  function process(final: boolean): void {
    for (;;) {
      if (candidate !== undefined) {
        if (evaluate(final) === 'wait') return
        continue
      }
      if (afterCall && stripLeftovers(final) === 'wait') return
      if (scanned >= text.length) break
      scan()
      if (candidate === undefined) break
    }
    if (candidate === undefined && scanned >= text.length && text.length > maxHeldChars) flushHeldSpace()
  }

  return {
    feed(chunk) {
      if (chunk === '') return
      // Fast path (most chunks): no candidate, no line start, nothing that could open a call.
      if (candidate === undefined && pending === undefined && !dropLeadingSpace && !scanAtLine && !afterCall) {
        const whole = text === '' ? chunk : text + chunk
        const hold = plainUntil(whole, index, previousCode)
        if (hold >= 0) {
          const k = trimEndIndex(whole, hold)
          if (k > 0) {
            sinceCall = false
            onText(k === whole.length ? whole : whole.slice(0, k))
            previousCode = whole.charCodeAt(k - 1)
            emittedNonSpace = true
            baseAtLine = false
          }
          text = k === 0 ? whole : whole.slice(k)
          scanned = hold - k
          if (text.length > maxHeldChars && scanned === text.length) flushHeldSpace()
          return
        }
        text = whole
        process(false)
        return
      }
      if (candidate !== undefined) noteArrival(chunk)
      text += chunk
      process(false)
    },
    finish() {
      process(true)
      if (text !== '') {
        emitText(text)
        text = ''
        scanned = 0
      }
      if (pending !== undefined) {
        if (contentSeen) releasePendingAsText()
        else {
          const { calls, malformed } = pending
          pending = undefined
          if (malformed === undefined) onCalls(calls)
          else onCalls(calls, malformed)
        }
      }
    },
    contentFollows() {
      contentSeen = true
      releasePendingAsText()
    },
  }
}
