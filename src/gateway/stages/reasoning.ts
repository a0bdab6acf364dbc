/**
 * Stage: the reasoning split as an answer transform, for chat endpoints. `<think>` blocks in
 * content go to `reasoning_content` (`split`, the default) or away (`strip`), and the upstream's
 * reasoning fields are forwarded as `reasoning_content` (or dropped, `forwardReasoning: false`).
 * With `keep` and forwarding on it adds nothing and the answer keeps the fast path. It runs before the
 * tool-call stage, so the detector sees a call written after `</think>` as content and one
 * drafted inside the thinking as reasoning.
 *
 * Replies that start inside a block the prompt opened (`reasoningStartsInThink`): `true` or a
 * variant's setting makes every reply start inside; `'auto'` learns it per model and thinking
 * switches from a reply that held an orphan `</think>` (see {@link createStartMemory}).
 * @module
 */
import { createReasoningChunkTransform, splitReasoningInCompletion } from '../../reasoning/reasoning-transform.js'
import { createReasoningTrigger, wholeAnswerCouldChange } from '../../reasoning/reasoning-trigger.js'
import type { ReasoningMode, ReasoningOptions } from '../../reasoning/reasoning-transform.js'
import { addTransform } from '../call-plan.js'
import type { AnswerGate, AnswerTransform, CallPlan, CallStage } from '../call-plan.js'
import type { ResolvedGatewayOptions } from '../gateway-options.js'

/** What the stage reads of the gateway's options. */
export type ReasoningStageOptions = Pick<ResolvedGatewayOptions, 'reasoning' | 'forwardReasoning'> &
  Partial<Pick<ResolvedGatewayOptions, 'reasoningStartsInThink' | 'reasoningStartWindow'>> & {
    /** The memory of keys whose replies start inside (shared with llama.cpp's /props reader). @default a new one */
    starts?: StartMemory | undefined
  }

/** The reasoning stage. */
export function createReasoningStage(options: ReasoningStageOptions): CallStage {
  const { forwardReasoning, reasoningStartsInThink = 'auto', reasoningStartWindow: startWindow = 0 } = options
  // One transform per mode and start, made once: a request names its mode (a variant's) or takes the gateway's.
  const made = new Map<string, AnswerTransform | undefined>()
  const transformFor = (mode: ReasoningMode, startInside: boolean): AnswerTransform | undefined => {
    const key = `${mode}|${startInside}`
    if (!made.has(key)) made.set(key, reasoningTransform({ mode, forwardReasoning, startWindow, startInside }))
    return made.get(key)
  }
  const memory = options.starts ?? createStartMemory()
  return {
    name: 'reasoning',
    prepare(plan: CallPlan): void {
      if (!plan.endpoint.chat) return
      const mode = plan.reasoning ?? options.reasoning
      const starts = plan.reasoningStartsInThink ?? reasoningStartsInThink
      let transform: AnswerTransform | undefined
      if (mode === 'keep' || starts !== 'auto') transform = transformFor(mode, starts === true)
      else {
        // Learnt per model and thinking switches: the transform learns or forgets the plan's key
        // (made only when needed: while nothing is learnt, only when an orphan close tag shows up).
        const inside = memory.size > 0 && memory.has(startKey(plan))
        transform = reasoningTransform({
          mode,
          forwardReasoning,
          startWindow,
          startInside: inside,
          onOrphanClose: inside ? undefined : () => memory.learn(startKey(plan)),
          onUnclosed: inside ? () => memory.forget(startKey(plan)) : undefined,
        })
      }
      if (transform !== undefined) addTransform(plan, transform)
    },
  }
}

/**
 * The answer transform for these options; undefined when there is nothing to do (`keep`,
 * forwarding on). With forwarding on, no start window and replies that do not start inside, it
 * has a gate (`reasoning-trigger.ts`): a streamed answer keeps the byte path until an event could
 * hold a tag or a field to rename, and a whole answer with neither passes unparsed (`changesWhole`).
 */
export function reasoningTransform(options: ReasoningOptions): AnswerTransform | undefined {
  if (options.mode === 'keep' && options.forwardReasoning !== false) return undefined
  const inside = options.startInside === true && options.mode !== 'keep'
  const settled = { ...options, startInside: inside }
  const gated = options.forwardReasoning !== false && (options.startWindow ?? 0) === 0 && !inside
  return {
    stream: (onChunk) => createReasoningChunkTransform({ ...settled, onChunk }),
    completion: (completion) => splitReasoningInCompletion(completion, settled),
    gate: gated ? () => reasoningGate(settled) : undefined,
    // A whole answer is read whole (no start window), so only forwarding and a start inside matter here.
    changesWhole: options.forwardReasoning !== false && !inside ? wholeAnswerCouldChange : undefined,
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

/** Keys remembered at most (the oldest learnt goes first). */
const MAX_START_KEYS = 256

/** Which (model, thinking switches) have replies that start inside a block the prompt opened. */
export interface StartMemory {
  has(key: string): boolean
  learn(key: string): void
  forget(key: string): void
  readonly size: number
}

/** A bounded memory of {@link startKey}s learnt from orphan close tags. */
export function createStartMemory(max = MAX_START_KEYS): StartMemory {
  const keys = new Set<string>()
  return {
    has: (key) => keys.has(key),
    learn(key) {
      keys.delete(key)
      keys.add(key)
      if (keys.size > max) keys.delete(keys.values().next().value as string)
    },
    forget: (key) => void keys.delete(key),
    get size() {
      return keys.size
    },
  }
}

/** Request fields that turn a model's thinking on or off (vLLM/SGLang/llama.cpp, OpenAI, Ollama, OpenRouter). */
const SWITCH_FIELDS = ['chat_template_kwargs', 'reasoning_effort', 'think', 'reasoning', 'thinking'] as const
/** Qwen3's soft switches in a user message. */
const SOFT_SWITCH = /\/(?:no_?think|think)\b/g
/** Longest text of one switch field in a key. */
const MAX_SWITCH_CHARS = 200

/**
 * The model a plan runs on and its thinking switches, as one key: a template that opens a block
 * in the prompt may do so only with some switches (DeepSeek V3.1's `thinking`, Qwen3's
 * `enable_thinking: false` closes it), so what was learnt with one set says nothing of another.
 */
export function startKey(plan: Pick<CallPlan, 'upstreamModel' | 'model' | 'body'>): string {
  let key = plan.upstreamModel ?? plan.model ?? ''
  const body = plan.body
  for (const field of SWITCH_FIELDS) {
    const value = body[field]
    if (value !== undefined) key += `\u0000${field}=${(JSON.stringify(value) ?? '').slice(0, MAX_SWITCH_CHARS)}`
  }
  const marker = softSwitch(body.messages)
  if (marker !== undefined) key += `\u0000${marker}`
  return key
}

/** The last `/think` or `/no_think` marker of the last user message's text, if any. */
function softSwitch(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index] as { role?: unknown; content?: unknown } | null
    if (typeof message !== 'object' || message === null || message.role !== 'user') continue
    const content = message.content
    let text = ''
    if (typeof content === 'string') text = content
    else if (Array.isArray(content)) for (const part of content as Array<{ type?: unknown; text?: unknown }>) if (part !== null && typeof part === 'object' && typeof part.text === 'string') text += part.text
    const found = text.match(SOFT_SWITCH)
    return found === null ? undefined : (found.at(-1) as string).replace('nothink', 'no_think')
  }
  return undefined
}
