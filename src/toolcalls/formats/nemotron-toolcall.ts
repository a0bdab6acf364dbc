/**
 * NVIDIA Nemotron Nano 9B v2 / Llama-Nemotron JSON tool calls:
 * `<TOOLCALL>[{"name": …, "arguments": {…}}]</TOOLCALL>`.
 * @module
 */
import { matchJsonTag, type JsonTagSyntax } from './json-tag.js'
import type { ToolCallFormat } from './types.js'

const SYNTAX: JsonTagSyntax = { openers: ['<TOOLCALL>'], closers: ['</TOOLCALL>'], several: true }

/** Nemotron `<TOOLCALL>[…]</TOOLCALL>`. */
export const nemotronToolcall: ToolCallFormat = {
  id: 'nemotron_toolcall',
  strength: 'strong',
  starts: SYNTAX.openers,
  match: (text, context) => matchJsonTag(text, context, SYNTAX),
}
