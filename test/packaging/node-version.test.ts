import { describe, expect, it } from 'vitest'
import { isSupportedNodeVersion, unsupportedNodeMessage } from '../../src/node-version.js'

describe('isSupportedNodeVersion', () => {
  it.each([
    ['v22.19.0', true],
    ['22.19.0', true],
    ['v22.20.1', true],
    ['v23.0.0', true],
    ['v24.21.0', true],
    ['v100.0.0', true],
    ['v22.18.9', false],
    ['v22.9.0', false],
    ['v21.99.0', false],
    ['v20.20.2', false],
    ['18.20.8', false],
  ])('%s → %s', (version, expected) => {
    expect(isSupportedNodeVersion(version)).toBe(expected)
  })

  it('lets a version it cannot read through', () => {
    expect(isSupportedNodeVersion('')).toBe(true)
    expect(isSupportedNodeVersion('nightly')).toBe(true)
  })
})

describe('unsupportedNodeMessage', () => {
  it('is one line naming the running version, the floor and what still runs', () => {
    const expected = 'queuegate needs Node.js >= 22.19 (this is v20.20.2); queuegate/toolcalls and queuegate/queue alone run on older versions.'
    expect(unsupportedNodeMessage('v20.20.2')).toBe(expected)
    expect(unsupportedNodeMessage('20.20.2')).toBe(expected)
  })
})
