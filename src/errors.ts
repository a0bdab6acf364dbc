/**
 * One error type for every failure queuegate reports, with the OpenAI error body
 * `{ error: { message, type, param, code } }` that the official clients turn into `APIError`.
 * @module
 */

const BRAND = Symbol.for('queuegate.error')

/** Options shared by every queuegate error. */
export interface QueuegateErrorOptions {
  /** HTTP status of the response. @default 500 */
  status?: number | undefined
  /** OpenAI error `type`. @default 'server_error' */
  type?: string | undefined
  /** Stable machine-readable code; never changes once released. */
  code?: string | null | undefined
  /** The request field at fault, if any. */
  param?: string | null | undefined
  /** Extra response headers (e.g. `Retry-After`). */
  headers?: Record<string, string> | undefined
  cause?: unknown
}

/** Base class of every error queuegate turns into a response. */
export class QueuegateError extends Error {
  readonly [BRAND] = true
  readonly status: number
  readonly type: string
  readonly code: string | null
  readonly param: string | null
  readonly headers: Record<string, string>

  constructor(message: string, options: QueuegateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'QueuegateError'
    this.status = options.status ?? 500
    this.type = options.type ?? 'server_error'
    this.code = options.code ?? null
    this.param = options.param ?? null
    this.headers = options.headers ?? {}
  }

  /** True for a queuegate error from any installed copy of the package. */
  static isInstance(value: unknown): value is QueuegateError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }

  /** The OpenAI error body. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } }
  }

  /** The error as a JSON `Response` with its status and headers. */
  toResponse(extraHeaders: Record<string, string> = {}): Response {
    return new Response(JSON.stringify(this.toJSON()), {
      status: this.status,
      headers: { 'content-type': 'application/json', ...this.headers, ...extraHeaders },
    })
  }
}

/** 400: the request body is not something queuegate can forward. */
export class InvalidRequestError extends QueuegateError {
  constructor(message: string, options: { param?: string | null; code?: string; cause?: unknown } = {}) {
    super(message, { status: 400, type: 'invalid_request_error', code: options.code ?? 'invalid_request', param: options.param ?? null, cause: options.cause })
    this.name = 'InvalidRequestError'
  }
}

/** 413: the request body is larger than `maxBodyBytes`. */
export class PayloadTooLargeError extends QueuegateError {
  constructor(limit: number) {
    super(`Request body is larger than ${limit} bytes.`, { status: 413, type: 'invalid_request_error', code: 'payload_too_large' })
    this.name = 'PayloadTooLargeError'
  }
}

/** 404: no route, job or model by that name. */
export class NotFoundError extends QueuegateError {
  constructor(message: string, code = 'not_found', param: string | null = null) {
    super(message, { status: 404, type: 'invalid_request_error', code, param })
    this.name = 'NotFoundError'
  }
}

/** 429: the queue holds `maxQueued` waiting jobs already. */
export class QueueFullError extends QueuegateError {
  readonly retryAfterSeconds: number
  constructor(message: string, retryAfterSeconds: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds))
    super(message, { status: 429, type: 'rate_limit_error', code: 'queue_full', headers: { 'retry-after': String(seconds) } })
    this.name = 'QueueFullError'
    this.retryAfterSeconds = seconds
  }
}

/** 503: the job waited longer than `maxWaitMs`. */
export class QueueTimeoutError extends QueuegateError {
  constructor(message: string) {
    super(message, { status: 503, type: 'server_error', code: 'queue_timeout' })
    this.name = 'QueueTimeoutError'
  }
}

/** 503: the gateway is shutting down or has no upstream for the job. */
export class UnavailableError extends QueuegateError {
  constructor(message: string, code = 'unavailable') {
    super(message, { status: 503, type: 'server_error', code })
    this.name = 'UnavailableError'
  }
}

/** 502: the upstream refused the connection, failed, or answered with an error. */
export class UpstreamError extends QueuegateError {
  constructor(message: string, options: { status?: number; code?: string; cause?: unknown; headers?: Record<string, string> | undefined } = {}) {
    super(message, { status: options.status ?? 502, type: 'upstream_error', code: options.code ?? 'upstream_error', cause: options.cause, headers: options.headers })
    this.name = 'UpstreamError'
  }
}

/** 504: the upstream did not answer within the read timeout. */
export class UpstreamTimeoutError extends QueuegateError {
  constructor(message: string, cause?: unknown) {
    super(message, { status: 504, type: 'upstream_error', code: 'upstream_timeout', cause })
    this.name = 'UpstreamTimeoutError'
  }
}

/**
 * The error a job gets when its request's signal aborts (the client went away). It carries no
 * stack trace: every disconnect makes one, the stack says nothing about the cause, and capturing
 * it was half the cost of dropping a waiting job.
 */
export class AbortError extends QueuegateError {
  constructor(message = 'The request was aborted.', cause?: unknown) {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    try {
      super(message, { status: 499, type: 'client_error', code: 'aborted', cause })
    } finally {
      Error.stackTraceLimit = limit
    }
    this.name = 'AbortError'
  }
}
