/**
 * Sber GigaChat 3 / 3.1 tool calls: `<|message_sep|>\n\nfunction call<|role_sep|>\n{"name": …, "arguments": {…}}`
 * (3.1: `<|function_call|>{…}`), ending with the message or `</s>`. One call per message.
 * @module
 */
import { literalAt, skipWhitespace } from '../scan.js'
import { matchJsonTag, type JsonTagSyntax } from './json-tag.js'
import type { ToolCallFormat } from './types.js'

const HEADER = 'function call<|role_sep|>'

const SYNTAX: JsonTagSyntax = {
  openers: ['<|message_sep|>', HEADER, '<|function_call|>'],
  // After `<|message_sep|>` only the function-call header makes it a call.
  after: (text, pos, opener) => {
    if (opener !== 0) return pos
    return literalAt(text, skipWhitespace(text, pos), HEADER)
  },
  closers: ['</s>'],
  several: false,
}

/** GigaChat 3 `function call<|role_sep|>{…}` and 3.1 `<|function_call|>{…}`. */
export const gigachat3: ToolCallFormat = {
  id: 'gigachat3',
  strength: 'strong',
  starts: SYNTAX.openers,
  match: (text, context) => matchJsonTag(text, context, SYNTAX),
}
