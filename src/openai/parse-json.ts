/**
 * Safe JSON parsing that never throws and never echoes the payload back in its error.
 * @module
 */

/** The result of {@link safeParseJson}. */
export type ParseJsonResult<T> = { success: true; value: T } | { success: false; error: Error }

/** Parses `text` as JSON; the error message names the problem, not the text. */
export function safeParseJson<T = unknown>(text: string): ParseJsonResult<T> {
  try {
    return { success: true, value: JSON.parse(text) as T }
  } catch (error) {
    return { success: false, error: error instanceof Error ? error : new Error(String(error)) }
  }
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
