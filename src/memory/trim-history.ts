/**
 * How chat memory shortens a conversation once notes stand in for its older turns: the system
 * messages, then the last `keepLast` user/assistant messages. An assistant message that called
 * tools keeps its tool messages (and a kept tool message its assistant message): the upstream
 * rejects one without the other.
 * @module
 */

type Message = Record<string, unknown>

/** Roles kept whatever their place: the instructions. */
const INSTRUCTION_ROLES = new Set(['system', 'developer'])

/**
 * The system (and `developer`) messages in their order, then the tail of the conversation that
 * holds its last `keepLast` user/assistant messages (at least 1), each assistant message with
 * the tool messages that answer it. Messages of other roles before the tail are dropped.
 */
export function trimHistory(messages: readonly unknown[], keepLast: number): unknown[] {
  const keep = Math.max(1, Math.floor(keepLast))
  // Where the tail starts: walk back counting user/assistant messages; tool messages belong to
  // the assistant message before them, so the tail never starts on one.
  let start = messages.length
  let counted = 0
  for (let index = messages.length - 1; index >= 0; index--) {
    const role = roleOf(messages[index])
    if (role === 'user' || role === 'assistant') {
      if (counted === keep) break
      counted++
      start = index
    } else if (!INSTRUCTION_ROLES.has(role)) {
      // A tool (or other) message sits with what comes before it: include it only if its
      // assistant message is taken too, which the next step decides.
      start = index
    }
  }
  // A tail that starts on tool messages lost their assistant message: drop them.
  while (start < messages.length && roleOf(messages[start]) === 'tool') start++
  const out: unknown[] = []
  for (let index = 0; index < start; index++) if (INSTRUCTION_ROLES.has(roleOf(messages[index]))) out.push(messages[index])
  for (let index = start; index < messages.length; index++) out.push(messages[index])
  return out
}

function roleOf(message: unknown): string {
  const role = typeof message === 'object' && message !== null ? (message as Message).role : undefined
  return typeof role === 'string' ? role : ''
}
