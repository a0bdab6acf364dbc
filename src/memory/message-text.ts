/**
 * The text of a chat message's `content`: a string, or the `text` parts of a list of content
 * parts (images and other parts left out), joined by newlines.
 * @module
 */

/** The message's text ('' when it has none). */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  let text = ''
  for (const part of content) {
    if (typeof part !== 'object' || part === null) continue
    const value = (part as { text?: unknown }).text
    if (typeof value !== 'string' || value === '') continue
    text = text === '' ? value : `${text}\n${value}`
  }
  return text
}

/** The text of the last `user` message of a chat body's `messages`, trimmed ('' when there is none). */
export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return ''
  for (let index = messages.length - 1; index >= 0; index--) {
    const message: unknown = messages[index]
    if (typeof message === 'object' && message !== null && (message as { role?: unknown }).role === 'user') return messageText((message as { content?: unknown }).content).trim()
  }
  return ''
}
