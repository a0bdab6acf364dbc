/**
 * Folds a streamed answer's chunks into the finished assistant message, the way a client
 * assembles it: content and reasoning concatenated, tool-call fragments joined by index.
 * @module
 */
import type { ChatCompletionChunk, ChatCompletionMessage, ToolCall } from './types.js'

/** The finished assistant message of one answer (choice 0), with why it ended. */
export interface AssistantMessage extends ChatCompletionMessage {
  /** The last `finish_reason` seen, or null when none came. */
  finish_reason: string | null
}

/** Collects chunks of choice 0; {@link MessageAccumulator.message} gives the message so far. */
export class MessageAccumulator {
  #role: string | undefined
  #content = ''
  #reasoning = ''
  #finishReason: string | null = null
  readonly #calls = new Map<number, ToolCall>()

  /** Adds one chunk (other choices than 0 are ignored). */
  add(chunk: ChatCompletionChunk): void {
    for (const choice of chunk.choices) {
      if ((choice.index ?? 0) !== 0) continue
      if (typeof choice.finish_reason === 'string') this.#finishReason = choice.finish_reason
      const delta = choice.delta
      if (delta === undefined || delta === null) continue
      if (this.#role === undefined && typeof delta.role === 'string') this.#role = delta.role
      if (typeof delta.content === 'string') this.#content += delta.content
      const reasoning = delta.reasoning_content ?? delta.reasoning ?? delta.thinking
      if (typeof reasoning === 'string') this.#reasoning += reasoning
      if (Array.isArray(delta.tool_calls)) for (const [position, fragment] of delta.tool_calls.entries()) this.#addCall(position, fragment)
    }
  }

  /** The message assembled so far. */
  message(): AssistantMessage {
    const message: AssistantMessage = { role: this.#role ?? 'assistant', content: this.#content, finish_reason: this.#finishReason }
    if (this.#reasoning !== '') message.reasoning_content = this.#reasoning
    if (this.#calls.size > 0) message.tool_calls = [...this.#calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call)
    return message
  }

  #addCall(position: number, fragment: unknown): void {
    if (typeof fragment !== 'object' || fragment === null) return
    const part = fragment as { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }
    const index = typeof part.index === 'number' ? part.index : position
    let call = this.#calls.get(index)
    if (call === undefined) {
      call = { id: '', type: 'function', function: { name: '', arguments: '' } }
      this.#calls.set(index, call)
    }
    if (typeof part.id === 'string' && call.id === '') call.id = part.id
    if (typeof part.function?.name === 'string' && call.function.name === '') call.function.name = part.function.name
    if (typeof part.function?.arguments === 'string') call.function.arguments += part.function.arguments
  }
}

/** The assistant message of a whole completion's first choice. */
export function completionMessage(completion: { choices?: unknown }): AssistantMessage | undefined {
  const choices = Array.isArray(completion.choices) ? completion.choices : []
  const choice = choices.find((item: unknown) => typeof item === 'object' && item !== null && ((item as { index?: unknown }).index ?? 0) === 0) as
    | { message?: ChatCompletionMessage; finish_reason?: string | null }
    | undefined
  if (choice?.message === undefined) return undefined
  return { ...choice.message, finish_reason: choice.finish_reason ?? null }
}
