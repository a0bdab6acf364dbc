/** The retry rule (issue 12), as a pure decision: what runs again, where, and what the client gets at the end. */
import { describe, expect, it } from 'vitest'
import { AbortError, QueuegateError, UpstreamError, UpstreamTimeoutError } from '../../src/errors.js'
import { MAX_RETRY_AFTER_WAIT_MS, parseRetryAfter, RetryBudget } from '../../src/gateway/retry-policy.js'
import { upstreamStatusError } from '../../src/gateway/call-model.js'

/** A pool of upstreams `a`, `b`, `c`…, all in rotation and serving every model. */
function pool(ids: string[]) {
  return { servesOutside: (excluded: ReadonlySet<string>) => ids.some((id) => !excluded.has(id)) }
}
const context = (upstream: string, ids = ['a', 'b']) => ({ health: pool(ids), model: undefined, upstream, now: 0 })
const status = (code: number, retryAfter?: string) => upstreamStatusError({ id: 'x' }, code, '', retryAfter)

describe('RetryBudget', () => {
  it('retries 5xx, 429, resets after sending and timeouts on another upstream, excluding the failed one', () => {
    for (const [failure, code] of [
      [status(500), 500],
      [status(502), 502],
      [status(429), 429],
      [status(503), 503],
      [new UpstreamError('reset', { code: 'upstream_reset' }), undefined],
      [new UpstreamTimeoutError('slow'), undefined],
    ] as Array<[QueuegateError, number | undefined]>) {
      const budget = new RetryBudget(2, 2)
      expect(budget.next(failure, code, undefined, context('a'))).toEqual({ kind: 'another-upstream' })
      expect([...(budget.excluded ?? [])]).toEqual(['a'])
    }
  })

  it('never retries another 4xx, an abort, or an unknown failure', () => {
    const budget = new RetryBudget(2, 2)
    expect(budget.next(status(400), 400, undefined, context('a'))).toBeUndefined()
    expect(budget.next(status(404), 404, undefined, context('a'))).toBeUndefined()
    expect(budget.next(new AbortError(), undefined, undefined, context('a'))).toBeUndefined()
    expect(budget.next(new UpstreamError('parse error'), undefined, undefined, context('a'))).toBeUndefined()
  })

  it('stops after maxRetries, and when no other upstream is left', () => {
    const budget = new RetryBudget(1, 3)
    expect(budget.next(status(500), 500, undefined, context('a', ['a', 'b', 'c']))?.kind).toBe('another-upstream')
    expect(budget.next(status(500), 500, undefined, context('b', ['a', 'b', 'c']))).toBeUndefined()
    const alone = new RetryBudget(2, 1)
    expect(alone.next(status(500), 500, undefined, context('a', ['a']))).toBeUndefined()
  })

  it('moves off an unreachable upstream apart from the retry count, at most once per other upstream', () => {
    const budget = new RetryBudget(0, 3)
    const unreachable = new UpstreamError('refused', { code: 'upstream_unreachable' })
    expect(budget.next(unreachable, undefined, undefined, context('a', ['a', 'b', 'c']))).toEqual({ kind: 'unreachable' })
    expect(budget.next(unreachable, undefined, undefined, context('b', ['a', 'b', 'c']))).toEqual({ kind: 'unreachable' })
    expect(budget.next(unreachable, undefined, undefined, context('c', ['a', 'b', 'c']))).toBeUndefined()
  })

  it('with no other upstream, waits out a short Retry-After of a 429/503 and goes back to the pool; a long one is the answer', () => {
    const budget = new RetryBudget(2, 1)
    expect(budget.next(status(429, '2'), 429, '2', context('a', ['a']))).toEqual({ kind: 'after-retry-after', waitMs: 2000 })
    // Back in the pool: the same upstream may take it again.
    expect(budget.excluded?.has('a')).toBe(false)
    const long = String(MAX_RETRY_AFTER_WAIT_MS / 1000 + 1)
    const failure = status(503, long)
    expect(budget.next(failure, 503, long, context('a', ['a']))).toBeUndefined()
    // The client's 503 names the soonest Retry-After seen.
    expect(budget.finalError(failure, 503, () => 99).headers['retry-after']).toBe('2')
  })

  it('gives a final 429/503 without any Retry-After the estimate; other errors pass unchanged', () => {
    const budget = new RetryBudget(0, 1)
    const busy = status(429)
    budget.next(busy, 429, undefined, context('a', ['a']))
    expect(budget.finalError(busy, 429, () => 7).headers['retry-after']).toBe('7')
    const broken = status(500)
    expect(budget.finalError(broken, 500, () => 7).headers['retry-after']).toBeUndefined()
  })
})

describe('upstreamStatusError', () => {
  it('keeps a 503 (upstream_unavailable) and a 429 with their Retry-After; other 5xx are 502', () => {
    expect(status(503, '5')).toMatchObject({ status: 503, code: 'upstream_unavailable', headers: { 'retry-after': '5' } })
    expect(status(429, '5')).toMatchObject({ status: 429, type: 'rate_limit_error', headers: { 'retry-after': '5' } })
    expect(status(500, '5')).toMatchObject({ status: 502, code: 'upstream_error', headers: {} })
  })
})

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates; ignores the malformed', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000)
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000)
    expect(parseRetryAfter(new Date(0).toUTCString(), 4000)).toBe(0)
    expect(parseRetryAfter('soon', 0)).toBeUndefined()
    expect(parseRetryAfter(undefined, 0)).toBeUndefined()
  })
})
