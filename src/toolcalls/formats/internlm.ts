/**
 * InternLM2.5-chat / Intern-S1 tool calls: `<|action_start|><|plugin|>\n{"name": …, "parameters": {…}}<|action_end|>`
 * (one per turn; a detokenizer may put whitespace between the two opening tokens).
 * @module
 */
import { literalAt, skipWhitespace } from '../scan.js'
import { matchJsonTag, type JsonTagSyntax } from './json-tag.js'
import type { ToolCallFormat } from './types.js'

const SYNTAX: JsonTagSyntax = {
  openers: ['<|action_start|>'],
  // Whitespace may sit between the two opening tokens; `literalAt` gives PARTIAL / NO through.
  after: (text, pos) => literalAt(text, skipWhitespace(text, pos), '<|plugin|>'),
  closers: ['<|action_end|>'],
  several: false,
}

/** InternLM `<|action_start|><|plugin|>{…}<|action_end|>`. */
export const internlm: ToolCallFormat = {
  id: 'internlm',
  strength: 'strong',
  starts: SYNTAX.openers,
  match: (text, context) => matchJsonTag(text, context, SYNTAX),
}
