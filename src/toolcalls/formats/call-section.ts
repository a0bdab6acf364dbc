/**
 * The loop shared by formats whose calls sit in a section with an optional closer (DeepSeek,
 * Kimi K2, GLM-style arg_key blocks): calls one after another, whitespace between them, until
 * the closer. A helper module, not a format.
 * @module
 */
import { NO, PARTIAL, skipWhitespace } from '../scan.js'
import type { MatchContext, MatchResult, ParsedCall } from './types.js'

/** One call read at a position: the call and where it ends, or the verdict for the whole section. */
export type CallStep = { end: number; call: ParsedCall } | { verdict: MatchResult; undeclared?: boolean | undefined }

/** How a section's parts are read. */
export interface CallSectionSyntax {
  /** End of the section closer at `at`, or PARTIAL / NO. */
  closerAt: (text: string, at: number) => number
  /** Reads the call at `at`; `index` is how many calls came before it. */
  callAt: (text: string, at: number, index: number) => CallStep
}

/**
 * Reads calls from `start` up to the section closer. A closer after no calls rejects the section.
 * Text after complete calls that is not another call ends the section without its closer (the
 * calls so far count), unless it names an undeclared tool (the whole section stays text). At the
 * end of the stream, complete calls count even without the closer; until then the section waits.
 */
export function matchCallSection(text: string, start: number, context: MatchContext, syntax: CallSectionSyntax): MatchResult {
  const { final } = context
  const calls: ParsedCall[] = []
  let lastEnd = 0
  let pos = start
  const finish = (): MatchResult => (calls.length > 0 ? { status: 'match', length: lastEnd, calls } : final ? { status: 'reject', length: text.length } : { status: 'reject' })
  for (;;) {
    const at = skipWhitespace(text, pos)
    if (at >= text.length) return final ? finish() : { status: 'partial' }
    const closer = syntax.closerAt(text, at)
    if (closer === PARTIAL) return final ? finish() : { status: 'partial' }
    if (closer !== NO) return calls.length > 0 ? { status: 'match', length: closer, calls } : { status: 'reject', length: closer }
    const step = syntax.callAt(text, at, calls.length)
    if ('verdict' in step) {
      if (step.verdict.status === 'reject' && calls.length > 0 && step.verdict.length === undefined && step.undeclared !== true) return finish()
      return step.verdict
    }
    calls.push(step.call)
    lastEnd = step.end
    pos = step.end
  }
}
