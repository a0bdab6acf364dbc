/**
 * gpt-oss harmony tool calls, as text when the server kept special tokens but did not parse them:
 * `<|start|>assistant<|channel|>commentary to=functions.NAME <|constrain|>json<|message|>{…}<|call|>`.
 * The recipient may also sit in the role part (`<|start|>assistant to=functions.NAME<|channel|>commentary json<|message|>`),
 * generation usually starts at `<|channel|>` (the `<|start|>assistant` is in the prompt), and
 * `<|constrain|>json` may be missing. Only messages addressed to `functions.*` are calls; other
 * harmony messages (analysis, final) are left alone.
 *
 * This file also holds `harmonyArguments`, shared with `harmony_stripped`.
 * @module
 */
import { toArguments } from '../call-shape.js'
import { parseFlexibleJson } from '../flexible-json.js'
import { NO, PARTIAL, jsonValueEnd, skipWhitespace, whichLiteralAt } from '../scan.js'
import { jsonWaitFor } from '../json-calls-at.js'
import type { MatchContext, MatchResult, ToolCallFormat } from './types.js'

const START = '<|start|>'
const CHANNEL = '<|channel|>'
/** The token that ends a harmony header and starts the body. */
export const HARMONY_MESSAGE = '<|message|>'
/** The token before a harmony content type (`<|constrain|>json`). */
export const HARMONY_CONSTRAIN = '<|constrain|>'
const MESSAGE = HARMONY_MESSAGE
/** Tokens that end a harmony message; `<|call|>` is the one a tool call uses. */
export const HARMONY_ENDS = ['<|call|>', '<|end|>', '<|return|>']
const MAX_HEADER = 400

const partial = (): MatchResult => ({ status: 'partial' })
const reject = (length?: number): MatchResult => (length === undefined ? { status: 'reject' } : { status: 'reject', length })

/**
 * The JSON arguments at `pos` and the optional end token: a `match` of `text.slice(0, end)`, or the
 * verdict while the body is incomplete. An empty body (`<|message|><|call|>`) is `{}`.
 */
export function harmonyArguments(text: string, pos: number, name: string, context: MatchContext): MatchResult {
  const { final } = context
  const start = skipWhitespace(text, pos)
  if (start >= text.length) return final ? reject(text.length) : partial()
  const empty = whichLiteralAt(text, start, HARMONY_ENDS)
  if (empty === PARTIAL) return final ? reject(text.length) : partial()
  if (empty !== NO) return { status: 'match', length: start + HARMONY_ENDS[empty]!.length, calls: [{ name, arguments: {} }] }
  const end = jsonValueEnd(text, start, context.memo)
  if (end === NO) return reject()
  if (end === PARTIAL) return final ? reject(text.length) : { status: 'partial', waitFor: jsonWaitFor(text, start) }
  const parsed = parseFlexibleJson(text.slice(start, end))
  const args = parsed.ok ? toArguments(parsed.value) : undefined
  if (args === undefined) return reject(end)
  const calls = [{ name, arguments: args }]
  const j = skipWhitespace(text, end)
  if (j >= text.length) return final ? { status: 'match', length: end, calls } : partial()
  const close = whichLiteralAt(text, j, HARMONY_ENDS)
  if (close === PARTIAL) return final ? { status: 'match', length: end, calls } : partial()
  return { status: 'match', length: close === NO ? end : j + HARMONY_ENDS[close]!.length, calls }
}

/** Reads the header up to `<|message|>`: the recipient, or a verdict. */
function header(text: string): { recipient: string | undefined; end: number } | MatchResult {
  const message = text.indexOf(MESSAGE)
  const limit = message < 0 ? text.length : message
  const head = text.slice(0, limit)
  // A header is short and holds only harmony tokens and words.
  if (head.length > MAX_HEADER || head.includes('\n\n')) return reject()
  if (message < 0) return text.length > MAX_HEADER ? reject() : partial()
  const words = head.replace(/<\|(?:start|channel|constrain)\|>/g, ' ').trim().split(/\s+/)
  let recipient: string | undefined
  for (const word of words) if (word.startsWith('to=')) recipient = word.slice(3)
  return { recipient, end: message + MESSAGE.length }
}

function matchHarmony(text: string, context: MatchContext): MatchResult {
  const opener = whichLiteralAt(text, 0, [START, CHANNEL])
  if (opener === PARTIAL) return partial()
  if (opener === NO) return reject()
  const head = header(text)
  if ('status' in head) return head.status === 'partial' && context.final ? reject(text.length) : head
  const name = head.recipient?.startsWith('functions.') === true ? head.recipient.slice('functions.'.length) : undefined
  // Not addressed to a function (analysis / final text): the header is content, the text after it is scanned on.
  if (name === undefined || name === '') return reject(head.end)
  if (context.tools.resolve(name) === undefined) return reject()
  return harmonyArguments(text, head.end, name, context)
}

/** gpt-oss harmony `commentary to=functions.NAME … <|message|>{…}<|call|>` messages. */
export const harmony: ToolCallFormat = {
  id: 'harmony',
  strength: 'strong',
  starts: [`${START}assistant`, CHANNEL],
  match: matchHarmony,
}
