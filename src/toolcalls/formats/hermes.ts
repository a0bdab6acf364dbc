/**
 * Hermes / Qwen2.5 / Qwen3 JSON tool calls: `<tool_call>{"name": …, "arguments": {…}}</tool_call>`,
 * and the wrappers models drift to (`<function_call>`, `<tools>`, `<response>`, `<json>`, `<xml>`,
 * a fenced body, several objects or a list in one wrapper) plus the function-tag form
 * `<function=NAME>{json}</function>` / `<function name="NAME">{json}</function>` (Functionary v3.1,
 * Llama 3.1 custom tools), bare or inside `<tool_call>`, and any of these inside a Markdown fence. A
 * complete body whose closing tag is missing is a call (it ends at the end of the JSON).
 * @module
 */
import { callsFromJsonText, toArguments } from '../call-shape.js'
import { parseFlexibleJson } from '../flexible-json.js'
import { jsonWaitFor } from '../json-calls-at.js'
import { NO, PARTIAL, identifierEnd, jsonValueEnd, literalAt, skipSpaces, skipWhitespace, whichLiteralAt } from '../scan.js'
import { CUT_OFF, SectionCalls } from './call-section.js'
import type { MatchContext, MatchResult, ParsedCall, ToolCallFormat } from './types.js'

const WRAPPERS = ['<tool_call>', '<function_call>', '<tools>', '<response>', '<json>', '<JSON>', '<xml>']
const CLOSERS = ['</tool_call>', '</function_call>', '</tools>', '</response>', '</json>', '</JSON>', '</xml>']
const FUNCTION_TAGS = ['<function=', '<function name="', "<function name='"]

const partial = (waitFor?: readonly string[]): MatchResult => (waitFor === undefined ? { status: 'partial' } : { status: 'partial', waitFor })
const reject = (length?: number): MatchResult => (length === undefined ? { status: 'reject' } : { status: 'reject', length })

/** What parsing one piece gave: a position reached, or a verdict to return as is. */
type Step = { end: number; calls: ParsedCall[] } | { verdict: MatchResult }

/**
 * `<function=NAME>{json}</function>` (or `name="NAME"`) at `pos`. The closing `</function>` is
 * optional; the arguments object is the JSON itself.
 */
function functionTag(text: string, pos: number, context: MatchContext): Step {
  const which = whichLiteralAt(text, pos, FUNCTION_TAGS)
  if (which === PARTIAL) return { verdict: partial() }
  if (which === NO) return { verdict: reject() }
  const tag = FUNCTION_TAGS[which]!
  const nameStart = pos + tag.length
  const nameEnd = identifierEnd(text, nameStart, '-.:')
  if (nameEnd === PARTIAL) return { verdict: partial() }
  if (nameEnd === NO) return { verdict: reject() }
  const name = text.slice(nameStart, nameEnd)
  // An undeclared name is content: say so now instead of holding the whole body.
  if (context.tools.resolve(name) === undefined) return { verdict: reject() }
  let i = nameEnd
  if (tag !== '<function=') {
    const quoteEnd = literalAt(text, i, tag.slice(-1))
    if (quoteEnd === PARTIAL) return { verdict: partial() }
    if (quoteEnd === NO) return { verdict: reject() }
    i = skipSpaces(text, quoteEnd)
  }
  const close = literalAt(text, i, '>')
  if (close === PARTIAL) return { verdict: partial() }
  if (close === NO) return { verdict: reject() }
  const bodyStart = skipWhitespace(text, close)
  if (bodyStart === text.length) return { verdict: context.final ? reject(text.length) : partial() }
  // `<function=NAME><parameter=…>` is Qwen3-Coder XML, another format's business.
  const end = jsonValueEnd(text, bodyStart, context.memo)
  if (end === NO) return { verdict: reject() }
  if (end === PARTIAL) return { verdict: context.final ? reject(text.length) : partial(jsonWaitFor(text, bodyStart, context.memo)) }
  const parsed = parseFlexibleJson(text.slice(bodyStart, end))
  const args = parsed.ok ? toArguments(parsed.value) : undefined
  if (args === undefined) return { verdict: reject(end) }
  const calls = [{ name, arguments: args }]
  const afterBody = skipWhitespace(text, end)
  const closer = literalAt(text, afterBody, '</function>')
  if (closer === PARTIAL) return context.final ? { end, calls } : { verdict: partial() }
  return { end: closer === NO ? end : closer, calls }
}

/** Wrappers whose JSON body is certainly a call (not `<tools>` definitions or `<json>` data): a broken one is reported. */
const CALL_WRAPPERS = new Set(['</tool_call>', '</function_call>'])
/** The `"name"` written in a (possibly broken) JSON call. */
const NAME_KEY = /"name"\s*:\s*"([^"\\]{1,256})"/

/** The declared tool a broken JSON call names, if it names one. */
function writtenName(json: string, context: MatchContext): string | undefined {
  const name = NAME_KEY.exec(json)?.[1]?.trim()
  return name !== undefined && context.tools.resolve(name) !== undefined ? name : undefined
}

/**
 * The body of a wrapper: JSON values (object, list, `{"tool_calls": […]}`), optionally fenced or
 * function-tagged, separated by whitespace, `,` or `;`, then the optional closing tag. In a
 * `<tool_call>` / `<function_call>` wrapper, JSON naming a declared tool that cannot be read as a
 * call is reported as malformed (the block still goes); cut off by the end it is text, unless it
 * follows a recovered call.
 */
