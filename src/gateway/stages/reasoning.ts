/**
 * Stage: the reasoning split as an answer transform, for chat endpoints. `<think>` blocks in
 * content go to `reasoning_content` (`split`) or away (`strip`), and the upstream's reasoning
 * fields are forwarded as `reasoning_content` (or dropped, `forwardReasoning: false`). With
 * `keep` and forwarding on it adds nothing and the answer keeps the fast path. It runs before the
 * tool-call stage, so the detector sees a call written after `</think>` as content and one
 * drafted inside the thinking as reasoning.
 * @module
 */
import { createReasoningChunkTransform, splitReasoningInCompletion } from '../../reasoning/reasoning-transform.js'
import { createReasoningTrigger, wholeAnswerCouldChange } from '../../reasoning/reasoning-trigger.js'
import { DEFAULT_START_WINDOW } from '../../reasoning/think-splitter.js'
import type { ReasoningMode, ReasoningOptions } from '../../reasoning/reasoning-transform.js'
import { addTransform } from '../call-plan.js'
import type { AnswerGate, AnswerTransform, CallPlan, CallStage } from '../call-plan.js'
import type { ResolvedGatewayOptions } from '../gateway-options.js'

/**
 * The reasoning stage. `startWindow` (not a gateway option yet): the start of a streamed reply
 * held while it could still turn out to be inside a block the prompt opened; default 0 (off).
 */
export function createReasoningStage(options: Pick<ResolvedGatewayOptions, 'reasoning' | 'forwardReasoning'> & { startWindow?: number | undefined }): CallStage {
  // One transform per mode, made once: a request names its mode (a variant's) or takes the gateway's.
  const byMode = new Map<ReasoningMode, AnswerTransform | undefined>()
  const transformFor = (mode: ReasoningMode): AnswerTransform | undefined => {
    if (!byMode.has(mode)) byMode.set(mode, reasoningTransform({ mode, forwardReasoning: options.forwardReasoning, startWindow: options.startWindow }))
    return byMode.get(mode)
  }
  const standard = transformFor(options.reasoning)
  return {
    name: 'reasoning',
    prepare(plan: CallPlan): void {
      if (!plan.endpoint.chat) return
      const transform = plan.reasoning === undefined ? standard : transformFor(plan.reasoning)
      if (transform !== undefined) addTransform(plan, transform)
    },
  }
}

/**
 * The answer transform for these options; undefined when there is nothing to do (`keep`,
 * forwarding on). With forwarding on and no start window it has a gate (`reasoning-trigger.ts`):
 * a streamed answer keeps the byte path until an event could hold a tag or a field to rename.
 */
export function reasoningTransform(options: ReasoningOptions): AnswerTransform | undefined {
  if (options.mode === 'keep' && options.forwardReasoning !== false) return undefined
  const gated = options.forwardReasoning !== false && (options.startWindow ?? DEFAULT_START_WINDOW) === 0
  return {
    stream: (onChunk) => createReasoningChunkTransform({ ...options, onChunk }),
    completion: (completion) => splitReasoningInCompletion(completion, options),
    gate: gated ? () => reasoningGate(options) : undefined,
    // A whole answer is read whole (no start window), so only forwarding matters here.
    changesWhole: options.forwardReasoning !== false ? wholeAnswerCouldChange : undefined,
  }
}

/** One streamed answer's gate: the trigger, and the transform started where it fired. */
function reasoningGate(options: ReasoningOptions): AnswerGate {
  const trigger = createReasoningTrigger()
  return {
    passesUntil: (bytes, start, end) => trigger.passesUntil(bytes, start, end),
    checksChunkShape: true,
    stream: (onChunk) => createReasoningChunkTransform({ ...options, onChunk, resume: trigger.resume }),
  }
}
