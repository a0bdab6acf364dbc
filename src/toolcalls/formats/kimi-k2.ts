/**
 * Kimi K2 / K2.5 tool calls:
 * `<|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:0<|tool_call_argument_begin|>{…}<|tool_call_end|><|tool_calls_section_end|>`.
 * Also read: the singular `<|tool_call_section_begin|>` (llama.cpp PR #17376), a section whose
 * begin token is missing (the call starts at `<|tool_call_begin|>`), calls whose begin tokens are
 * both missing (`functions.NAME:0<|tool_call_argument_begin|>{…}`, as leaked by servers that strip
 * special tokens), and a missing section end (max_tokens).
 * @module
 */
import { toArguments } from '../call-shape.js'
import { parseFlexibleJson } from '../flexible-json.js'
import { NO, PARTIAL, identifierEnd, jsonValueEnd, literalAt, skipWhitespace, whichLiteralAt } from '../scan.js'
import { jsonWaitFor } from '../json-calls-at.js'
import { matchCallSection, type CallStep } from './call-section.js'
import type { MatchContext, MatchResult, ParsedCall, ToolCallFormat } from './types.js'

const SECTION_BEGIN = ['<|tool_calls_section_begin|>', '<|tool_call_section_begin|>']
const SECTION_END = ['<|tool_calls_section_end|>', '<|tool_call_section_end|>']
const CALL_BEGIN = '<|tool_call_begin|>'
const ARGUMENT_BEGIN = '<|tool_call_argument_begin|>'
const CALL_END = '<|tool_call_end|>'
const FUNCTIONS = 'functions.'
/** `functions.NAME:IDX`, `NAME:IDX` or `functions.NAME`; the name is group 1. */
const CALL_ID = /^(?:functions\.)?([^:]+?)(?::\d+)?$/

const partial = (): MatchResult => ({ status: 'partial' })
const reject = (length?: number): MatchResult => (length === undefined ? { status: 'reject' } : { status: 'reject', length })

type Step = CallStep

/** Where a broken call's arguments end: after the next call-end token, or before the next call or section end. */
const RESYNC = [CALL_END, CALL_BEGIN, ...SECTION_END]

function brokenCall(text: string, bodyStart: number, name: string, reason: string, context: MatchContext): Step {
  let best = -1
  let which = ''
  for (const literal of RESYNC) {
    const index = text.indexOf(literal, bodyStart)
    if (index >= 0 && (best < 0 || index < best)) {
      best = index
      which = literal
    }
  }
  // Until a token ends it, the broken call may run on: wait (at the end it is cut off).
  if (best < 0) return context.final ? { verdict: reject(text.length), cut: { name } } : { verdict: { status: 'partial', waitFor: RESYNC } }
  return { end: which === CALL_END ? best + CALL_END.length : best, broken: { name, reason } }
}

/** One call at `pos`: optional `<|tool_call_begin|>`, the id, the argument token, JSON, optional end token. */
function callAt(text: string, pos: number, context: MatchContext, bareId: boolean): Step {
  const { final } = context
  let name: string | undefined
  const truncated = (): Step => (final ? { verdict: reject(text.length), cut: { name } } : { verdict: partial() })
  let i = skipWhitespace(text, pos)
  const begin = literalAt(text, i, CALL_BEGIN)
  if (begin === PARTIAL) return truncated()
  if (begin !== NO) i = skipWhitespace(text, begin)
  else if (!bareId) return { verdict: reject() }
  const idEnd = identifierEnd(text, i, '-.:')
  if (idEnd === PARTIAL) return truncated()
  if (idEnd === NO) return { verdict: reject() }
  const id = text.slice(i, idEnd)
  // Without any begin token only `functions.NAME:IDX` / `NAME:IDX` is a call id.
  if (begin === NO && !/:\d+$/.test(id)) return { verdict: reject() }
  name = CALL_ID.exec(id)?.[1]
  if (name === undefined) return { verdict: reject() }
  const argument = literalAt(text, skipWhitespace(text, idEnd), ARGUMENT_BEGIN)
  if (argument === PARTIAL) return truncated()
  if (argument === NO) return { verdict: reject() }
  if (context.tools.resolve(name) === undefined) return { verdict: reject(), undeclared: true }
  const bodyStart = skipWhitespace(text, argument)
  if (bodyStart >= text.length) return truncated()
  const end = jsonValueEnd(text, bodyStart, context.memo)
  if (end === NO) return brokenCall(text, bodyStart, name, 'arguments are not a JSON object', context)
  if (end === PARTIAL) return final ? truncated() : { verdict: { status: 'partial', waitFor: jsonWaitFor(text, bodyStart) } }
  const parsed = parseFlexibleJson(text.slice(bodyStart, end))
  const args = parsed.ok ? toArguments(parsed.value) : undefined
  if (args === undefined) return brokenCall(text, end, name, parsed.ok ? 'arguments are not a JSON object' : 'arguments are not valid JSON', context)
  const call = { name, arguments: args }
  const j = skipWhitespace(text, end)
  const close = literalAt(text, j, CALL_END)
  if (close === PARTIAL || (j >= text.length && !final)) return final ? { end, call } : { verdict: partial() }
  return { end: close === NO ? end : close, call }
}

/** Matches a Kimi K2 tool-call section (or calls missing their begin tokens) at the start of `text`. */
function matchKimi(text: string, context: MatchContext): MatchResult {
  const section = whichLiteralAt(text, 0, SECTION_BEGIN)
  if (section === PARTIAL) return partial()
  const inSection = section !== NO
  let pos = inSection ? SECTION_BEGIN[section]!.length : 0
  return matchCallSection(text, pos, context, {
    closerAt: (source, at) => {
      const closer = whichLiteralAt(source, at, SECTION_END)
      return closer < 0 ? closer : at + SECTION_END[closer]!.length
    },
    // Later calls need their begin token; the first may lack it (and the section opener too).
    callAt: (source, at, index) => callAt(source, at, context, index === 0),
  })
}

/** Kimi K2 `<|tool_calls_section_begin|>` sections, and the partial forms described above. */
export const kimiK2: ToolCallFormat = {
  id: 'kimi_k2',
  strength: 'strong',
  // No `NAME:` openers for leaks without `functions.` (typeclaw PR #344): one letter opener per
  // declared tool cost ~14% of plain-text throughput (1 MB of prose, 4-char chunks) for a rare shape.
  starts: [...SECTION_BEGIN, CALL_BEGIN, FUNCTIONS],
  match: matchKimi,
}
