/**
 * StepFun Step-3 tool calls:
 * `<｜tool_calls_begin｜><｜tool_call_begin｜>function<｜tool_sep｜><steptml:invoke name="N"><steptml:parameter name="k">v</steptml:parameter></steptml:invoke><｜tool_call_end｜><｜tool_calls_end｜>`
 * (the `function<｜tool_sep｜>` prefix, optionally followed by the name on its own line, may be
 * missing; calls may be separated by `<｜tool_sep｜>`). Values are typed from the tool's schema.
 * @module
 */
import { NO, PARTIAL, identifierEnd, skipWhitespace, whichLiteralAt } from '../scan.js'
import { matchInvokeXml, type InvokeXmlSyntax } from './invoke-xml.js'
import type { ToolCallFormat } from './types.js'

const CALL_BEGIN = '<｜tool_call_begin｜>'
const CALL_END = '<｜tool_call_end｜>'
const SEP = '<｜tool_sep｜>'
const TYPE = `function${SEP}`

/** Skips the per-call tokens around an invoke (and a `function<｜tool_sep｜>NAME` line). */
function skipCallTokens(text: string, pos: number): number {
  let i = pos
  for (;;) {
    i = skipWhitespace(text, i)
    if (i >= text.length) return i
    const which = whichLiteralAt(text, i, [CALL_BEGIN, CALL_END, SEP, TYPE])
    if (which === PARTIAL) return PARTIAL
    if (which === NO) return i
    if (which === 3) {
      i += TYPE.length
      const nameEnd = identifierEnd(text, i, '-.')
      if (nameEnd === PARTIAL) return PARTIAL
      if (nameEnd !== NO) i = nameEnd
      continue
    }
    i += [CALL_BEGIN, CALL_END, SEP][which]!.length
  }
}

const SYNTAX: InvokeXmlSyntax = {
  wrappers: ['<｜tool_calls_begin｜>'],
  closers: ['<｜tool_calls_end｜>'],
  invokeOpens: ['<steptml:invoke'],
  invokeCloses: ['</steptml:invoke>'],
  paramOpens: ['<steptml:parameter'],
  paramCloses: ['</steptml:parameter>'],
  nameStyle: 'attribute',
  value: 'typed',
  skip: skipCallTokens,
  extraStructural: [CALL_END],
}

/** Step-3 `<｜tool_calls_begin｜>` blocks of `<steptml:invoke>` calls. */
export const step3: ToolCallFormat = {
  id: 'step3',
  strength: 'strong',
  starts: SYNTAX.wrappers,
  match: (text, context) => matchInvokeXml(text, context, SYNTAX),
}
