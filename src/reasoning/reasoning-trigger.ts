/**
 * The reasoning transform's byte-level trigger: a cheap look at one upstream event's payload
 * (JSON object text, as bytes) that says whether the transform could change it. While it says
 * no, a streamed answer stays on the gateway's byte path; from the first yes on, the transform
 * runs on chunks, started in the state it would have reached (see `resume`).
 *
 * Why it suffices, for `split`/`strip` with forwarding on and no start window (the only options
 * it is used with; with `forwardReasoning: false` every `reasoning_content` changes, and a start
 * window holds from the first byte). With those options the transform changes a choice only when:
 * - its content holds a tag, or what could start one: every tag begins with `<` or `&`, which
 *   JSON writes as themselves or as `\u003c`/`\u003C`/`\u0026`. The trigger fires on `<`, `&`
 *   and on any `\u00` escape of a printable ASCII character (`\u0020`-`\u007f`: no serializer
 *   writes those escaped but for `<`, `>`, `&`, `'`) in the content's text, and on such an escape
 *   in any key (it could spell one of the keys below); other values are never read by the transform;
 * - it carries a `reasoning` or `thinking` field (renamed; `null` too): fires on those keys;
 * - its first content is blank (the splitter holds whitespace at the start of a reply until it
 *   sees whether a block opens it): fires on content that may be all whitespace (no printable
 *   ASCII character, no character outside the few UTF-8 lead bytes of Unicode spaces) while the
 *   choice has had no visible content.
 * Everything else (a choice whose reply is under way, a chunk without content, a finishing chunk
 * (the splitter's flush releases nothing when it holds nothing), usage chunks) is passed on as
 * the same object and leaves nothing held. The state the transform keeps across such chunks is
 * per choice "its reply is under way" (its splitter past the start rules) and "it finished", so
 * the trigger tracks both for choice 0 and fires on any event with another choice index (or a
 * `"content"` or `"finish_reason"` key and no `"index"`, or two `"content"` keys); a transform made
 * with `resume` starts there (a fresh splitter would not do: at the start of a reply it holds
 * whitespace and drops it before an opening tag, in the middle it passes it). It takes the `"content"` key with a string value for the delta's
 * (no other string `content` exists in a chat chunk: `logprobs.content` is an array), and reads
 * keys only outside strings (one pass: every string is read once).
 *
 * It also fires on a payload the chunk path would not send as its bytes whatever the transform
 * (not an object with a top-level `choices` array: an error, a usage-only object without one),
 * so the gated relay needs no pass of its own over each payload (`AnswerGate.checksChunkShape`).
 * And it reads most events only in part: a payload whose bytes before and after its content
 * string are those of the last payload it read whole is decided from that one's findings and
 * its own string (a stream's events differ in their text alone, and a JavaScript loop over bytes
 * costs ~1 ns each: the head is compared natively where Node's Buffer is there).
 * @module
 */

/** The trigger of one streamed answer (it keeps state across events). */
export interface ReasoningTrigger {
  /**
   * True when the transform could change the event whose payload is `payload[start..end)`;
   * false promises it passes on unchanged. Also true for a payload the chunk path would not send
   * as its bytes whatever the transform (see `AnswerGate.checksChunkShape`): one that does not
   * start with `{` or has no top-level `choices` key, or one whose value is not an array.
   */
  passesUntil(payload: Uint8Array, start?: number, end?: number): boolean
  /** Where the transform stands after the events that passed: what it starts from when the trigger fires. */
  readonly resume: ReasoningResume
}

/** The state of a reasoning transform after chunks it passed unchanged (see `ReasoningChunkTransformOptions.resume`). */
export interface ReasoningResume {
  /** Choices whose reply is under way: visible content passed (their splitter is past the start rules). */
  readonly underway: readonly number[]
  /** Choices that finished (a `finish_reason` passed). */
  readonly finished: readonly number[]
}

/** Creates the trigger for one streamed answer. */
export function createReasoningTrigger(): ReasoningTrigger {
  return new Trigger()
}

const QUOTE = 34
const BACKSLASH = 92
const COLON = 58
const LEFT_BRACE = 123
const RIGHT_BRACE = 125
const LEFT_BRACKET = 91
const RIGHT_BRACKET = 93
const NONE: readonly number[] = Object.freeze([])
const CHOICE_ZERO: readonly number[] = Object.freeze([0])

