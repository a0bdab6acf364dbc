/**
 * When a model call that failed before its answer started runs again (issue 12). Pure: the
 * model call (call-model.ts) asks {@link RetryBudget.next} after each failed attempt and does
 * what it says.
 *
 * - **Unreachable** (`upstream_unreachable`: a connect-phase failure, nothing reached the
 *   server): the call moves to another upstream in rotation that serves its model, as if it never
 *   ran (the unreachable one also sits out a cooldown). Bounded by the number of upstreams, apart
 *   from the retry count.
 * - **Retried** (at most `maxRetries` times): a 5xx, a 429, a reset or close after the request
 *   was sent (`upstream_reset`), a first-byte or header timeout (`upstream_timeout`). The call
 *   goes to an upstream it has not failed on that is in rotation and serves its model; when none
 *   is left, a 429 or 503 whose `Retry-After` is at most {@link MAX_RETRY_AFTER_WAIT_MS} waits
 *   that long and goes back to the pool (the same upstream included).
 * - **Never**: any other 4xx (the request itself is at fault), an abort, or anything once bytes
 *   of the answer reached the client (the call never asks then).
 *
 * When the last failure is a 429 or 503, the client's error carries a `Retry-After`: the soonest
 * any upstream named, else the scheduler's estimate.
 * @module
 */
import { AbortError } from '../errors.js'
import type { QueuegateError } from '../errors.js'

/** The longest `Retry-After` a call waits out itself, in ms; beyond it the client gets the 429/503 (with the header). */
export const MAX_RETRY_AFTER_WAIT_MS = 30_000

/** What to do after a failed attempt. */
export interface RetryStep {
  /** `unreachable`: elsewhere, nothing was sent; `another-upstream`: a retry elsewhere; `after-retry-after`: wait, then any upstream. */
  kind: 'another-upstream' | 'unreachable' | 'after-retry-after'
  /** How long to wait first (only `after-retry-after`). */
  waitMs?: number | undefined
}

/** Where the budget looks for another upstream: health's rotation and the model's upstreams. */
export interface RetryContext {
  health: { servesOutside(excluded: ReadonlySet<string>, model: string | undefined): boolean }
  /** The model the call is routed on (undefined: any upstream takes it). */
  model: string | undefined
  /** The upstream the attempt failed on. */
  upstream: string
  /** Wall-clock time, for a `Retry-After` given as a date. */
  now: number
}

/** Whether a failure before the answer started may be retried (apart from connect failures). */
export function isRetriable(failure: QueuegateError, status: number | undefined): boolean {
  if (status !== undefined) return status === 429 || status >= 500
  return failure.code === 'upstream_reset' || failure.code === 'upstream_timeout'
}

/** A `Retry-After` value (delay in seconds, or an HTTP date) as a delay in ms from `now`; undefined when absent or malformed. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** One call's retries: what it failed on, and what it may still try; see the module doc. */
export class RetryBudget {
  readonly #maxRetries: number
  readonly #upstreams: number
  #retries = 0
  #failovers = 0
  #excluded: Set<string> | undefined
  /** The soonest `Retry-After` a 429 or 503 named, in ms. */
  #soonestMs: number | undefined

  /** `maxRetries` retries; at most `upstreams - 1` moves off unreachable upstreams. */
  constructor(maxRetries: number, upstreams: number) {
    this.#maxRetries = maxRetries
    this.#upstreams = upstreams
  }

  /** The upstreams the call failed on and must not go back to (undefined until one failed). */
  get excluded(): ReadonlySet<string> | undefined {
    return this.#excluded
  }

  /** Retries used so far. */
  get retries(): number {
    return this.#retries
  }

  /** After a failed attempt (`status`: the upstream's answer, when it gave one): the next step, or undefined when the failure is the client's answer. */
  next(failure: QueuegateError, status: number | undefined, retryAfter: string | undefined, context: RetryContext): RetryStep | undefined {
    if (failure instanceof AbortError) return undefined
    const waitMs = status === 429 || status === 503 ? parseRetryAfter(retryAfter, context.now) : undefined
    if (waitMs !== undefined) this.#soonestMs = Math.min(this.#soonestMs ?? waitMs, waitMs)
    const excluded = (this.#excluded ??= new Set())
    if (failure.code === 'upstream_unreachable') {
      if (this.#failovers >= this.#upstreams - 1) return undefined
      excluded.add(context.upstream)
      if (!context.health.servesOutside(excluded, context.model)) return undefined
      this.#failovers += 1
      return { kind: 'unreachable' }
    }
    if (this.#retries >= this.#maxRetries || !isRetriable(failure, status)) return undefined
    excluded.add(context.upstream)
    if (context.health.servesOutside(excluded, context.model)) {
      this.#retries += 1
      return { kind: 'another-upstream' }
    }
    if (waitMs !== undefined && waitMs <= MAX_RETRY_AFTER_WAIT_MS) {
      // No other upstream can serve: back to the pool after the wait, this one included.
      excluded.delete(context.upstream)
      this.#retries += 1
      return { kind: 'after-retry-after', waitMs }
    }
    return undefined
  }

  /**
   * The client's error for the last failure: a 429 or 503 gets a `Retry-After` (the soonest an
   * upstream named, else `estimateSeconds()`), so a pool that is all busy says when to come back.
   */
  finalError(failure: QueuegateError, status: number | undefined, estimateSeconds: () => number): QueuegateError {
    if (failure.status !== 429 && failure.status !== 503) return failure
    if (status !== 429 && status !== 503) return failure
    const seconds = this.#soonestMs !== undefined ? Math.max(1, Math.ceil(this.#soonestMs / 1000)) : estimateSeconds()
    const headers = failure.headers as Record<string, string>
    headers['retry-after'] = String(seconds)
    return failure
  }
}
