/**
 * The call plan: everything the gateway decided about one model call before it is queued, built
 * by ordered stages (see `stages/`). A stage is to the request what vercel/ai's
 * `transformParams` is to a model call: it reads the plan and changes what its contract allows;
 * the answer side is the plan's transforms (vercel/ai's `wrapStream`) and answer hooks. The
 * order of stages is written once, in `stages/index.ts`; ARCHITECTURE.md says which stage may
 * change what.
 * @module
 */
import type { ChatCompletion } from '../openai/types.js'
import type { AssistantMessage } from '../openai/message-accumulator.js'
import type { JobClass } from '../queue/queue-scheduler.js'
import type { PrefixHint } from '../queue/prefix-hashes.js'
import type { ChunkTransformFactory } from './chunk-pipeline.js'
import type { Endpoint } from './endpoints.js'
import type { ToolMode } from './gateway-options.js'
import type { HeaderLookup } from './request-access.js'
import type { GatewayKey } from './gateway-keys.js'
import type { ReasoningMode } from '../reasoning/reasoning-transform.js'
import type { ToolDefinition } from '../openai/types.js'

/** What the server-tools stage decided for the tool loop (execute mode). */
export interface ToolLoopPlan {
  /** Names of the tools the client declared itself: calls to these go to the client. */
  readonly clientTools: ReadonlySet<string>
  /** Every tool the detector recovers calls of: the client's and the registry's. */
  readonly detectTools: readonly ToolDefinition[]
}
import type { Agent } from '../agents/types.js'

/** One change of the answer, for streams and for whole completions alike. */
export interface AnswerTransform {
  /** Makes the chunk transform for one streamed answer (see `ChunkTransform`'s contract). */
  readonly stream: ChunkTransformFactory
  /** The same change over a whole completion; returns a new object or the same one unchanged. */
  completion(completion: ChatCompletion): ChatCompletion
  /**
   * Optional: lets a streamed answer keep the byte path until this transform could change it.
   * Called once per streamed answer; see {@link AnswerGate}. A transform without one needs
   * every chunk (the answer takes the chunk path from its first byte).
   */
  readonly gate?: (() => AnswerGate) | undefined
  /**
   * Optional: a cheap look at a whole (non-streamed) answer's bytes. False promises `completion`
   * returns the parsed answer unchanged, so the bytes pass without a parse (see {@link passesWhole}).
   */
  readonly changesWhole?: ((bytes: Uint8Array) => boolean) | undefined
}

/**
 * A transform's cheap byte-level trigger for one streamed answer (the one interface behind the
 * gated relay, `relayGated` in upstream-relay.ts). The relay passes each upstream event's payload
 * (the bytes after `data: `, a JSON object text) to `passesUntil`, in order, while the answer is
 * on the byte path. False promises that the transform, fed every event so far as a chunk, would
 * have passed each on unchanged and hold nothing. From the first event it returns true for (or
 * another gate does), the relay runs the rest of the answer through the chunk path, with the
 * transform `stream` makes: it must start in the state the transform would be in after the
 * events before (which all passed unchanged), so the client gets what the chunk path from the
 * first byte gives. A gate may keep state across calls; a false answer is never taken back.
 */
export interface AnswerGate {
  /**
   * True when this event could be changed (or could change what the transform does later). The
   * payload is `bytes[start..end)` (the relay does not copy it out of the network read).
   */
  passesUntil(bytes: Uint8Array, start: number, end: number): boolean
  /**
   * The gate also returns true for any payload the chunk path would not send as its bytes
   * whatever the transform (not a JSON object with a top-level `choices` array), so the relay
   * skips its own check of that (one pass over each payload instead of two). @default false
   */
  readonly checksChunkShape?: boolean | undefined
  /** The transform from the event `passesUntil` first returned true for. */
  readonly stream: ChunkTransformFactory
}

/**
 * Receives the finished assistant message once the answer ended well (not after an error or a
 * client that left). Runs after the answer reached the client; a hook that throws or rejects is
 * reported as an `answer-hook-error` event and changes nothing for the client.
 */
export type AnswerHook = (message: AssistantMessage, plan: CallPlan) => void | Promise<void>

