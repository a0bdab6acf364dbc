import { describe, expect, it } from 'vitest'
import { formatQueueMessage } from '../../src/gateway/queue-notices.js'

describe('formatQueueMessage', () => {
  const template = 'Queued: position {position} of {queued}, about {eta}s'
  it('fills position, queue length and ETA in whole seconds', () => {
    expect(formatQueueMessage(template, { position: 3, queued: 7, etaMs: 12_400 })).toBe('Queued: position 3 of 7, about 12s')
    expect(formatQueueMessage(template, { position: 1, queued: 1, etaMs: 100 })).toBe('Queued: position 1 of 1, about 1s')
  })
  it('leaves the ETA clause out while there is no estimate', () => {
    expect(formatQueueMessage(template, { position: 2, queued: 2, etaMs: undefined })).toBe('Queued: position 2 of 2')
    expect(formatQueueMessage('#{position} (eta {eta})', { position: 2, queued: 2, etaMs: undefined })).toBe('#2 (eta ?)')
  })
})