function wrapperBody(text: string, start: number, closer: string, context: MatchContext): MatchResult {
  const section = new SectionCalls()
  const { calls } = section
  let lastEnd = -1
  let fenced = false
  let pos = skipWhitespace(text, start)
  const reportBroken = CALL_WRAPPERS.has(closer)
  const finish = (): MatchResult => (section.found ? section.match(lastEnd) : reject(context.final ? text.length : undefined))
  const fence = literalAt(text, pos, '```')
  if (fence === PARTIAL) return context.final ? reject(text.length) : partial()
  if (fence !== NO) {
    const lineEnd = text.indexOf('\n', fence)
    if (lineEnd < 0) return context.final ? reject(text.length) : partial()
    if (!/^[A-Za-z]*\s*$/.test(text.slice(fence, lineEnd))) return reject()
    fenced = true
    pos = skipWhitespace(text, lineEnd)
  }
  for (;;) {
    if (pos >= text.length) return context.final ? finish() : partial()
    const char = text[pos]
    if (char === '{' || char === '[') {
      const end = jsonValueEnd(text, pos, context.memo)
      if (end === NO) return section.found ? finish() : reject()
      if (end === PARTIAL) {
        if (!context.final) return partial(jsonWaitFor(text, pos, context.memo))
        const name = reportBroken ? writtenName(text.slice(pos), context) : undefined
        if (!section.found) return { status: 'reject', length: text.length, cut: { name } }
        if (name !== undefined) section.broken({ name, text: text.slice(pos), reason: CUT_OFF })
        return section.match(text.length)
      }
      const read = callsFromJsonText(text.slice(pos, end))
      if (read === undefined) {
        // Valid JSON that is not a call is data (extra keys, definitions); JSON that cannot be repaired is a broken call.
        const name = reportBroken && !parseFlexibleJson(text.slice(pos, end)).ok ? writtenName(text.slice(pos, end), context) : undefined
        if (name === undefined) return reject(end)
        ;section.broken({ name, text: text.slice(pos, end), reason: 'the call is not valid JSON' })
        lastEnd = end
        pos = skipWhitespace(text, end)
        continue
      }
      calls.push(...read)
      lastEnd = end
      pos = skipWhitespace(text, end)
      if (text[pos] === ',' || text[pos] === ';') pos = skipWhitespace(text, pos + 1)
      continue
    }
    if (char === '<') {
      const closed = literalAt(text, pos, closer)
      if (closed === PARTIAL) return context.final ? finish() : partial()
      if (closed !== NO) return section.found ? section.match(closed) : reject(closed)
      const step = functionTag(text, pos, context)
      if ('verdict' in step) {
        if (step.verdict.status === 'reject' && section.found) return finish()
        return step.verdict.status === 'match' ? reject() : step.verdict
      }
      calls.push(...step.calls)
      lastEnd = step.end
      pos = skipWhitespace(text, step.end)
      continue
    }
    if (fenced && char === '`') {
      const fenceEnd = literalAt(text, pos, '```')
      if (fenceEnd === PARTIAL) return context.final ? finish() : partial()
      if (fenceEnd !== NO && section.found) {
        fenced = false
        lastEnd = fenceEnd
        pos = skipWhitespace(text, fenceEnd)
        continue
      }
    }
    return finish()
  }
}

/** The call block right at `start` (a wrapper or a function tag). */
function block(text: string, start: number, context: MatchContext): MatchResult {
  const which = whichLiteralAt(text, start, WRAPPERS)
  if (which === PARTIAL) return partial()
  if (which !== NO) return wrapperBody(text, start + WRAPPERS[which]!.length, CLOSERS[which]!, context)
  const step = functionTag(text, start, context)
  if ('verdict' in step) return step.verdict
  return { status: 'match', length: step.end, calls: step.calls }
}

/**
 * A block inside a Markdown fence (```` ```json ````/```` ```xml ```` + `<tool_call>…</tool_call>` +
 * ```` ``` ````), which llama.cpp also accepts: the fence goes with the call.
 */
function fencedBlock(text: string, fenceEnd: number, context: MatchContext): MatchResult {
  const lineEnd = text.indexOf('\n', fenceEnd)
  if (lineEnd < 0) return text.length - fenceEnd > 16 || context.final ? reject() : partial()
  if (!/^[A-Za-z]*[ \t\r]*$/.test(text.slice(fenceEnd, lineEnd))) return reject()
  const start = skipWhitespace(text, lineEnd + 1)
  if (start >= text.length) return context.final ? reject() : partial()
  if (text[start] !== '<') return reject()
  const inner = block(text, start, context)
  if (inner.status !== 'match') return inner.status === 'reject' ? reject() : inner
  const after = skipWhitespace(text, inner.length)
  const close = literalAt(text, after, '```')
  if (close === PARTIAL) return context.final ? inner : partial()
  return close === NO ? inner : { ...inner, length: close }
}

/** Hermes-style JSON tool calls in `<tool_call>` and friends, and `<function=NAME>{json}</function>`. */
export const hermes: ToolCallFormat = {
  id: 'hermes',
  strength: 'strong',
  starts: [...WRAPPERS, ...FUNCTION_TAGS, '```'],
  match(text, context) {
    const fence = literalAt(text, 0, '```')
    if (fence === PARTIAL) return partial()
    if (fence !== NO) return fencedBlock(text, fence, context)
    return block(text, 0, context)
  },
}
