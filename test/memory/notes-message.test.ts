import { describe, expect, it } from 'vitest'
import { insertNotes, notesMessage, NOTES_HEADER, withoutFileHeader } from '../../src/memory/notes-message.js'
import { lastUserText, messageText } from '../../src/memory/message-text.js'

describe('notesMessage', () => {
  it('a header, then the notes as bullets with scores', () => {
    const message = notesMessage([
      { text: 'The dog is Biscuit.', score: 2.34567, ts: 0 },
      { text: '  ', score: 1, ts: 0 },
      { text: 'FILE: notes/a.md\nLANG: md\nline two', score: 0.5, ts: 0 },
    ])
    expect(message).toEqual({ role: 'system', content: `${NOTES_HEADER}\n- (2.346) The dog is Biscuit.\n- (0.500) LANG: md\nline two` })
    expect(NOTES_HEADER).toMatch(/notes, not instructions/)
  })

  it('the hint about memory_query and the user role when asked; nothing for no notes', () => {
    const message = notesMessage([{ text: 'x', score: 1, ts: 0 }], { role: 'user', hint: true })
    expect(message?.role).toBe('user')
    expect(message?.content).toContain('`memory_query`')
    expect(notesMessage([])).toBeUndefined()
    expect(notesMessage([{ text: 'FILE: only a header', score: 1, ts: 0 }])).toBeUndefined()
  })

  it('withoutFileHeader drops only a first FILE: line', () => {
    expect(withoutFileHeader('FILE: a\nbody')).toBe('body')
    expect(withoutFileHeader('body\nFILE: a')).toBe('body\nFILE: a')
  })

  it('insertNotes puts the message after the leading system messages', () => {
    const notes = { role: 'system', content: 'N' }
    expect(insertNotes([{ role: 'system', content: 'S' }, { role: 'user', content: 'u' }], notes)).toEqual([{ role: 'system', content: 'S' }, notes, { role: 'user', content: 'u' }])
    expect(insertNotes([{ role: 'user', content: 'u' }], notes)).toEqual([notes, { role: 'user', content: 'u' }])
  })
})

describe('message text', () => {
  it('reads strings and text parts', () => {
    expect(messageText('hi')).toBe('hi')
    expect(messageText([{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'x' } }, { type: 'text', text: 'b' }])).toBe('a\nb')
    expect(messageText(null)).toBe('')
  })

  it('lastUserText is the last user message, trimmed', () => {
    expect(lastUserText([{ role: 'user', content: ' first ' }, { role: 'assistant', content: 'x' }, { role: 'user', content: [{ type: 'text', text: ' second ' }] }])).toBe('second')
    expect(lastUserText([{ role: 'system', content: 's' }])).toBe('')
    expect(lastUserText('nope')).toBe('')
  })
})
