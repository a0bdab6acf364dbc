/**
 * The place where chat answers are transformed on their way to the client: per request, a
 * chain of chunk transforms for streams and the same logic for whole completions.
 *
 * Stream transforms are parser-style (`feed`/`flush` with an `onChunk` callback, as STYLE.md's
 * parser ⟂ stream), so the gateway runs a whole chain inside one TransformStream, a batch of
 * upstream events at a time: a web-stream hop per chunk and per transform costs more than the
 * transforms themselves.
 * @module
 */
import type { ChatCompletion, ChatCompletionChunk, ToolDefinition } from '../openai/types.js'
import { detectInCompletion } from '../toolcalls/parse-tool-calls.js'
import { createToolCallParser } from '../toolcalls/tool-call-parser.js'
import type { ToolCallDetectionOptions } from '../toolcalls/tool-call-parser.js'
import type { ResolvedGatewayOptions, ToolMode } from './gateway-options.js'

/**
 * One stream transform: chunks in through `feed`, out through the `onChunk` it was made with.
 * A transform never changes a chunk it receives (it emits a new object instead); it may pass a
 * chunk on as the same object when it has nothing to change, and the relay then sends the
 * upstream's own text for it rather than serializing it again.
 */
export interface ChunkTransform {
  feed(chunk: ChatCompletionChunk): void
  /** The stream ended: emit whatever is held. */
  flush(): void
}

/** Makes a transform that sends its output to `onChunk`. */
export type ChunkTransformFactory = (onChunk: (chunk: ChatCompletionChunk) => void) => ChunkTransform

/** The transforms one request's answer goes through. */
export interface ChunkPipeline {
  /** True when any transform applies (otherwise the raw fast path is used). */
  readonly active: boolean
  /** The stream transforms, in order (fresh ones are made per answer). */
  readonly streamTransforms: readonly ChunkTransformFactory[]
  /** The same transforms over a non-streamed completion. */
  completion(completion: ChatCompletion): ChatCompletion
}

/** Chains transforms: the first one's output feeds the second, and so on, the last one's goes to `onChunk`. */
export function chainTransforms(factories: readonly ChunkTransformFactory[], onChunk: (chunk: ChatCompletionChunk) => void): ChunkTransform {
  let next: ChunkTransform = { feed: onChunk, flush: () => {} }
  const chain: ChunkTransform[] = []
  for (let index = factories.length - 1; index >= 0; index -= 1) {
    const downstream = next
    next = (factories[index] as ChunkTransformFactory)((chunk) => downstream.feed(chunk))
    chain.unshift(next)
  }
  return {
    feed: (chunk) => next.feed(chunk),
    // Flush in order, so what a transform releases at the end still goes through the ones after it.
    flush: () => {
      for (const transform of chain) transform.flush()
    },
  }
}

/** What the pipeline is chosen from. */
export interface ChunkPipelineInput {
  body: Record<string, unknown>
  path: string
  headers: Pick<Headers, 'get'>
}

/** The tool mode of one request: the passthrough endpoint forces passthrough, else `X-Tool-Mode`, else the default. */
export function toolModeFor(options: Pick<ResolvedGatewayOptions, 'toolMode'>, input: Pick<ChunkPipelineInput, 'path' | 'headers'>): ToolMode {
  if (input.path === '/v1/chat/completions_passthrough') return 'passthrough'
  const header = input.headers.get('x-tool-mode')?.trim().toLowerCase()
  if (header === 'passthrough' || header === 'suppress') return header
  return options.toolMode
}

const INACTIVE: ChunkPipeline = {
  active: false,
  streamTransforms: [],
  completion: (completion) => completion,
}

/**
 * Chooses the transforms for one chat request: the tool-call detector when the request declares
 * tools and text detection is on (recovering calls written as text, merging native fragments),
 * or in `suppress` mode (dropping calls). Otherwise nothing, and the answer takes the fast path.
 */
export function chunkPipelineFor(options: ResolvedGatewayOptions, input: ChunkPipelineInput): ChunkPipeline {
  const mode = toolModeFor(options, input)
  const tools = Array.isArray(input.body.tools) ? (input.body.tools as ToolDefinition[]) : []
  const detectText = options.textToolCalls && tools.length > 0
  if (!detectText && mode === 'passthrough') return INACTIVE
  const detection: ToolCallDetectionOptions = { tools: detectText ? tools : [], mode }
  return {
    active: true,
    streamTransforms: [(onChunk) => createToolCallParser({ ...detection, onChunk })],
    completion: (completion) => detectInCompletion(completion, detection),
  }
}
