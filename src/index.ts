/**
 * queuegate: an OpenAI-compatible gateway with a prioritized queue, sticky routing and
 * tool-call recovery, as a web-standard `fetch` handler.
 * @module
 */
export { QueuegateError, InvalidRequestError, PayloadTooLargeError, NotFoundError, QueueFullError, QueueTimeoutError, UnavailableError, UpstreamError, UpstreamTimeoutError, AbortError } from './errors.js'
export type { QueuegateErrorOptions } from './errors.js'
export type * from './openai/types.js'
