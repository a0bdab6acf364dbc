/**
 * The loop shared by formats whose calls sit in a section with an optional closer (DeepSeek,
 * Kimi K2, GLM-style arg_key blocks): calls one after another, whitespace between them, until
 * the closer. A helper module, not a format.
 * @module
 */
import { NO, PARTIAL, skipWhitespace } from '../scan.js'
import type { MalformedCall, MatchContext, MatchResult, ParsedCall } from './types.js'

/**
 * One call read at a position: the call and where it ends; a broken call (named, in a section) and
 * where it ends; or the verdict for the whole section. With `cut`, the verdict is for a call the end
 * of the text cut off: after complete calls it becomes a malformed call when it had a name.
 */
export type CallStep =
  | { end: number; call: ParsedCall }
  | { end: number; broken: { name: string | undefined; reason: string } }
  | { verdict: MatchResult; undeclared?: boolean | undefined; cut?: { name: string | undefined } | undefined }

/** The reason reported for a call the end of the message cut off (by sections and by the engine). */
export const CUT_OFF = 'the call was cut off before its arguments were complete'

/** How a section's parts are read. */
export interface CallSectionSyntax {
  /** End of the section closer at `at`, or PARTIAL / NO. */
  closerAt: (text: string, at: number) => number
  /** Reads the call at `at`; `index` is how many calls came before it. */
  callAt: (text: string, at: number, index: number) => CallStep
}

/**
 * The calls and broken calls a section has collected (a class, not closures: formats are matched
 * again and again as text arrives, and a closure per match is measurable in the bench).
 */
export class SectionCalls {
  readonly calls: ParsedCall[] = []
  malformed: MalformedCall[] | undefined = undefined
  /** Whether anything (a call or a broken call) was read. */
  get found(): boolean {
    return this.calls.length > 0 || this.malformed !== undefined
  }
  /** How many calls and broken calls were read. */
  get count(): number {
    return this.calls.length + (this.malformed?.length ?? 0)
  }
  /** Records a broken call at the current place among the calls. */
  broken(entry: Omit<MalformedCall, 'at'>): void {
    ;(this.malformed ??= []).push({ name: entry.name, text: entry.text, reason: entry.reason, at: this.calls.length })
  }
  /** The `match` of `length` with what was read. */
  match(length: number): MatchResult {
    return this.malformed === undefined ? { status: 'match', length, calls: this.calls } : { status: 'match', length, calls: this.calls, malformed: this.malformed }
  }
}

/**
 * Reads calls from `start` up to the section closer. A closer after no calls rejects the section.
 * Text after complete calls that is not another call ends the section without its closer (the
 * calls so far count), unless it names an undeclared tool (the whole section stays text). At the
 * end of the stream, complete calls count even without the closer; until then the section waits.
 * Broken calls (`broken` steps) are skipped and reported as `malformed`: a section of broken calls
 * only is still a section (removed from the text). A call cut off by the end of the message after
 * complete (or broken) calls goes with the section, reported when it had a name.
 */
export function matchCallSection(text: string, start: number, context: MatchContext, syntax: CallSectionSyntax): MatchResult {
  const { final } = context
  const section = new SectionCalls()
  const { calls } = section
  let lastEnd = 0
  let pos = start
  const finish = (): MatchResult => (section.found ? section.match(lastEnd) : final ? { status: 'reject', length: text.length } : { status: 'reject' })
  for (;;) {
    const at = skipWhitespace(text, pos)
    if (at >= text.length) return final ? finish() : { status: 'partial' }
    const closer = syntax.closerAt(text, at)
    if (closer === PARTIAL) return final ? (section.found ? section.match(text.length) : finish()) : { status: 'partial' }
    if (closer !== NO) return section.found ? section.match(closer) : { status: 'reject', length: closer }
    const step = syntax.callAt(text, at, section.count)
    if ('verdict' in step) {
      if (step.cut !== undefined && final && section.found) {
        // Cut off by the end after complete calls: the rest of the text is the section's.
        if (step.cut.name !== undefined) section.broken({ name: step.cut.name, text: text.slice(at), reason: CUT_OFF })
        return section.match(text.length)
      }
      if (step.verdict.status === 'reject' && section.found && step.verdict.length === undefined && step.undeclared !== true) return finish()
      // Cut off with no complete call before it: text, unless a recovered call came right before.
      if (step.cut !== undefined && final && step.verdict.status === 'reject') return { ...step.verdict, cut: step.cut }
      return step.verdict
    }
    if ('broken' in step) section.broken({ name: step.broken.name, text: text.slice(at, step.end), reason: step.broken.reason })
    else calls.push(step.call)
    lastEnd = step.end
    pos = step.end
  }
}
