import { describe, expect, it } from 'vitest'
import { toolModeFor } from '../../../src/gateway/stages/tool-call-detection.js'

describe('toolModeFor', () => {
  it('takes X-Tool-Mode, except on the passthrough endpoint, else the default', () => {
    const headers = new Headers({ 'x-tool-mode': 'Suppress' })
    expect(toolModeFor({ toolMode: 'passthrough' }, { path: '/v1/chat/completions', headers })).toBe('suppress')
    expect(toolModeFor({ toolMode: 'suppress' }, { path: '/v1/chat/completions_passthrough', headers })).toBe('passthrough')
    expect(toolModeFor({ toolMode: 'suppress' }, { path: '/v1/chat/completions', headers: new Headers() })).toBe('suppress')
    expect(toolModeFor({ toolMode: 'passthrough' }, { path: '/v1/chat/completions', headers: new Headers({ 'x-tool-mode': 'execute' }) })).toBe('execute')
    expect(toolModeFor({ toolMode: 'passthrough' }, { path: '/v1/chat/completions', headers: new Headers({ 'x-tool-mode': 'run-it' }) })).toBe('passthrough')
    expect(toolModeFor({ toolMode: 'passthrough' }, { path: '/v1/agent/chat/completions', headers: new Headers() })).toBe('execute')
  })
})
