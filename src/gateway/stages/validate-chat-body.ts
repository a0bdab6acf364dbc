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
  if (body.messages.length === 0) throw new InvalidRequestError('`messages` must hold at least one message.', { param: 'messages', code: 'invalid_messages' })
  for (const [index, message] of body.messages.entries()) {
    if (!isJsonObject(message) || typeof message.role !== 'string' || message.role === '') {
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
  for (const field of NUMBER_FIELDS) {
    const value = body[field.name]
    if (value === undefined || value === null) continue
    if (typeof value !== 'number' || !Number.isFinite(value) || (field.integer && !Number.isInteger(value)) || value < field.min || value > field.max) {
      throw new InvalidRequestError(`\`${field.name}\` must be ${field.expected}, got ${JSON.stringify(value)?.slice(0, 50)}.`, { param: field.name, code: 'invalid_value' })
    }
  }
}

/**
 * Number fields the OpenAI API refuses when they are of the wrong type or out of range. The
 * ranges are the widest that llama.cpp and vLLM accept, so nothing either server takes as an
 * extension is refused (`max_tokens: -1` is llama.cpp's "no limit"; a temperature above 2 is
 * vLLM's to take). Unknown roles are not refused: chat templates define their own (`ipython`,
 * `observation`).
 */
const NUMBER_FIELDS: ReadonlyArray<{ name: string; integer: boolean; min: number; max: number; expected: string }> = [
  { name: 'n', integer: true, min: 1, max: 128, expected: 'a whole number from 1 to 128' },
  { name: 'max_tokens', integer: true, min: -1, max: Number.MAX_SAFE_INTEGER, expected: 'a whole number >= -1 (-1: no limit)' },
  { name: 'max_completion_tokens', integer: true, min: -1, max: Number.MAX_SAFE_INTEGER, expected: 'a whole number >= -1 (-1: no limit)' },
  { name: 'temperature', integer: false, min: 0, max: Number.MAX_VALUE, expected: 'a number >= 0' },
  { name: 'top_p', integer: false, min: 0, max: 1, expected: 'a number from 0 to 1' },
  { name: 'presence_penalty', integer: false, min: -2, max: 2, expected: 'a number from -2 to 2' },
  { name: 'frequency_penalty', integer: false, min: -2, max: 2, expected: 'a number from -2 to 2' },
]