/** The plan of one model call. */
export interface CallPlan {
  /** The job's id (also `X-Queuegate-Job-Id`). */
  readonly jobId: string
  /** The client's request (for what no stage has made part of the plan). */
  readonly request: Request
  /** The client's request headers. */
  readonly headers: HeaderLookup
  /** The gateway path, e.g. `/v1/chat/completions`. */
  readonly path: string
  readonly endpoint: Endpoint
  /** The gateway key the request carried, when keys are configured. */
  readonly key: GatewayKey | undefined
  /** The body as the client sent it: what goes upstream, byte for byte, while `bodyChanged` is false. */
  readonly text: string
  /** The parsed body. A stage that changes it sets `bodyChanged`. */
  body: Record<string, unknown>
  bodyChanged: boolean
  /** `stream: true` was asked for. */
  readonly stream: boolean
  /** The model the client asked for, as answers name it (an alias stays the alias); undefined when none was named. */
  model: string | undefined
  /** The model id routed on and sent upstream; undefined: any upstream, and each sends its own default. */
  upstreamModel: string | undefined
  jobClass: JobClass
  /** Sticky key ('' when there is no routing choice to make). */
  threadKey: string
  /** Prefix hashes of the client's prompt (`routing: 'cache-aware'` only, else undefined). */
  prefix: PrefixHint | undefined
  toolMode: ToolMode
  /** `<think>` handling for this request (a variant's); undefined: the gateway's `reasoning`. */
  reasoning: ReasoningMode | undefined
  /** Replies start inside a think block the prompt opened (a variant's setting); undefined: the gateway's. */
  reasoningStartsInThink: boolean | undefined
  /** Set by the server-tools stage in execute mode: the client is answered by the tool loop (tool-loop.ts). */
  toolLoop: ToolLoopPlan | undefined
  /** The agent the model id names (resolve-model): the agent answers, no upstream is called for this plan. */
  agent: Agent | undefined
  /** Answer transforms in order (add with {@link addTransform}); none (and no hooks) means the fast byte path, gated ones a stream that starts on it. */
  readonly transforms: readonly AnswerTransform[]
  /** Added with {@link addAnswerHook}. */
  readonly answerHooks: readonly AnswerHook[]
}

/** Shared by every plan until a stage adds something: most plans never do, and allocate nothing for it. */
const NONE: readonly never[] = Object.freeze([])

/** Appends an answer transform to the plan (it runs after those added before it). */
export function addTransform(plan: CallPlan, transform: AnswerTransform): void {
  ;(plan as { transforms: readonly AnswerTransform[] }).transforms = [...plan.transforms, transform]
}

/** Appends an answer hook to the plan. */
export function addAnswerHook(plan: CallPlan, hook: AnswerHook): void {
  ;(plan as { answerHooks: readonly AnswerHook[] }).answerHooks = [...plan.answerHooks, hook]
}

/** A step of plan building: reads the plan and changes it, or throws a `QueuegateError` that answers the client. */
export interface CallStage {
  /** For errors and ARCHITECTURE.md. */
  readonly name: string
  /** Sync where it can be: the common path then takes no extra await. */
  prepare(plan: CallPlan): void | Promise<void>
}

/** What a plan starts from: the request as routed and read. */
export interface PlanInput {
  jobId: string
  request: Request
  headers: HeaderLookup
  path: string
  endpoint: Endpoint
  /** The gateway key the request carried. */
  key?: GatewayKey | undefined
  text: string
  body: Record<string, unknown>
  /** The tool mode before stages (the gateway's default). */
  toolMode: ToolMode
}

/** A plan with the request's own facts and nothing decided yet. */
export function createCallPlan(input: PlanInput): CallPlan {
  return {
    jobId: input.jobId,
    request: input.request,
    headers: input.headers,
    path: input.path,
    endpoint: input.endpoint,
    key: input.key,
    text: input.text,
    body: input.body,
    bodyChanged: false,
    stream: input.body.stream === true,
    model: undefined,
    upstreamModel: undefined,
    jobClass: input.endpoint.jobClass,
    threadKey: '',
    prefix: undefined,
    toolMode: input.endpoint.toolMode ?? input.toolMode,
    reasoning: undefined,
    reasoningStartsInThink: undefined,
    toolLoop: undefined,
    agent: undefined,
    transforms: NONE,
    answerHooks: NONE,
  }
}

/** Runs the stages in order; returns a promise only when a stage did (the common path stays synchronous). */
export function runStages(stages: readonly CallStage[], plan: CallPlan, from = 0): void | Promise<void> {
  for (let index = from; index < stages.length; index++) {
    const pending = (stages[index] as CallStage).prepare(plan)
    if (pending !== undefined) return pending.then(() => runStages(stages, plan, index + 1))
  }
}

/**
 * True when nothing transforms the answer and nobody waits for its message: the answer, streamed
 * or whole, is the upstream's bytes. (A stream can also start on the byte path when every
 * transform has a gate: see {@link answerGates}.)
 */
export function isPassThrough(plan: CallPlan): boolean {
  return plan.transforms.length === 0 && plan.answerHooks.length === 0
}

/**
 * True when a whole answer's bytes can go to the client as they are although the plan has
 * transforms: no answer hook needs the message, and each transform's `changesWhole` says it would
 * change nothing (the reasoning split on an answer with no `<`, `&` or reasoning field).
 */
export function passesWhole(plan: CallPlan, bytes: Uint8Array): boolean {
  if (plan.answerHooks.length > 0) return false
  for (const transform of plan.transforms) if (transform.changesWhole === undefined || transform.changesWhole(bytes)) return false
  return true
}

/**
 * The gates of one streamed answer when no transform needs the chunk path yet: the plan has
 * transforms, every one with a gate, and no answer hooks (they need every chunk). Undefined
 * otherwise: the answer takes the chunk path from its first byte.
 */
export function answerGates(plan: CallPlan): AnswerGate[] | undefined {
  if (plan.answerHooks.length > 0 || plan.transforms.length === 0) return undefined
  const gates: AnswerGate[] = []
  for (const transform of plan.transforms) {
    if (transform.gate === undefined) return undefined
    gates.push(transform.gate())
  }
  return gates
}
