/**
 * The slice of the OpenAI chat-completions wire format that queuegate reads and writes.
 * Fields queuegate does not touch pass through untouched (index signatures), so a newer
 * client or server field is never lost on the way.
 * @module
 */

/** A JSON value as parsed from the wire. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** An OpenAI tool definition as sent in `tools`. */
export interface ToolDefinition {
  type: 'function'
  function: {
    name: string
    description?: string | undefined
    /** JSON schema of the arguments object. */
    parameters?: Record<string, unknown> | undefined
    strict?: boolean | undefined
  }
}

/** A complete tool call in a message (non-streaming shape). */
export interface ToolCall {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

/** A fragment of a tool call in a streamed delta. */
export interface ToolCallDelta {
  index: number
  id?: string | undefined
  type?: 'function' | undefined
  function?: { name?: string | undefined; arguments?: string | undefined } | undefined
}

/** A chat message as sent by clients. `content` may be a string or a list of parts. */
export interface ChatMessage {
  role: string
  content?: string | Array<Record<string, unknown>> | null | undefined
  name?: string | undefined
  tool_calls?: ToolCall[] | undefined
  tool_call_id?: string | undefined
  reasoning_content?: string | null | undefined
  [key: string]: unknown
}

/** The body of `POST /v1/chat/completions`. */
export interface ChatCompletionRequest {
  model?: string | undefined
  messages: ChatMessage[]
  stream?: boolean | undefined
  tools?: ToolDefinition[] | undefined
  user?: string | undefined
  metadata?: Record<string, unknown> | undefined
  [key: string]: unknown
}

/** The delta of one streamed choice. Reasoning text arrives under one of three names. */
export interface ChatCompletionDelta {
  role?: string | undefined
  content?: string | null | undefined
  reasoning_content?: string | null | undefined
  reasoning?: string | null | undefined
  thinking?: string | null | undefined
  tool_calls?: ToolCallDelta[] | undefined
  [key: string]: unknown
}

/** One choice of a `chat.completion.chunk`. */
export interface ChatCompletionChunkChoice {
  index: number
  delta: ChatCompletionDelta
  finish_reason?: string | null | undefined
  logprobs?: unknown
  [key: string]: unknown
}

/** One streamed `chat.completion.chunk` event. */
export interface ChatCompletionChunk {
  id: string
  object: 'chat.completion.chunk'
  created: number
  model: string
  choices: ChatCompletionChunkChoice[]
  usage?: Record<string, unknown> | null | undefined
  [key: string]: unknown
}

/** The assistant message of a non-streamed choice. */
export interface ChatCompletionMessage {
  role: string
  content: string | null
  reasoning_content?: string | null | undefined
  tool_calls?: ToolCall[] | undefined
  [key: string]: unknown
}

/** A non-streamed `chat.completion`. */
export interface ChatCompletion {
  id: string
  object: 'chat.completion'
  created: number
  model: string
  choices: Array<{ index: number; message: ChatCompletionMessage; finish_reason: string | null; [key: string]: unknown }>
  usage?: Record<string, unknown> | undefined
  [key: string]: unknown
}