/** The keys the trigger looks at (any other key is `OTHER`). */
const OTHER = 0
const CONTENT = 1
const INDEX = 2
const FINISH = 3
const RENAMED = 4
const CHOICES = 5
const bytesOf = (text: string): Uint8Array => Uint8Array.from(text, (character) => character.charCodeAt(0))
const CONTENT_KEY = bytesOf('content')
const CHOICES_KEY = bytesOf('choices')
const INDEX_KEY = bytesOf('index')
const FINISH_KEY = bytesOf('finish_reason')
const REASONING_KEY = bytesOf('reasoning')
const THINKING_KEY = bytesOf('thinking')

/** What a content string held: nothing, something surely visible, or maybe only whitespace. */
const EMPTY_TEXT = 1
const VISIBLE_TEXT = 2
const BLANK_TEXT = 3

/** What `#again` compares a payload with (see `Trigger.#last`). */
interface LastPayload {
  head: Uint8Array
  tail: Uint8Array
  indexed: boolean
  finishing: boolean
}

class Trigger implements ReasoningTrigger {
  #underway = false
  #finished = false

  get resume(): ReasoningResume {
    return { underway: this.#underway ? CHOICE_ZERO : NONE, finished: this.#finished ? CHOICE_ZERO : NONE }
  }

  /**
   * The last payload read in full that passed, when it had one content string: its bytes up to
   * and including the string's opening quote (`head`), from its closing quote on (`tail`), and
   * what the scan found outside the string. A payload with the same head and tail around another
   * string (the common case: a stream's events differ only in their text) is decided from these
   * and a scan of its string alone: the scan of the same bytes would find the same.
   */
  #last: LastPayload | undefined

  passesUntil(payload: Uint8Array, start = 0, end = payload.length): boolean {
    const last = this.#last
    if (last !== undefined) {
      const decided = this.#again(payload, start, end, last)
      if (decided !== UNDECIDED) return decided === FIRES
    }
    return this.#read(payload, start, end)
  }

  /** The payload is the last one's head and tail around another string: decided from its string alone. */
  #again(payload: Uint8Array, start: number, end: number, last: LastPayload): number {
    const { head, tail } = last
    const from = start + head.length
    if (end - start < head.length + tail.length || !sameBytes(payload, start, head)) return UNDECIDED
    const scanned = scanContent(payload, from, end - tail.length + 1)
    if (scanned === FIRES) return FIRES
    const close = Math.floor(scanned / 4)
    if (close !== end - tail.length || !sameBytes(payload, close, tail)) return UNDECIDED
    return this.#decide(true, 1, last.indexed, last.finishing, scanned - close * 4) ? FIRES : PASSES
  }

