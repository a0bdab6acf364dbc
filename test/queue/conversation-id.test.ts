import { describe, expect, it } from 'vitest'
import { conversationIdOf, threadKeyFor } from 'queuegate'

const id = (headers: Record<string, string>, body: Record<string, unknown> = {}, stickyHeader?: string) => conversationIdOf({ headers: new Headers(headers), body, stickyHeader })

describe('conversationIdOf (shared by sticky routing and chat memory)', () => {
  it('reads the sticky header, the Open WebUI headers in both spellings, and X-Conversation-Id', () => {
    expect(id({ 'x-chat-id': 'mine', 'x-openwebui-chat-id': 'owui' })).toBe('mine')
    expect(id({ 'X-Open-WebUI-Chat-Id': 'c2' })).toBe('c2')
    expect(id({ 'X-OpenWebUI-Conversation-Id': 'c3' })).toBe('c3')
    expect(id({ 'X-Open-WebUI-Thread-Id': 't' })).toBe('t')
    expect(id({ 'x-conversation-id': ' conv ' })).toBe('conv')
    expect(id({ 'x-session': 's', 'x-chat-id': 'mine' }, {}, 'X-Session')).toBe('s')
  })

  it('reads body chat_id / conversation_id / thread_id, then the same under metadata', () => {
    expect(id({}, { chat_id: 'b1', conversation_id: 'b2' })).toBe('b1')
    expect(id({}, { conversation_id: 'b2' })).toBe('b2')
    expect(id({}, { thread_id: 42 })).toBe('42')
    expect(id({}, { metadata: { conversation_id: 'm1' } })).toBe('m1')
    expect(id({}, { chat_id: '  ', metadata: { thread_id: 'm2' } })).toBe('m2')
  })

  it('is undefined when the request names no conversation; the thread key then hashes the opening', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] }
    expect(id({}, body)).toBeUndefined()
    expect(threadKeyFor({ headers: new Headers(), body })).toMatch(/^h:[0-9a-f]{16}$/)
    expect(threadKeyFor({ headers: new Headers({ 'x-openwebui-chat-id': 'c1' }), body })).toBe('c1')
  })

  it('hashes ids longer than 200 characters', () => {
    expect(id({ 'x-chat-id': 'x'.repeat(201) })).toMatch(/^l:[0-9a-f]{16}$/)
    expect(id({ 'x-chat-id': 'x'.repeat(200) })).toBe('x'.repeat(200))
  })
})
