/**
 * Phi-4-mini and Firefunction-v2 tool calls: `functools[{"name": …, "arguments": {…}}, …]`. The list
 * ends at its matching `]` (string-aware, so `]` inside arguments does not end it, unlike vLLM's
 * `functools\[(.*?)\]`).
 * @module
 */
import { matchJsonTag, type JsonTagSyntax } from './json-tag.js'
import type { ToolCallFormat } from './types.js'

const SYNTAX: JsonTagSyntax = { openers: ['functools['], closers: [], overlap: 1, several: false }

/** `functools[…]`. */
export const phi4Functools: ToolCallFormat = {
  id: 'phi4_functools',
  strength: 'strong',
  starts: SYNTAX.openers,
  match: (text, context) => matchJsonTag(text, context, SYNTAX),
}
