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
 * @module
 */
import { skipSpace } from '../openai/sse-bytes.js'

/** The trigger of one streamed answer (it keeps state across events). */
export interface ReasoningTrigger {
  /** True when the transform could change this event; false promises it passes on unchanged. */
  passesUntil(payload: Uint8Array): boolean
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
const NONE: readonly number[] = Object.freeze([])
const CHOICE_ZERO: readonly number[] = Object.freeze([0])

/** The keys the trigger looks at (any other key is `OTHER`). */
const OTHER = 0
const CONTENT = 1
const INDEX = 2
const FINISH = 3
const RENAMED = 4
const bytesOf = (text: string): number[] => Array.from(text, (character) => character.charCodeAt(0))
const KEYS: ReadonlyArray<[number[], number]> = [
  [bytesOf('content'), CONTENT],
  [bytesOf('index'), INDEX],
  [bytesOf('finish_reason'), FINISH],
  [bytesOf('reasoning'), RENAMED],
  [bytesOf('thinking'), RENAMED],
]

/** What a content string held: nothing, something surely visible, or maybe only whitespace. */
const EMPTY_TEXT = 1
const VISIBLE_TEXT = 2
const BLANK_TEXT = 3

class Trigger implements ReasoningTrigger {
  #underway = false
  #finished = false

  get resume(): ReasoningResume {
    return { underway: this.#underway ? CHOICE_ZERO : NONE, finished: this.#finished ? CHOICE_ZERO : NONE }
  }

  /** One pass over the payload: strings are read once, keys told apart by their bytes. */
  passesUntil(payload: Uint8Array): boolean {
    const length = payload.length
    /** The key whose value comes next. */
    let key = OTHER
    let contents = 0
    let indexed = false
    let finishing = false
    let text = 0
    for (let at = 0; at < length; at++) {
      const byte = payload[at] as number
      if (byte === QUOTE) {
        let end = at + 1
        let visible = false
        let escaped = false
        if (key === CONTENT) {
          // The content's text: everything the splitter could act on is looked at.
          for (; end < length; end++) {
            const character = payload[end] as number
            if (character === QUOTE) break
            if (character === BACKSLASH) {
              const next = payload[end + 1]
              if (next === 117) {
                if (isEscapedAscii(payload, end)) return true
                end += 5
                continue
              }
              // \n \r \t \f are whitespace; \" \\ \/ \b are not.
              if (next !== 110 && next !== 114 && next !== 116 && next !== 102) visible = true
              end += 1
              continue
            }
            // What could start a tag.
            if (character === 60 || character === 38) return true
            // A printable ASCII character, or a UTF-8 lead byte no Unicode space starts with (C2, E1, E2, E3, EF).
            if (!visible && ((character > 32 && character < 127) || (character >= 0xc3 && character !== 0xe1 && character !== 0xe2 && character !== 0xe3 && character !== 0xef))) visible = true
          }
        } else {
          // A key, or a value the transform never reads: only its end matters (and a key's escapes).
          for (; end < length; end++) {
            const character = payload[end] as number
            if (character === QUOTE) break
            if (character === BACKSLASH) {
              escaped = true
              end += 1
            }
          }
        }
        const after = skipSpace(payload, end + 1)
        if (payload[after] === COLON) {
          // A key spelled with a printable character escaped could be any key: fire.
          if (escaped && hasEscapedAscii(payload, at + 1, end)) return true
          key = escaped ? OTHER : keyOf(payload, at + 1, end)
          if (key === RENAMED) return true
          if (key === CONTENT && ++contents > 1) return true
          at = after
        } else {
          if (key === CONTENT) text = end === at + 1 ? EMPTY_TEXT : visible ? VISIBLE_TEXT : BLANK_TEXT
          else if (key === FINISH) finishing = true
          key = OTHER
          at = end
        }
        continue
      }
      if (key === OTHER || byte === 32 || byte === 10 || byte === 13 || byte === 9) continue
      // The first byte of a value that is not a string.
      if (key === FINISH && !isNull(payload, at)) finishing = true
      if (key === INDEX) {
        // Only choice 0 (a tool call's index 0 too): anything else goes to the chunk path.
        if (byte !== 48 || isNumberByte(payload[at + 1])) return true
        indexed = true
      }
      key = OTHER
    }
    if (contents > 0 || finishing) {
      if (!indexed || (text === BLANK_TEXT && !this.#underway)) return true
      if (text === VISIBLE_TEXT) this.#underway = true
      if (finishing) this.#finished = true
    }
    return false
  }
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

/** Which key the bytes from `from` to `to` spell. */
function keyOf(payload: Uint8Array, from: number, to: number): number {
  const size = to - from
  for (const [name, key] of KEYS) {
    if (name.length !== size) continue
    let index = 0
    while (index < size && payload[from + index] === name[index]) index++
    if (index === size) return key
  }
  return OTHER
}


function isNull(payload: Uint8Array, at: number): boolean {
  return payload[at] === 110 && payload[at + 1] === 117 && payload[at + 2] === 108 && payload[at + 3] === 108
}

function isNumberByte(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 48 && byte <= 57) || byte === 46 || byte === 101 || byte === 69)
}
