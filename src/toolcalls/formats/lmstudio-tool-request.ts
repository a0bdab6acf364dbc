/**
 * LM Studio's default tool prompt (models without a native tool format):
 * `[TOOL_REQUEST]{"name": …, "arguments": {…}}[END_TOOL_REQUEST]`, repeated for parallel calls.
 * @module
 */
import { matchJsonTag, type JsonTagSyntax } from './json-tag.js'
import type { ToolCallFormat } from './types.js'

const SYNTAX: JsonTagSyntax = { openers: ['[TOOL_REQUEST]'], closers: ['[END_TOOL_REQUEST]'], several: false }

/** LM Studio `[TOOL_REQUEST]{…}[END_TOOL_REQUEST]`. */
export const lmstudioToolRequest: ToolCallFormat = {
  id: 'lmstudio_tool_request',
  strength: 'strong',
  starts: SYNTAX.openers,
  match: (text, context) => matchJsonTag(text, context, SYNTAX),
}
