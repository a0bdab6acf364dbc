/**
 * Muse Glimmer tool calls (research table row 46; Ollama's `glimmer` parser): a harmony-like message
 * header addressed to a tool, then `<atem:function_calls>` holding invokes, then an end token:
 * `<|start|>assistant to=get_weather<|message|><atem:function_calls><atem:invoke name="get_weather"><atem:parameter name="city">Paris</atem:parameter></atem:invoke></atem:function_calls><|eom|>`.
 * Generation usually starts after `<|start|>assistant` (it is in the prompt), i.e. at ` to=NAME`
 * (`glimmer_atem_recipient`, read at line starts).
 * Values are raw text typed from the tool's schema; several invokes per block. A message addressed
 * to a declared tool whose body is a JSON object is a call too; any other body addressed to a
 * declared tool is a broken call (reported). `to=self` (reasoning) and undeclared recipients are
 * text. The boundary tokens the model sometimes writes into an invoke name are stripped.
 * @module
 */
import { toArguments } from '../call-shape.js'
import { parseFlexibleJson } from '../flexible-json.js'
import { jsonWaitFor } from '../json-calls-at.js'
import { NO, PARTIAL, findLiteral, jsonValueEnd, skipWhitespace, whichLiteralAt } from '../scan.js'
import { matchInvokeXml, type InvokeXmlSyntax } from './invoke-xml.js'
import type { MatchContext, MatchResult, ToolCallFormat } from './types.js'

const START = '<|start|>assistant'
const RECIPIENT = 'to='
const MESSAGE = '<|message|>'
const BLOCK = '<atem:function_calls>'
/** Tokens that end a Glimmer message (or start the next one). */
const ENDS = ['<|eom|>', '<|eot|>', '<|end|>', '<|call|>']
const NEXT_HEADER = '<|start|>'
const MAX_HEADER = 200

/** Boundary tokens (`<|message|>`, `<|eom|>`…) the model sometimes writes into an invoke name. */
const BOUNDARY_TOKEN = /<\|[a-z_]{1,16}\|>/g

const SYNTAX: InvokeXmlSyntax = {
  wrappers: [BLOCK],
  closers: ['</atem:function_calls>'],
  invokeOpens: ['<atem:invoke'],
  invokeCloses: ['</atem:invoke>'],
  paramOpens: ['<atem:parameter'],
  paramCloses: ['</atem:parameter>'],
  nameStyle: 'attribute',
  value: 'typed',
  cleanName: (raw) => raw.replace(BOUNDARY_TOKEN, ''),
}

const partial = (waitFor?: readonly string[]): MatchResult => (waitFor === undefined ? { status: 'partial' } : { status: 'partial', waitFor })
const reject = (length?: number): MatchResult => (length === undefined ? { status: 'reject' } : { status: 'reject', length })

/** Shifts a verdict on `text.slice(offset)` to `text`. */
function shifted(result: MatchResult, offset: number): MatchResult {
  if (result.status === 'partial') return result
  if (result.status === 'reject') return result.length === undefined ? result : { ...result, length: result.length + offset }
  return { ...result, length: result.length + offset }
}

/**
 * A match followed by an optional end token: the token goes with it (waits while it may still come;
 * cut off by the end of the message after three characters, `<|e`, it goes too).
 */
function withEndToken(text: string, result: MatchResult, final: boolean): MatchResult {
  if (result.status !== 'match') return result
  const j = skipWhitespace(text, result.length)
  if (j >= text.length) return final ? result : partial()
  const end = whichLiteralAt(text, j, ENDS)
  if (end === PARTIAL) return final ? (text.length - j >= 3 ? { ...result, length: text.length } : result) : partial()
  return end === NO ? result : { ...result, length: j + ENDS[end]!.length }
}

/**
 * The recipient header from `pos` (after the opener) up to `<|message|>`, on one line: the recipient
 * and where the body starts. Harmony headers (`<|channel|>`, `<|constrain|>`) are not Glimmer's.
 */