  /**
   * One pass over the payload: strings are read once, keys told apart by their length and bytes,
   * nesting counted outside strings (a top-level `choices` key is one at depth 1).
   */
  #read(payload: Uint8Array, start: number, end: number): boolean {
    this.#last = undefined
    if (payload[start] !== LEFT_BRACE) return true
    const length = end
    /** The key whose value comes next. */
    let key = OTHER
    let depth = 0
    let choices = false
    let contents = 0
    let indexed = false
    let finishing = false
    let text = 0
    let open = -1
    let shut = -1
    for (let at = start; at < length; at++) {
      const byte = payload[at] as number
      if (byte === QUOTE) {
        let close = at + 1
        let escaped = false
        let kind = 0
        if (key === CONTENT) {
          // The content's text: everything the splitter could act on is looked at.
          const scanned = scanContent(payload, close, length)
          if (scanned === FIRES) return true
          close = Math.floor(scanned / 4)
          kind = scanned - close * 4
        } else {
          // A key, or a value the transform never reads: only its end matters (and a key's escapes).
          for (; close < length; close++) {
            const character = payload[close] as number
            if (character === QUOTE) break
            if (character === BACKSLASH) {
              escaped = true
              close += 1
            }
          }
        }
        let after = close + 1
        while (after < length) {
          const next = payload[after] as number
          if (next !== 32 && next !== 10 && next !== 13 && next !== 9) break
          after++
        }
        if (after < length && payload[after] === COLON) {
          // A key spelled with a printable character escaped could be any key: fire.
          if (escaped && hasEscapedAscii(payload, at + 1, close)) return true
          key = escaped ? OTHER : keyOf(payload, at + 1, close)
          if (key === RENAMED) return true
          if (key === CONTENT && ++contents > 1) return true
          if (key === CHOICES) {
            if (depth !== 1) key = OTHER
            else choices = true
          }
          at = after
        } else {
          if (key === CONTENT) {
            text = kind
            if (close < length) {
              open = at
              shut = close
            }
          } else if (key === FINISH) finishing = true
          // A top-level `choices` that is a string: the chunk path completes the chunk.
          else if (key === CHOICES) return true
          key = OTHER
          at = close
        }
        continue
      }
      if (byte === LEFT_BRACE || byte === LEFT_BRACKET) depth++
      else if (byte === RIGHT_BRACE || byte === RIGHT_BRACKET) depth--
      if (key === OTHER || byte === 32 || byte === 10 || byte === 13 || byte === 9) continue
      // The first byte of a value that is not a string.
      if (key === CHOICES && byte !== LEFT_BRACKET) return true
      if (key === FINISH && !isNull(payload, at)) finishing = true
      if (key === INDEX) {
        // Only choice 0 (a tool call's index 0 too): anything else goes to the chunk path.
        if (byte !== 48 || isNumberByte(payload[at + 1])) return true
        indexed = true
      }
      key = OTHER
    }
    if (this.#decide(choices, contents, indexed, finishing, text)) return true
    if (open !== -1 && choices) this.#last = { head: payload.slice(start, open + 1), tail: payload.slice(shut, end), indexed, finishing }
    return false
  }

