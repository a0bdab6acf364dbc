/**
 * The place where chat answers are transformed on their way to the client: per request, a
 * list of chunk transforms for streams and the same logic for whole completions.
 * @module
 */
import type { ChatCompletion, ChatCompletionChunk } from '../openai/types.js'
import type { ResolvedGatewayOptions, ToolMode } from './gateway-options.js'

/** The transforms one request's answer goes through. */
export interface ChunkPipeline {
  /** True when any transform applies (otherwise the raw fast path is used). */
  readonly active: boolean
  /** Fresh transforms for a streamed answer, in order. */
  streamTransforms(): Array<TransformStream<ChatCompletionChunk, ChatCompletionChunk>>
  /** The same transforms over a non-streamed completion. */
  completion(completion: ChatCompletion): ChatCompletion
}

/** What the pipeline is chosen from. */
export interface ChunkPipelineInput {
  body: Record<string, unknown>
  path: string
  headers: Headers
}

/** The tool mode of one request: the passthrough endpoint forces passthrough, else `X-Tool-Mode`, else the default. */
export function toolModeFor(options: Pick<ResolvedGatewayOptions, 'toolMode'>, input: Pick<ChunkPipelineInput, 'path' | 'headers'>): ToolMode {
  if (input.path === '/v1/chat/completions_passthrough') return 'passthrough'
  const header = input.headers.get('x-tool-mode')?.trim().toLowerCase()
  if (header === 'passthrough' || header === 'suppress') return header
  return options.toolMode
}

/** Chooses the transforms for one chat request. */
export function chunkPipelineFor(_options: ResolvedGatewayOptions, _input: ChunkPipelineInput): ChunkPipeline {
  return {
    active: false,
    streamTransforms: () => [],
    completion: (completion) => completion,
  }
}
