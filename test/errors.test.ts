import { describe, expect, it } from 'vitest'
import { QueueFullError, QueuegateError } from 'queuegate'

describe('QueueFullError', () => {
  it('has an OpenAI body and a Retry-After header', async () => {
    const error = new QueueFullError('full', 2.2)
    expect(QueuegateError.isInstance(error)).toBe(true)
    const response = error.toResponse()
    expect(response.status).toBe(429)
    expect(response.headers.get('retry-after')).toBe('3')
    expect(await response.json()).toEqual({ error: { message: 'full', type: 'rate_limit_error', param: null, code: 'queue_full' } })
  })
})