function header(text: string, pos: number): { recipient: string; bodyStart: number } | MatchResult {
  const message = text.indexOf(MESSAGE, pos)
  const limit = message < 0 ? text.length : message
  const head = text.slice(pos, limit)
  const token = head.indexOf('<|')
  // A token in the header is harmony's, unless it is `<|message|>` still arriving.
  if (head.length > MAX_HEADER || head.includes('\n') || (token >= 0 && (message >= 0 || !MESSAGE.startsWith(head.slice(token))))) return reject()
  if (message < 0) return partial()
  const words = head.trim().split(/\s+/)
  const word = words.find((candidate) => candidate.startsWith(RECIPIENT))
  if (word === undefined) return reject()
  return { recipient: word.slice(RECIPIENT.length), bodyStart: message + MESSAGE.length }
}

/** A message body addressed to the declared tool `name`: JSON arguments, or a broken call. */
function directBody(text: string, start: number, name: string, context: MatchContext): MatchResult {
  const { final } = context
  if (text[start] === '{') {
    const end = jsonValueEnd(text, start, context.memo)
    if (end === PARTIAL) return final ? { status: 'reject', length: text.length, cut: { name } } : partial(jsonWaitFor(text, start, context.memo))
    if (end !== NO) {
      const parsed = parseFlexibleJson(text.slice(start, end))
      const args = parsed.ok ? toArguments(parsed.value) : undefined
      if (args !== undefined) return withEndToken(text, { status: 'match', length: end, calls: [{ name, arguments: args }] }, final)
    }
  }
  // Not a JSON object: a broken call, up to its end token (or the next header).
  let stop = -1
  for (const literal of [...ENDS, NEXT_HEADER]) {
    const index = findLiteral(text, literal, start, context.memo)
    if (index >= 0 && (stop < 0 || index < stop)) stop = index
  }
  if (stop < 0) return final ? { status: 'reject', length: text.length, cut: { name } } : partial([...ENDS, NEXT_HEADER])
  const which = whichLiteralAt(text, stop, ENDS)
  const length = which >= 0 ? stop + ENDS[which]!.length : stop
  return { status: 'match', length, calls: [], malformed: [{ name, text: text.slice(0, length), reason: 'the tool message is not <atem:function_calls> or a JSON object', at: 0 }] }
}

function matchGlimmer(text: string, context: MatchContext): MatchResult {
  const { final } = context
  const opener = whichLiteralAt(text, 0, [START, RECIPIENT, BLOCK])
  if (opener === PARTIAL) return partial()
  if (opener === NO) return reject()
  // `<atem:function_calls>` without its header (the header was in the prompt, or stripped).
  if (opener === 2) return withEndToken(text, matchInvokeXml(text, context, SYNTAX), final)
  const head = header(text, opener === 0 ? START.length : 0)
  if ('status' in head) return head.status === 'partial' && final ? reject(text.length) : head
  const recipient = head.recipient
  const bodyStart = skipWhitespace(text, head.bodyStart)
  if (bodyStart >= text.length) return final ? reject(text.length) : partial()
  const block = whichLiteralAt(text, bodyStart, [BLOCK])
  if (block === PARTIAL) return final ? reject(text.length) : partial()
  if (block !== NO) {
    // The invokes name the tools; the header's recipient need not be one (`to=tools`).
    const inner = shifted(matchInvokeXml(text.slice(bodyStart), context, SYNTAX), bodyStart)
    return withEndToken(text, inner, final)
  }
  // `to=self` (reasoning) or a message to the user: the header is content, the body is scanned on.
  if (context.tools.resolve(recipient) === undefined) return reject(recipient === 'self' ? head.bodyStart : undefined)
  return directBody(text, bodyStart, recipient, context)
}

/** Muse Glimmer `<|start|>assistant to=NAME<|message|><atem:function_calls>…</atem:function_calls>` tool messages. */
export const glimmerAtem: ToolCallFormat = {
  id: 'glimmer_atem',
  strength: 'strong',
  starts: [START, BLOCK],
  match: matchGlimmer,
}

/**
 * The same message when generation starts at the recipient (`to=NAME<|message|>…`, the
 * `<|start|>assistant` being in the prompt). Weak (line start only, calls starting or ending the
 * message): a letter opener counted anywhere costs plain-text throughput (every word-initial `t`).
 */
export const glimmerAtemRecipient: ToolCallFormat = {
  id: 'glimmer_atem_recipient',
  strength: 'weak',
  starts: [RECIPIENT],
  match: matchGlimmer,
}
