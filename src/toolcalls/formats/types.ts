/**
 * The one interface every text tool-call format implements, and the types the engine hands it.
 *
 * A format is a pure recogniser: the engine finds a place where one of the format's `starts`
 * markers begins, then calls `match(text, context)` with the text from that place to the end of
 * what has arrived so far, again and again as more text arrives, until the format answers
 * `match` or `reject`. Everything else (holding back, releasing content, whitespace, the
 * declared-tool check, weak/strong placement rules, reasoning, ids, OpenAI deltas) is the
 * engine's job. See `.coord/toolcalls.md` for a walk-through and `formats/hermes.ts` for an example.
 *
 * Helpers a format needs live next door (all pure, all chunk-safe):
 * - `../scan.ts`: `PARTIAL`/`NO` result codes, `literalAt`, `whichLiteralAt`, `skipWhitespace`,
 *   `skipSpaces`, `jsonValueEnd` (string-aware, resumable balanced JSON/JSON5/Python-literal scan),
 *   `findLiteral` (resumable search for a closing tag), `identifierEnd`.
 * - `../flexible-json.ts`: `parseFlexibleJson` (JSON → json5 → repairs: trailing commas, single
 *   quotes, Python `True/False/None`, HTML entities, fences).
 * - `../call-shape.ts`: `callFromObject` (`{name, arguments|parameters}`, OpenAI `{type, function}`
 *   wrapper, `{id}`, strict about extra keys), `callsFromJson` (object, list, `{"tool_calls":[…]}`,
 *   `{"tool_call":{…}}`), `toArguments` (object, JSON/Python-repr string, null → `{}`).
 * - `../schema-typing.ts`: `typeXmlValue(raw, schema)` for XML parameter values,
 *   `trimFramingNewlines`, `propertySchema(tools, name, key)`.
 * - `../python-call.ts`: `pythonCallAt`, `pythonCallListAt`, `pythonValueAt` for pythonic calls.
 * @module
 */
import type { JsonValue } from '../../openai/types.js'

/** A JSON object: the decoded arguments of a call. */
export type JsonObject = { [key: string]: JsonValue }

/** One tool call a format recognised. The engine checks the name and assigns id and index. */
export interface ParsedCall {
  /** The tool name as written; the engine maps it to a declared tool (exact, then case-insensitive). */
  name: string
  /** The decoded arguments object (`{}` for none). The engine serialises it with `JSON.stringify`. */
  arguments: JsonObject
}

/**
 * A call inside a recognised call section that cannot be turned into a call (arguments that cannot
 * be repaired, a call cut off after complete ones). The section is still removed from the text; the
 * engine reports these through `onMalformedCall` with the format's id.
 */
export interface MalformedCall {
  /** The tool name as written, when it could be read. */
  name: string | undefined
  /** The call's raw text (the engine caps it). */
  text: string
  /** A short sentence saying what is wrong, e.g. `arguments are not valid JSON`. */
  reason: string
  /** How many of the match's `calls` come before it in the text (its place among them). */
  at: number
}

/** The tools the request declared, as the engine and the formats see them. */
export interface DeclaredTools {
  /** Declared names, in declaration order. */
  readonly names: readonly string[]
  /** The declared name `name` refers to (exact match, then a unique case-insensitive one), or `undefined`. */
  resolve(name: string): string | undefined
  /** The JSON schema of a declared tool's arguments object (`function.parameters`), if it has one. */
  schema(name: string): Record<string, unknown> | undefined
}

/** What `match` is told besides the text. */
export interface MatchContext {
  /**
   * True when no more text will arrive (end of the message). A format must then answer `match` or
   * `reject`; a `partial` answer at the end counts as a truncated call (released as content). A
   * complete body missing only its final close tag should be answered `match` here.
   */
  readonly final: boolean
  /** The declared tools; reject early (`reject`) when the name is written and not declared. */
  readonly tools: DeclaredTools
  /**
   * Scratch space that lives as long as this candidate (one start position, one format). Helpers
   * such as `jsonValueEnd` and `findLiteral` keep their progress here so re-matching a growing
   * text does not re-scan it; a format may store its own values too (keys are free-form).
   */
  readonly memo: Map<string, unknown>
}