  /** The verdict once a payload is read: fires, or passes and moves choice 0's state on. */
  #decide(choices: boolean, contents: number, indexed: boolean, finishing: boolean, text: number): boolean {
    if (!choices) return true
    if (contents > 0 || finishing) {
      if (!indexed || (text === BLANK_TEXT && !this.#underway)) return true
      if (text === VISIBLE_TEXT) this.#underway = true
      if (finishing) this.#finished = true
    }
    return false
  }
}

const UNDECIDED = -2
const PASSES = 0
/** scanContent's answer for text that could start a tag (also #again's). */
const FIRES = -1

/**
 * Reads a content string from `from` (after its opening quote) up to `end`: FIRES on what could
 * start a tag (`<`, `&`, a printable ASCII character written `\u00XX`), else its closing quote's
 * index (`end` when there is none) times 4 plus what it held (EMPTY_TEXT, VISIBLE_TEXT, BLANK_TEXT).
 */
function scanContent(payload: Uint8Array, from: number, end: number): number {
  let close = from
  let visible = false
  for (; close < end; close++) {
    const character = payload[close] as number
    if (character === QUOTE) break
    if (character === BACKSLASH) {
      const next = payload[close + 1]
      if (next === 117) {
        if (isEscapedAscii(payload, close)) return FIRES
        close += 5
        continue
      }
      // \n \r \t \f are whitespace; \" \\ \/ \b are not.
      if (next !== 110 && next !== 114 && next !== 116 && next !== 102) visible = true
      close += 1
      continue
    }
    // What could start a tag.
    if (character === 60 || character === 38) return FIRES
    // A printable ASCII character, or a UTF-8 lead byte no Unicode space starts with (C2, E1, E2, E3, EF).
    if (!visible && ((character > 32 && character < 127) || (character >= 0xc3 && character !== 0xe1 && character !== 0xe2 && character !== 0xe3 && character !== 0xef))) visible = true
  }
  if (close > end) close = end
  return close * 4 + (close === from ? EMPTY_TEXT : visible ? VISIBLE_TEXT : BLANK_TEXT)
}

/**
 * Node's `Buffer.prototype.compare` (a native memcmp, ~2.5× faster than a loop over a chunk's head
 * of ~170 bytes), when the runtime has it; this module imports nothing from `node:*` and runs without.
 */
const nativeCompare = (globalThis as { Buffer?: { prototype: { compare(this: Uint8Array, target: Uint8Array, targetStart: number, targetEnd: number, sourceStart: number, sourceEnd: number): number } } }).Buffer?.prototype.compare

/** `bytes` stand at `from` (the caller made sure `payload` is long enough). */
function sameBytes(payload: Uint8Array, from: number, bytes: Uint8Array): boolean {
  const size = bytes.length
  if (size > 32 && nativeCompare !== undefined) return nativeCompare.call(payload, bytes, 0, size, from, from + size) === 0
  for (let index = 0; index < size; index++) if (payload[from + index] !== bytes[index]) return false
  return true
}

const REASONING_NEEDLE = bytesOf('"reasoning"')
const THINKING_NEEDLE = bytesOf('"thinking"')

/**
 * The trigger's rule for a whole (non-streamed) answer, as its JSON bytes: false promises the
 * reasoning transform (`split`/`strip`, forwarding on) returns the completion unchanged. True
 * when the bytes hold what could start a tag (`<`, `&`, a printable ASCII character written
 * `\u00XX`) or a `"reasoning"`/`"thinking"` string (a field to rename; spelled with escapes it
 * holds a `\u00XX` escape). Anything else leaves every message as it is: no tag in content (an
 * orphan close tag starts with `<` too), and no field to rename.
 */
export function wholeAnswerCouldChange(bytes: Uint8Array): boolean {
  if (bytes.indexOf(60) !== -1 || bytes.indexOf(38) !== -1) return true
  for (let at = bytes.indexOf(BACKSLASH); at !== -1; at = bytes.indexOf(BACKSLASH, at + 2)) if (isEscapedAscii(bytes, at)) return true
  return holds(bytes, REASONING_NEEDLE) || holds(bytes, THINKING_NEEDLE)
}

/** Node's `Buffer.prototype.indexOf` (a native search) when the runtime has it. */
const nativeIndexOf = (globalThis as { Buffer?: { prototype: { indexOf(this: Uint8Array, value: Uint8Array): number } } }).Buffer?.prototype.indexOf

/** `needle` occurs in `bytes`. */
function holds(bytes: Uint8Array, needle: Uint8Array): boolean {
  if (nativeIndexOf !== undefined) return nativeIndexOf.call(bytes, needle) !== -1
  const first = needle[0] as number
  for (let at = bytes.indexOf(first); at !== -1 && at + needle.length <= bytes.length; at = bytes.indexOf(first, at + 1)) if (sameBytes(bytes, at, needle)) return true
  return false
}

/** `\u00XX` at `at`, XX from 20 to 7F: a printable ASCII character written escaped (`<`, `&`, a key's letter). */
function isEscapedAscii(payload: Uint8Array, at: number): boolean {
  if (payload[at + 1] !== 117 || payload[at + 2] !== 48 || payload[at + 3] !== 48) return false
  const digit = payload[at + 4] as number
  return digit >= 50 && digit <= 55
}

/** Such an escape between `from` and `to` (a key's text). */
function hasEscapedAscii(payload: Uint8Array, from: number, to: number): boolean {
  for (let at = from; at < to; at++) {
    if (payload[at] !== BACKSLASH) continue
    if (isEscapedAscii(payload, at)) return true
    at += 1
  }
  return false
}

/** Which key the bytes from `from` to `to` spell (told apart by length first: one comparison at most). */
function keyOf(payload: Uint8Array, from: number, to: number): number {
  switch (to - from) {
    case 5:
      return same(payload, from, INDEX_KEY) ? INDEX : OTHER
    case 7:
      if (payload[from] === 99 && payload[from + 2] === 110) return same(payload, from, CONTENT_KEY) ? CONTENT : OTHER
      return same(payload, from, CHOICES_KEY) ? CHOICES : OTHER
    case 8:
      return same(payload, from, THINKING_KEY) ? RENAMED : OTHER
    case 9:
      return same(payload, from, REASONING_KEY) ? RENAMED : OTHER
    case 13:
      return same(payload, from, FINISH_KEY) ? FINISH : OTHER
    default:
      return OTHER
  }
}

/** `name` stands at `from`. */
function same(payload: Uint8Array, from: number, name: Uint8Array): boolean {
  for (let index = 0; index < name.length; index++) if (payload[from + index] !== name[index]) return false
  return true
}

function isNull(payload: Uint8Array, at: number): boolean {
  return payload[at] === 110 && payload[at + 1] === 117 && payload[at + 2] === 108 && payload[at + 3] === 108
}

function isNumberByte(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 48 && byte <= 57) || byte === 46 || byte === 101 || byte === 69)
}
