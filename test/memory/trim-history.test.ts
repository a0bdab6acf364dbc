import { describe, expect, it } from 'vitest'
import { trimHistory } from '../../src/memory/trim-history.js'

const m = (role: string, content: string, extra: Record<string, unknown> = {}) => ({ role, content, ...extra })
const call = (id: string) => ({ role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'f', arguments: '{}' } }] })
const tool = (id: string) => ({ role: 'tool', tool_call_id: id, content: `result ${id}` })

describe('trimHistory', () => {
  it('keeps the system messages and the last keepLast user/assistant messages', () => {
    const messages = [m('system', 'S'), m('user', 'u1'), m('assistant', 'a1'), m('user', 'u2'), m('assistant', 'a2'), m('user', 'u3')]
    expect(trimHistory(messages, 2)).toEqual([m('system', 'S'), m('assistant', 'a2'), m('user', 'u3')])
    expect(trimHistory(messages, 4)).toEqual([m('system', 'S'), m('assistant', 'a1'), m('user', 'u2'), m('assistant', 'a2'), m('user', 'u3')])
    expect(trimHistory(messages, 10)).toEqual(messages)
    // At least one.
    expect(trimHistory(messages, 0)).toEqual([m('system', 'S'), m('user', 'u3')])
  })

  it('keeps system and developer messages from anywhere, in order, before the tail', () => {
    const messages = [m('system', 'S1'), m('user', 'u1'), m('developer', 'D'), m('assistant', 'a1'), m('user', 'u2')]
    expect(trimHistory(messages, 1)).toEqual([m('system', 'S1'), m('developer', 'D'), m('user', 'u2')])
  })

  it('never splits an assistant tool_calls message from its tool messages', () => {
    const messages = [m('system', 'S'), m('user', 'u1'), call('c1'), tool('c1'), m('assistant', 'a1'), m('user', 'u2'), call('c2'), tool('c2'), tool('c3')]
    // keepLast 2: u2 and the call (with both tool messages).
    expect(trimHistory(messages, 2)).toEqual([m('system', 'S'), m('user', 'u2'), call('c2'), tool('c2'), tool('c3')])
    // keepLast 1: the call message with its tool messages.
    expect(trimHistory(messages, 1)).toEqual([m('system', 'S'), call('c2'), tool('c2'), tool('c3')])
    // keepLast 3: a1 is taken, the tool message before it (its call not taken) is dropped.
    expect(trimHistory(messages, 3)).toEqual([m('system', 'S'), m('assistant', 'a1'), m('user', 'u2'), call('c2'), tool('c2'), tool('c3')])
    // keepLast 4: the first call and its tool message come in together.
    expect(trimHistory(messages, 4)).toEqual([m('system', 'S'), call('c1'), tool('c1'), m('assistant', 'a1'), m('user', 'u2'), call('c2'), tool('c2'), tool('c3')])
  })

  it('a conversation without system messages', () => {
    expect(trimHistory([m('user', 'u1'), m('assistant', 'a1'), m('user', 'u2')], 1)).toEqual([m('user', 'u2')])
    expect(trimHistory([], 4)).toEqual([])
  })
})
