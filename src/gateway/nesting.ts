/**
 * Bodies nested thousands of levels deep: `JSON.parse` takes them, but whatever walks them
 * recursively afterwards (the thread key's canonical JSON, `JSON.stringify` of a rewritten body)
 * overflows the stack. Rather than pay a depth check on every body, the few places that walk a
 * client's body turn that overflow into a 400.
 * @module
 */
import { InvalidRequestError } from '../errors.js'

/** True for V8's `RangeError: Maximum call stack size exceeded`. */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message)
}

/** The 400 a body too deep to handle gets. */
export function nestedTooDeeply(cause: unknown): InvalidRequestError {
  return new InvalidRequestError('The request body is nested too deeply.', { code: 'invalid_body', cause })
}
