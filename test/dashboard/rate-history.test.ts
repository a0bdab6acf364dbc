import { describe, expect, it } from 'vitest'
import { RateHistory } from '../../src/dashboard/rate-history.js'

describe('RateHistory', () => {
  it('sums per bucket, keeps maxima, and forgets buckets that fall out of the window', () => {
    const history = new RateHistory({ bucketMs: 1000, buckets: 3 })
    history.add(10_100, 'requests', 1)
    history.add(10_900, 'requests', 2)
    history.max(10_500, 'queued', 4)
    history.max(10_600, 'queued', 2)
    history.add(11_000, 'requests', 5)
    expect(history.snapshot(11_500)).toMatchObject({ bucketMs: 1000, start: 9000, requests: [0, 3, 5], queued: [0, 4, 0] })
    // Two buckets later the first two are gone; a gap of more than the window clears everything.
    expect(history.snapshot(13_000)).toMatchObject({ start: 11_000, requests: [5, 0, 0], queued: [0, 0, 0] })
    history.add(13_000, 'errors', 1)
    expect(history.snapshot(60_000)).toMatchObject({ start: 58_000, requests: [0, 0, 0], errors: [0, 0, 0] })
  })

  it('counts a time before the newest bucket (a clock stepping back) in the newest bucket', () => {
    const history = new RateHistory({ bucketMs: 1000, buckets: 2 })
    history.add(5000, 'tokens', 10)
    history.add(3000, 'tokens', 5)
    expect(history.snapshot(5000).tokens).toEqual([0, 15])
  })
})
