/**
 * Agents as models: what an agent is, and what it is given. An agent is served under its own
 * model id; a chat request for that id runs the agent instead of an upstream call. It calls
 * models through the gateway's own queue (`chat`, in the batch class, so people's chats go
 * first) and tools through the registry; what it yields streams to the client as
 * `reasoning_content`, and what it returns is the answer's content.
 * @module
 */
import type { ChatCompletion, ChatMessage } from '../openai/types.js'
import type { ToolRegistry } from '../tools/types.js'

/**
 * A chat request an agent makes: a chat completion body without `stream` (the answer comes back
 * whole). `model` may be omitted (the gateway's default model), an alias or a variant; not another
 * agent.
 */
export type AgentChatRequest = Record<string, unknown> & { messages: ChatMessage[]; model?: string | undefined; stream?: never }

/** What an agent is given for one request. */
export interface AgentContext {
  /** The agent's model id, as the client asked for it. */
  readonly id: string
  /** The client's messages. */
  readonly messages: readonly ChatMessage[]
  /** The client's whole request body (read only). */
  readonly body: Readonly<Record<string, unknown>>
  /** Aborts when the client goes away or the gateway shuts down; every `chat` call it started is aborted with it. */
  readonly signal: AbortSignal
  /**
   * Calls a model through the gateway's queue (batch class), with the gateway's stages (aliases,
   * variants, the reasoning split, tool calls recovered from text). Tool calls come back in the
   * completion (passthrough, even when the gateway executes tools for clients): the agent runs
   * them with `tools`. Rejects with the gateway's error (a `QueuegateError`) when the call fails.
   */
  chat(request: AgentChatRequest, options?: { signal?: AbortSignal | undefined }): Promise<ChatCompletion>
  /** The gateway's tool registry, when tool servers are configured. */
  readonly tools: ToolRegistry | undefined
}

/** A step an agent reports: one line of `reasoning_content`. */
export type AgentStep = string

/** An agent's answer: the content of the final message (`undefined`: empty). */
export type AgentAnswer = string | undefined | void

/**
 * An agent: an async generator yielding steps and returning the answer, or a function returning
 * the answer (or a promise of it).
 * @example
 * const echo: Agent = async function* ({ messages, chat }) {
 *   yield 'asking the model'
 *   const answer = await chat({ messages: [...messages] })
 *   return answer.choices[0]?.message.content ?? ''
 * }
 */
export type Agent = (context: AgentContext) => AsyncGenerator<AgentStep, AgentAnswer, undefined> | Promise<AgentAnswer> | AgentAnswer
