/**
 * `mergeChunks()`: fold streamed chat-completion chunks (or bare deltas) into one message, the
 * way a client assembles a streamed answer.
 * @module
 */
import type { ToolCall } from '../../src/openai/types.js'

/** One message assembled from chunks. */
export interface MergedMessage {
  /** The first `delta.role` seen, else `'assistant'`. */
  role: string
  content: string
  /** `reasoning_content`, `reasoning` and `thinking` deltas, concatenated in order. */
  reasoningContent: string
  /** Native tool calls, fragments merged by `index` (name from the first fragment that has one). */
  toolCalls: ToolCall[]
  /** The last non-null `finish_reason`, or `null` when no chunk carried one. */
  finishReason: string | null
  /** The last `usage` object seen, if any. */
  usage: Record<string, unknown> | undefined
  /** How many chunks carried a non-empty `delta.content`. */
  contentChunks: number
}

type Loose = Record<string, unknown>

const isObject = (value: unknown): value is Loose => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The deltas of a chunk: `choices[0].delta` (and its `finish_reason`) for a whole
 * `chat.completion.chunk`, or the object itself when it is a bare delta (no `choices` key).
 */
export function chunkDelta(chunk: Loose): { delta: Loose | undefined; finishReason: string | null | undefined } {
  if (!('choices' in chunk)) return { delta: chunk, finishReason: undefined }
  const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined
  if (!isObject(choice)) return { delta: undefined, finishReason: undefined }
  const finishReason = typeof choice.finish_reason === 'string' ? choice.finish_reason : null
  return { delta: isObject(choice.delta) ? choice.delta : undefined, finishReason }
}

/**
 * Merges chunks into one message: content and reasoning concatenated, tool-call fragments joined
 * by index, the last finish reason and usage kept.
 * @example const { content, toolCalls } = mergeChunks(await collectChunks(response))
 */
export function mergeChunks(chunks: Iterable<Loose>): MergedMessage {
  let role: string | undefined
  let content = ''
  let reasoningContent = ''
  let finishReason: string | null = null
  let usage: Loose | undefined
  let contentChunks = 0
  const calls = new Map<number, ToolCall>()
  for (const chunk of chunks) {
    if (isObject(chunk.usage)) usage = chunk.usage
    const { delta, finishReason: reason } = chunkDelta(chunk)
    if (typeof reason === 'string') finishReason = reason
    if (delta === undefined) continue
    if (role === undefined && typeof delta.role === 'string') role = delta.role
    if (typeof delta.content === 'string' && delta.content !== '') {
      content += delta.content
      contentChunks++
    }
    for (const key of ['reasoning_content', 'reasoning', 'thinking']) {
      const value = delta[key]
      if (typeof value === 'string') reasoningContent += value
    }
    if (!Array.isArray(delta.tool_calls)) continue
    for (const [position, fragment] of delta.tool_calls.entries()) {
      if (!isObject(fragment)) continue
      const index = typeof fragment.index === 'number' ? fragment.index : position
      const call = calls.get(index) ?? { id: '', type: 'function' as const, function: { name: '', arguments: '' } }
      calls.set(index, call)
      if (typeof fragment.id === 'string' && call.id === '') call.id = fragment.id
      const fn = isObject(fragment.function) ? fragment.function : {}
      if (typeof fn.name === 'string' && call.function.name === '') call.function.name = fn.name
      if (typeof fn.arguments === 'string') call.function.arguments += fn.arguments
    }
  }
  const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call)
  return { role: role ?? 'assistant', content, reasoningContent, toolCalls, finishReason, usage, contentChunks }
}
