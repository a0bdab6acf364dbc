/**
 * Cohere Command R7B / Command A tool calls:
 * `<|START_ACTION|>[{"tool_call_id": "0", "tool_name": "N", "parameters": {…}}]<|END_ACTION|>`.
 * The usual `{"name", "arguments"}` shape is accepted too.
 * @module
 */
import type { JsonValue } from '../../openai/types.js'
import { callFromObject, isJsonObject, toArguments } from '../call-shape.js'
import { matchJsonTag, type JsonTagSyntax } from './json-tag.js'
import type { ParsedCall, ToolCallFormat } from './types.js'

const KEYS = new Set(['tool_call_id', 'tool_name', 'parameters'])

/** One Cohere action object, or `undefined` when it is not one. */
function actionCall(value: JsonValue): ParsedCall | undefined {
  if (!isJsonObject(value)) return undefined
  if (typeof value.tool_name !== 'string') return callFromObject(value)
  for (const key of Object.keys(value)) if (!KEYS.has(key)) return undefined
  const args = toArguments(value.parameters)
  return args === undefined || value.tool_name.trim() === '' ? undefined : { name: value.tool_name.trim(), arguments: args }
}

function actionCalls(value: JsonValue): ParsedCall[] | undefined {
  const items = Array.isArray(value) ? value : [value]
  const calls: ParsedCall[] = []
  for (const item of items) {
    const call = actionCall(item)
    if (call === undefined) return undefined
    calls.push(call)
  }
  return calls
}

const SYNTAX: JsonTagSyntax = { openers: ['<|START_ACTION|>'], closers: ['<|END_ACTION|>'], several: true, toCalls: actionCalls }

/** Command R `<|START_ACTION|>[…]<|END_ACTION|>`. */
export const commandR: ToolCallFormat = {
  id: 'command_r',
  strength: 'strong',
  starts: SYNTAX.openers,
  match: (text, context) => matchJsonTag(text, context, SYNTAX),
}
