/**
 * queuegate: an OpenAI-compatible gateway with a prioritized queue, sticky routing and
 * tool-call recovery, as a web-standard `fetch` handler.
 * @module
 */
import './node-version-guard.js'
export { createGateway, errorResponse } from './gateway/create-gateway.js'
export type { Gateway } from './gateway/create-gateway.js'
export { resolveGatewayOptions } from './gateway/resolve-gateway-options.js'
export type { GatewayOptions, QueueNotifyMode, ResolvedGatewayOptions, ToolMode, UnknownToolPolicy } from './gateway/gateway-options.js'
export type { GatewayEvent } from './gateway/gateway-events.js'
export { parseUpstreamUrl } from './gateway/upstream.js'
export type { UpstreamOptions } from './gateway/upstream.js'
export type { VariantOptions } from './gateway/variants.js'
export type { Agent, AgentAnswer, AgentChatRequest, AgentContext, AgentStep } from './agents/types.js'
export type { GatewayKeyOptions } from './gateway/gateway-keys.js'
export type { JobRecord, JobStatus } from './gateway/job-registry.js'
export type { MemoryOptions } from './gateway/memory-options.js'
export { createLocalMemory, LocalMemory } from './memory/local-memory.js'
export type { LocalMemoryOptions } from './memory/local-memory.js'
export { createToolServerMemory } from './memory/tool-server-memory.js'
export type { ToolServerMemoryOptions } from './memory/tool-server-memory.js'
export { StringMemoryStorage } from './memory/memory-storage.js'
export type { MemoryStorage } from './memory/memory-storage.js'
export type { MemoryAdapter, MemoryItem, MemoryNote, MemoryQueryOptions } from './memory/memory-adapter.js'
export type { Embedder } from './memory/embedder.js'
export { QueueScheduler } from './queue/queue-scheduler.js'
export type {
  JobClass,
  JobDroppedEvent,
  JobEndEvent,
  JobPosition,
  JobQueuedEvent,
  JobRequest,
  JobStartEvent,
  Lease,
  QueueSchedulerEvents,
  QueueSchedulerOptions,
  SchedulerSnapshot,
  SchedulerTimers,
  SchedulerUpstream,
  UpstreamSnapshot,
} from './queue/queue-scheduler.js'
export { threadKeyFor } from './queue/thread-key.js'
export { conversationIdOf } from './queue/conversation-id.js'
export type { ConversationIdInput } from './queue/conversation-id.js'
export type { ThreadKeyInput } from './queue/thread-key.js'
export { jobClassFor } from './gateway/job-class.js'
export type { JobClassInput } from './gateway/job-class.js'
export { createInMemorySchedulerState, InMemoryLoadView, InMemorySlotTable, InMemoryStickyStore } from './queue/in-memory-scheduler-state.js'
export type { InMemorySchedulerStateOptions } from './queue/in-memory-scheduler-state.js'
export type { LoadView, PrefixPlace, PrefixStore, SchedulerState, SharedJob, SharedStateStatus, SlotAuthority, SlotTable, StickyEntry, StickyStore } from './queue/scheduler-state.js'
export { createToolCallParser, detectInCompletion, generateCallId, parseFlexibleJson, parseToolCalls, REASONING_FIELDS, ToolCallDetector, toolCallFormats } from './toolcalls/index.js'
export type {
  DeclaredTools,
  FlexibleJsonResult,
  JsonObject,
  MalformedCall,
  MalformedToolCall,
  MatchContext,
  MatchResult,
  ParsedCall,
  ParsedToolCalls,
  ParseToolCallsOptions,
  ToolCallDetectionOptions,
  ToolCallDetectorOptions,
  ToolCallFormat,
  ToolCallMode,
  ToolCallParser,
  ToolCallParserOptions,
  ToolSpec,
} from './toolcalls/index.js'
export { createMcpSource, createOpenApiSource, createToolRegistry, openApiTools, PREFIX_SEPARATOR, ToolCallError, toParametersSchema, toToolSchema } from './tools/index.js'
export type {
  McpServerOptions,
  McpSourceOptions,
  OpenApiServerOptions,
  OpenApiSourceOptions,
  OpenApiTool,
  OpenApiToolsResult,
  ToolCallOptions,
  ToolError,
  ToolOutcome,
  ToolRegistry,
  ToolRegistryOptions,
  ToolSource,
  ToolSourceEntry,
} from './tools/index.js'
export {
  AbortError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  QueueFullError,
  QueueTimeoutError,
  QueuegateError,
  UnavailableError,
  UpstreamError,
  UpstreamTimeoutError,
} from './errors.js'
export type { QueuegateErrorOptions } from './errors.js'
export type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionDelta,
  ChatCompletionMessage,
  ChatCompletionRequest,
  ChatMessage,
  JsonValue,
  ToolCall,
  ToolCallDelta,
  ToolDefinition,
} from './openai/types.js'
