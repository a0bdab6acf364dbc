/**
 * The error a {@link ToolSource}'s `call` rejects with: it carries the structured
 * {@link ToolError} the registry hands to the model.
 * @module
 */
import type { ToolError } from './types.js'

const BRAND = Symbol.for('queuegate.tool-call-error')

/** A tool call that failed in a way the model should hear about (`tool_http_error`, `tool_call_failed`, `tool_error`…). */
export class ToolCallError extends Error {
  readonly [BRAND] = true
  /** What goes back to the model. */
  readonly toolError: ToolError

  constructor(toolError: ToolError, options: { cause?: unknown } = {}) {
    super(toolError.message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ToolCallError'
    this.toolError = toolError
  }

  /** True for a tool call error from any installed copy of the package. */
  static isInstance(value: unknown): value is ToolCallError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }
}
