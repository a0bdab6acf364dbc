/**
 * An agent's `chat()`: a model call through the gateway's own queue, as the batch class, with
 * the gateway's stages. Each call is a call plan of its own (its job id the agent job's with a
 * counter), sent with `callModel`; its lease is released once the answer is read.
 * @module
 */
import { AbortError, InvalidRequestError } from '../errors.js'
import type { ChatCompletion } from '../openai/types.js'
import { isJsonObject } from '../openai/parse-json.js'
import { createCallPlan, runStages } from '../gateway/call-plan.js'
import type { CallPlan } from '../gateway/call-plan.js'
import { callModel } from '../gateway/call-model.js'
import { endpointFor } from '../gateway/endpoints.js'
import type { Endpoint } from '../gateway/endpoints.js'
import type { GatewayServices } from '../gateway/gateway-services.js'
import type { AgentChatRequest, AgentContext } from './types.js'

const CHAT_ENDPOINT = endpointFor('/v1/chat/completions') as Endpoint
const NO_HEADERS = new Headers()

/** Token counts summed over an agent's model calls. */
export interface AgentUsage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  calls: number
}

/** The `chat` of one agent job; `usage` sums what the upstreams reported. */
export function createAgentChat(services: GatewayServices, parent: CallPlan, jobSignal: AbortSignal): { chat: AgentContext['chat']; usage: AgentUsage } {
  const usage: AgentUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, calls: 0 }
  let count = 0
  async function chat(request: AgentChatRequest, options: { signal?: AbortSignal | undefined } = {}): Promise<ChatCompletion> {
    if (!isJsonObject(request) || !Array.isArray(request.messages)) throw new InvalidRequestError('chat(): the request needs a `messages` array.', { param: 'messages' })
    const signal = options.signal === undefined ? jobSignal : AbortSignal.any([jobSignal, options.signal])
    if (signal.aborted) throw new AbortError('The agent was aborted.', signal.reason)
    const body: Record<string, unknown> = { ...request, stream: false }
    const plan = createCallPlan({
      jobId: `${parent.jobId}.${++count}`,
      request: parent.request,
      headers: NO_HEADERS,
      path: '/v1/chat/completions',
      endpoint: CHAT_ENDPOINT,
      key: parent.key,
      text: JSON.stringify(body),
      body,
      // The agent runs tools itself (`tools`): calls come back to it, whatever the gateway's default mode.
      toolMode: 'passthrough',
    })
    const staged = runStages(services.stages, plan)
    if (staged !== undefined) await staged
    if (plan.agent !== undefined) throw new InvalidRequestError(`chat(): ${JSON.stringify(plan.model)} is an agent; an agent calls models, not agents.`, { param: 'model', code: 'agent_calls_agent' })
    // People's chats go first, whatever the headers or the key's class say.
    plan.jobClass = 'batch'
    // A key's maxRunning counts the agent's model calls while each holds its slot.
    const limit = parent.key?.limit
    if (limit !== undefined) {
      const admitted = limit.enter(signal)
      if (admitted !== undefined) await admitted
    }
    try {
      const answer = await callModel(services, plan, { signal })
      try {
        const completion = await answer.completion()
        addUsage(usage, completion.usage)
        return completion
      } finally {
        answer.lease.release()
      }
    } finally {
      limit?.exit()
    }
  }
  return { chat, usage }
}

function addUsage(sum: AgentUsage, reported: Record<string, unknown> | undefined): void {
  sum.calls++
  if (reported === undefined) return
  const prompt = Number(reported.prompt_tokens)
  const completion = Number(reported.completion_tokens)
  if (Number.isFinite(prompt)) sum.prompt_tokens += prompt
  if (Number.isFinite(completion)) sum.completion_tokens += completion
  sum.total_tokens = sum.prompt_tokens + sum.completion_tokens
}
