/**
 * Hands a finished assistant message to a plan's answer hooks (after the client has its answer). A
 * hook's failure, thrown or rejected, is reported as an `answer-hook-error` event and never becomes
 * the client's problem. Shared by the client's job (model-call.ts) and the tool loop.
 * @module
 */
import type { AssistantMessage } from '../openai/message-accumulator.js'
import type { CallPlan } from './call-plan.js'
import type { GatewayEvent } from './gateway-events.js'

/** Runs each of the plan's answer hooks on the message. */
export function runAnswerHooks(plan: CallPlan, message: AssistantMessage, onEvent: ((event: GatewayEvent) => void) | undefined): void {
  const report = (error: unknown): void => {
    onEvent?.({ type: 'answer-hook-error', jobId: plan.jobId, message: error instanceof Error ? error.message : String(error) })
  }
  for (const hook of plan.answerHooks) {
    try {
      const pending = hook(message, plan)
      if (pending !== undefined) pending.catch(report)
    } catch (error) {
      report(error)
    }
  }
}