/**
 * The answer of `match`. Verdicts must be stable: once a text gets `match` or `reject`, any longer
 * text (more appended) must get the same answer. So answer `partial` whenever text that has not
 * arrived yet could change the answer (e.g. an optional closing tag that may still follow).
 */
export type MatchResult =
  | {
      /** Could still become a call: the engine holds the text and calls again when more arrives. */
      status: 'partial'
      /**
       * Optional hint: the verdict cannot change until one of these literals appears in newly
       * arrived text (e.g. `['</tool_call>']` once the body has started), so the engine need not
       * call again before that (or before the end). Saves re-matching a long body per chunk.
       */
      waitFor?: readonly string[] | undefined
    }
  | {
      /** Not a call of this format here. */
      status: 'reject'
      /**
       * How many characters from the start are certainly not the start of any call (released as
       * content verbatim before scanning resumes). Default 1. Use the whole block's length when a
       * complete block turned out invalid, so its insides are not re-scanned.
       */
      length?: number | undefined
      /**
       * Final only: the text is a call of this format cut off by the end of the message (`name` when
       * it was written and declared). Right after a recovered call the engine removes it with that
       * call (a section cut off after a complete call) and reports it when named; elsewhere it is text.
       */
      cut?: { name: string | undefined } | undefined
    }
  | {
      /** A complete call (or several parallel calls) occupying `text.slice(0, length)`. */
      status: 'match'
      /** Characters consumed, markers and closing tags included. Whitespace after is the engine's job. */
      length: number
      /** The calls, in order. An empty list means "a call block with no calls": it is removed. */
      calls: ParsedCall[]
      /** Broken calls inside the block (removed with it, reported by the engine), in order. */
      malformed?: MalformedCall[] | undefined
    }

/**
 * A text tool-call format (one module per format in `src/toolcalls/formats/`).
 *
 * Placement rules applied by the engine:
 * - `strong` (a model-specific envelope or special token): a call anywhere in the message.
 * - `weak` (bare JSON, pythonic lists, `name{…}`, fences, stripped forms): only at the start of the
 *   message or of a line (after spaces/tabs), only when the rest of its last line is blank, and only
 *   when the calls start the message or end it (nothing but whitespace and calls after them);
 *   `position: 'end'` requires ending the message.
 * - In reasoning text every call must end the reasoning (with no content after) to count.
 *
 * @example
 * export const hermes: ToolCallFormat = {
 *   id: 'hermes', strength: 'strong', starts: ['<tool_call>'],
 *   match(text, context) { ... },
 * }
 */
export interface ToolCallFormat {
  /** Stable id, used in `formats` options and test names (snake_case, e.g. `qwen3_coder_xml`). */
  readonly id: string
  /** `strong`: counts anywhere; `weak`: only at message/line start and only as described above. */
  readonly strength: 'strong' | 'weak'
  /** Weak formats only: `'end'` when the calls must end the message (fences). @default 'start-or-end' */
  readonly position?: 'start-or-end' | 'end' | undefined
  /**
   * Literal texts that may open a call of this format (case-sensitive; list variants). The engine
   * calls `match` at every place where one begins (strong) or where one begins a line (weak). A
   * function receives the declared tools, for formats that start with a tool name (`name{…}`).
   */
  readonly starts: readonly string[] | ((tools: DeclaredTools) => readonly string[])
  /**
   * Recognises a call at the start of `text` (which begins with one of `starts`, or with a prefix
   * of one when the text is still short). Pure: same text and `final` → same answer.
   */
  match(text: string, context: MatchContext): MatchResult
}
