/**
 * Stage: a chat endpoint's body must be a chat completion request (400 naming the field
 * otherwise). Reads the body; changes nothing.
 * @module
 */
import { InvalidRequestError } from '../../errors.js'
import { isJsonObject } from '../../openai/parse-json.js'
import type { CallPlan, CallStage } from '../call-plan.js'

/** Checks `messages`, `tools` and `stream` of chat requests. */
export const validateChatBodyStage: CallStage = {
  name: 'validate-chat-body',
  prepare(plan: CallPlan): void {
    if (plan.endpoint.chat) validateChatBody(plan.body)
  },
}

/** Throws an {@link InvalidRequestError} for the first malformed field of a chat request body. */
export function validateChatBody(body: Record<string, unknown>): void {
  if (!Array.isArray(body.messages)) {
    throw new InvalidRequestError(
      body.messages === undefined ? '`messages` is required: a list of chat messages.' : '`messages` must be a list of chat messages.',
      { param: 'messages', code: 'invalid_messages' },
    )
  }
  for (const [index, message] of body.messages.entries()) {
    if (!isJsonObject(message) || typeof message.role !== 'string') {
      throw new InvalidRequestError(`\`messages[${index}]\` must be an object with a \`role\`.`, { param: `messages[${index}]`, code: 'invalid_messages' })
    }
  }
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) throw new InvalidRequestError('`tools` must be a list of tool definitions.', { param: 'tools', code: 'invalid_tools' })
    for (const [index, tool] of body.tools.entries()) {
      const fn = isJsonObject(tool) ? tool.function : undefined
      if (!isJsonObject(fn) || typeof fn.name !== 'string' || fn.name === '') {
        throw new InvalidRequestError(`\`tools[${index}]\` must be { "type": "function", "function": { "name": … } }.`, { param: `tools[${index}]`, code: 'invalid_tools' })
      }
    }
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    throw new InvalidRequestError('`stream` must be true or false.', { param: 'stream', code: 'invalid_stream' })
  }
}
