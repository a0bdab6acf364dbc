/**
 * `ToolCallDetector`: the tool-call parser as a `TransformStream` of chat-completion chunks.
 * @module
 */
import type { ChatCompletionChunk } from '../openai/types.js'
import { createToolCallParser, type ToolCallDetectionOptions, type ToolCallParser } from './tool-call-parser.js'

/** Options of `ToolCallDetector` (the parser's options, without `onChunk`). */
export type ToolCallDetectorOptions = ToolCallDetectionOptions

/**
 * Recovers tool calls written as text in a stream of `chat.completion.chunk` objects: visible text
 * passes at once, a possible call is held, recognised calls come out as `tool_calls` deltas.
 * Options are validated at construction.
 * @example
 * const chunks = upstreamChunks.pipeThrough(new ToolCallDetector({ tools: body.tools }))
 */
export class ToolCallDetector extends TransformStream<ChatCompletionChunk, ChatCompletionChunk> {
  constructor(options: ToolCallDetectorOptions = {}) {
    let parser!: ToolCallParser
    let enqueue: (chunk: ChatCompletionChunk) => void = () => {}
    // Built before super() so bad options throw here, not inside the stream.
    const built = createToolCallParser({ ...options, onChunk: (chunk) => enqueue(chunk) })
    super({
      start: (controller) => {
        enqueue = (chunk) => controller.enqueue(chunk)
        parser = built
      },
      transform: (chunk) => parser.feed(chunk),
      flush: () => parser.flush(),
    })
  }
}
