import { describe, expect, it } from 'vitest'
import { threadKeyFor } from '../../src/queue/thread-key.js'
import { fnv1a64 } from '../../src/queue/fnv1a-64.js'

const key = (headers: Record<string, string>, body: Record<string, unknown> = {}, stickyHeader?: string) =>
  threadKeyFor({ headers: new Headers(headers), body, stickyHeader })

describe('threadKeyFor', () => {
  it.each([
    'X-Chat-Id',
    'X-OpenWebUI-Chat-Id',
    'X-Open-WebUI-Chat-Id',
    'X-OpenWebUI-Conversation-Id',
    'X-Open-WebUI-Conversation-Id',
    'X-OpenWebUI-Thread-Id',
    'X-Open-WebUI-Thread-Id',
    'X-Conversation-Id',
  ])('reads %s, whatever its case', (name) => {
    expect(key({ [name]: 'c1' })).toBe('c1')
    expect(key({ [name.toLowerCase()]: 'c2' })).toBe('c2')
    expect(key({ [name.toUpperCase()]: ' c3 ' })).toBe('c3')
  })

  it('takes the headers in order: the configured one, chat, conversation, thread', () => {
    const all = {
      'x-conversation-id': 'conv',
      'x-open-webui-thread-id': 'thread2',
      'x-openwebui-thread-id': 'thread1',
      'x-open-webui-conversation-id': 'conv2',
      'x-openwebui-conversation-id': 'conv1',
      'x-open-webui-chat-id': 'chat2',
      'x-openwebui-chat-id': 'chat1',
      'x-chat-id': 'mine',
    }
    expect(key(all)).toBe('mine')
    expect(key(all, {}, 'X-Session')).toBe('chat1')
    expect(key({ ...all, 'x-session': 'session' }, {}, 'x-SESSION')).toBe('session')
    const { 'x-chat-id': _a, 'x-openwebui-chat-id': _b, ...noChat } = all
    expect(key(noChat)).toBe('chat2')
    const { 'x-open-webui-chat-id': _c, ...noChat2 } = noChat
    expect(key(noChat2)).toBe('conv1')
    const { 'x-openwebui-conversation-id': _d, 'x-open-webui-conversation-id': _e, ...threads } = noChat2
    expect(key(threads)).toBe('thread1')
    expect(key({ 'x-conversation-id': 'conv' })).toBe('conv')
    expect(key({ 'x-chat-id': '  ', 'x-conversation-id': 'conv' })).toBe('conv')
  })

  it('falls back to body fields, then the same under metadata', () => {
    expect(key({}, { chat_id: 'b1', conversation_id: 'b2', thread_id: 'b3' })).toBe('b1')
    expect(key({}, { conversation_id: 'b2', thread_id: 'b3' })).toBe('b2')
    expect(key({}, { thread_id: 'b3' })).toBe('b3')
    expect(key({}, { thread_id: 42 })).toBe('42')
    expect(key({}, { metadata: { chat_id: 'm1', thread_id: 'm3' } })).toBe('m1')
    expect(key({}, { metadata: { conversation_id: 'm2' } })).toBe('m2')
    expect(key({}, { chat_id: '', metadata: { thread_id: 'm3' } })).toBe('m3')
    expect(key({ 'x-chat-id': 'h' }, { chat_id: 'b' })).toBe('h')
  })

  it('hashes model + opening messages + user, stable across the turns of one chat', () => {
    const system = { role: 'system', content: 'Be brief.' }
    const user1 = { role: 'user', content: 'Hello' }
    const turn1 = { model: 'm', messages: [system, user1], user: 'ann' }
    const turn2 = { ...turn1, messages: [system, user1, { role: 'assistant', content: 'Hi!' }, { role: 'user', content: 'More' }] }
    const first = key({}, turn1)
    expect(first).toMatch(/^h:[0-9a-f]{16}$/)
    expect(key({}, turn2)).toBe(first)
    // Key order inside messages does not matter (canonical JSON).
    expect(key({}, { user: 'ann', messages: [{ content: 'Be brief.', role: 'system' }, user1], model: 'm' })).toBe(first)
    // Without a system prompt, turn 1 [user] and turn 2 [user, assistant, user] agree too.
    const bare1 = key({}, { model: 'm', messages: [user1] })
    expect(key({}, { model: 'm', messages: [user1, { role: 'assistant', content: 'Hi!' }, { role: 'user', content: 'x' }] })).toBe(bare1)
    expect(key({}, { ...turn1, model: 'other' })).not.toBe(first)
    expect(key({}, { ...turn1, user: 'bob' })).not.toBe(first)
    expect(key({}, { ...turn1, messages: [system, { role: 'user', content: 'Bye' }] })).not.toBe(first)
    expect(key({}, {})).toMatch(/^h:/)
  })

  it('hashes overlong ids so the sticky map stays bounded', () => {
    const long = 'x'.repeat(500)
    expect(key({ 'x-chat-id': long })).toMatch(/^l:[0-9a-f]{16}$/)
    expect(key({ 'x-chat-id': long })).toBe(key({}, { chat_id: long }))
  })
})

describe('threadKeyFor: the content hash', () => {
  /** The documented input: canonical JSON (sorted keys, undefined dropped) of [model, opening messages, user]. */
  function canonical(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map((item) => canonical(item === undefined ? null : item)).join(',')}]`
    if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>
      const keys = Object.keys(record).filter((name) => record[name] !== undefined).sort()
      return `{${keys.map((name) => `${JSON.stringify(name)}:${canonical(record[name])}`).join(',')}}`
    }
    return JSON.stringify(value) ?? 'null'
  }

  it('is the FNV-1a 64 of the canonical JSON of [model, opening messages, user], whatever the key order or text', () => {
    const messages = [
      { role: 'system', content: 'Tu es un assistant — réponds en français. 🎉', name: undefined },
      { content: [{ type: 'text', text: 'line\nbreak "quoted" \u2028' }, { type: 'image_url', image_url: { url: 'data:x', detail: 'low' } }], role: 'user' },
      { role: 'assistant', content: 'not part of the key' },
    ]
    const body = { user: 'u-1', model: 'm', messages, temperature: 0.2 }
    expect(key({}, body)).toBe(`h:${fnv1a64(canonical(['m', messages.slice(0, 2), 'u-1']))}`)
    expect(key({}, { messages: [{ role: 'user', content: 'hi' }] })).toBe(`h:${fnv1a64(canonical([null, [{ role: 'user', content: 'hi' }], null]))}`)
  })
})
