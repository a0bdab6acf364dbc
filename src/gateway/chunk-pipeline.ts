/**
 * The place where chat answers are transformed on their way to the client: per request, a
 * list of chunk transforms for streams and the same logic for whole completions.
 * @module
 */
import type { ChatCompletion, ChatCompletionChunk, ToolDefinition } from '../openai/types.js'
import { ToolCallDetector } from '../toolcalls/tool-call-detector.js'
import { detectInCompletion } from '../toolcalls/parse-tool-calls.js'
import type { ToolCallDetectionOptions } from '../toolcalls/tool-call-parser.js'
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

const INACTIVE: ChunkPipeline = {
  active: false,
  streamTransforms: () => [],
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
    streamTransforms: () => [new ToolCallDetector(detection)],
    completion: (completion) => detectInCompletion(completion, detection),
  }
}
