/**
 * Stage: chat memory (after resolve-model). For a chat it applies to, queries the
 * conversation's notes, injects them and trims the history (`body`), and adds the answer hook
 * that stores the turn; see `chat-memory.ts`. Never throws: memory cannot fail a chat.
 * @module
 */
import type { CallPlan, CallStage } from '../call-plan.js'
import type { ChatMemory } from '../chat-memory.js'

/** The memory stage over the gateway's chat memory. */
export function createMemoryStage(memory: ChatMemory): CallStage {
  return {
    name: 'memory',
    prepare(plan: CallPlan): void | Promise<void> {
      if (memory.appliesTo(plan)) return memory.prepare(plan)
    },
  }
}
