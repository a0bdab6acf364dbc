/**
 * Whole-message detection: `parseToolCalls(text)` for a text, `detectInCompletion(completion)` for a
 * non-streamed `chat.completion` (content and reasoning fields). Same engine as the stream.
 * @module
 */
import type { ChatCompletion, ChatCompletionMessage, ToolCall } from '../openai/types.js'
import { createDetectionSetup, REASONING_FIELDS, type DetectionSetup, type ToolCallDetectionOptions } from './tool-call-parser.js'
import { createToolCallScanner, type RecognisedCall } from './tool-call-scanner.js'

/** Options of `parseToolCalls`. */
export interface ParseToolCallsOptions extends ToolCallDetectionOptions {
  /**
   * Treat the text as reasoning: a call counts only if it ends the text.
   * @default false
   */
  reasoning?: boolean | undefined
}

/** The result of `parseToolCalls`. */
export interface ParsedToolCalls {
  /** The text with recognised calls (and the whitespace touching them) removed. */
  content: string
  /** Recognised calls, in order (empty in `suppress` mode). */
  toolCalls: ToolCall[]
}

function toToolCalls(calls: RecognisedCall[], setup: DetectionSetup): ToolCall[] {
  if (setup.onRecovered !== undefined && setup.mode !== 'suppress') for (const call of calls) setup.onRecovered(call)
  return calls.map((call) => ({ id: setup.generateId(), type: 'function', function: { name: call.name, arguments: call.arguments } }))
}

/** Scans one whole text; malformed calls are reported to `setup.onMalformedCall` as the scanner finds them. */
function scanText(text: string, setup: DetectionSetup, deferCalls: boolean, contentFollows: boolean): { text: string; calls: RecognisedCall[] } {
  if (setup.index === undefined) return { text, calls: [] }
  let out = ''
  const calls: RecognisedCall[] = []
  const report = setup.onMalformedCall
  const scanner = createToolCallScanner({
    index: setup.index,
    deferCalls,
    maxCallChars: setup.maxCallChars,
    maxHeldChars: setup.maxHeldChars,
    onText: (piece) => {
      out += piece
    },
    onCalls: (found, malformed) => {
      calls.push(...found)
      if (malformed !== undefined && report !== undefined) for (const entry of malformed) report(entry.call)
    },
  })
  scanner.feed(text)
  if (contentFollows) scanner.contentFollows()
  scanner.finish()
  return { text: out, calls }
}

/**
 * Finds the tool calls written as text in a whole message.
 * @example
 * parseToolCalls('<tool_call>{"name":"get_weather","arguments":{"city":"Paris"}}</tool_call>', { tools: ['get_weather'] })
 * // { content: '', toolCalls: [{ id: 'call_…', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }
 */
export function parseToolCalls(text: string, options: ParseToolCallsOptions = {}): ParsedToolCalls {
  const setup = createDetectionSetup(options)
  const { text: content, calls } = scanText(text, setup, options.reasoning === true, false)
  return { content, toolCalls: setup.mode === 'suppress' ? [] : toToolCalls(calls, setup) }
}

/**
 * Applies detection to a non-streamed `chat.completion`: for every choice, calls written in
 * `content` or at the end of a reasoning field (`reasoning_content`, `reasoning`, `thinking`) become
 * `message.tool_calls` (after any native ones), their text is removed, and `finish_reason` becomes
 * `tool_calls`. In `suppress` mode all calls are removed and `tool_calls` → `stop`. Returns a new
 * object; the input is not modified. No declared tools → returned unchanged (passthrough).
 */
export function detectInCompletion(completion: ChatCompletion, options: ToolCallDetectionOptions = {}): ChatCompletion {
  const setup = createDetectionSetup(options)
  if (setup.index === undefined && setup.mode === 'passthrough') return completion
  if (!Array.isArray(completion.choices)) return completion
  const choices = completion.choices.map((choice) => {
    const message: ChatCompletionMessage = { ...choice.message }
    const native = Array.isArray(message.tool_calls) ? message.tool_calls.filter((call) => typeof call?.function?.name === 'string' && call.function.name !== '') : []
    const recovered: RecognisedCall[] = []
    let contentFollows = native.length > 0
    if (typeof message.content === 'string') {
      const { text, calls } = scanText(message.content, setup, false, false)
      message.content = text === '' && calls.length > 0 ? null : text
      recovered.push(...calls)
      if (calls.length > 0 || /\S/.test(text)) contentFollows = true
    }
    for (const field of REASONING_FIELDS) {
      const value = message[field]
      if (typeof value !== 'string') continue
      const { text, calls } = scanText(value, setup, true, contentFollows)
      message[field] = text
      recovered.push(...calls)
    }
    const all = [...native.map((call) => ({ ...call, function: { ...call.function, arguments: call.function.arguments === '' ? '{}' : call.function.arguments } })), ...toToolCalls(recovered, setup)]
    let finishReason = choice.finish_reason
    if (setup.mode === 'suppress') {
      delete message.tool_calls
      if (finishReason === 'tool_calls') finishReason = 'stop'
      if (message.content === null) message.content = ''
    } else if (all.length > 0) {
      message.tool_calls = all
      finishReason = 'tool_calls'
    } else {
      if (message.tool_calls !== undefined) delete message.tool_calls
      if (finishReason === 'tool_calls') finishReason = 'stop'
    }
    return { ...choice, message, finish_reason: finishReason }
  })
  return { ...completion, choices }
}
