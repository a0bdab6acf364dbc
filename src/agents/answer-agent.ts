/**
 * The client's side of an agent: runs the agent of a plan (resolve-model set `plan.agent`) and
 * answers as a chat completion. Steps stream as `reasoning_content` lines, the returned answer
 * as content; non-stream, the steps are `message.reasoning_content`. The client's disconnect and
 * the gateway's shutdown abort the agent's signal, and with it every model call it started.
 * Failures before the first byte are OpenAI errors (500 `agent_error`, 503 when an upstream was
 * unavailable); after it, the SSE error event.
 * @module
 */
import { AbortError, QueuegateError, UnavailableError } from '../errors.js'
import { encodeSseData, encodeSseError } from '../openai/sse.js'
import type { CallPlan } from '../gateway/call-plan.js'
import type { GatewayServices } from '../gateway/gateway-services.js'
import { lightResponse } from '../gateway/light-response.js'
import { unwatchClient, watchClient } from '../gateway/request-access.js'
import { createAgentChat } from './agent-chat.js'
import type { AgentUsage } from './agent-chat.js'
import type { Agent, AgentAnswer, AgentContext } from './types.js'

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' } as const
const DONE = encodeSseData('[DONE]')
/** Most reasoning text kept for a non-stream answer (a chatty agent's steps are cut, with a note). */
const MAX_STEPS_CHARS = 1_048_576

/** Answers the client for a plan whose model is an agent. */
export async function answerAgent(services: GatewayServices, plan: CallPlan): Promise<Response> {
  const job = new AgentJob(services, plan)
  try {
    const first = await job.next()
    if (!plan.stream) {
      const steps: string[] = []
      let stepsChars = 0
      let item = first
      while (!item.done) {
        if (stepsChars < MAX_STEPS_CHARS) steps.push(item.value)
        stepsChars += item.value.length
        item = await job.next()
      }
      let reasoning = steps.join('')
      if (stepsChars > MAX_STEPS_CHARS) reasoning += `\n[${stepsChars - reasoning.length} characters of steps left out]\n`
      const body = JSON.stringify(job.completion(item.value, reasoning))
      job.finish(undefined)
      return lightResponse(body, 200, { 'content-type': 'application/json' })
    }
    return lightResponse(job.stream(first), 200, { ...SSE_HEADERS })
  } catch (error) {
    const failure = job.failure(error)
    job.finish(failure)
    throw failure
  }
}

type Item = IteratorResult<string, string>

/** One agent run for one client. */
class AgentJob implements EventListenerObject {
  readonly #services: GatewayServices
  readonly #plan: CallPlan
  readonly #agent: Agent
  readonly #controller = new AbortController()
  readonly #unregister: () => void
  readonly #usage: AgentUsage
  readonly #context: AgentContext
  readonly #createdAt: number
  #steps: AsyncGenerator<string, AgentAnswer, undefined> | undefined
  #result: Promise<AgentAnswer> | undefined
  #finished = false

  constructor(services: GatewayServices, plan: CallPlan) {
    this.#services = services
    this.#plan = plan
    this.#agent = plan.agent as Agent
    this.#createdAt = services.clock.now()
    services.jobs.add({ id: plan.jobId, status: 'running', kind: plan.jobClass, model: plan.model, stream: plan.stream, upstream: undefined, slot: undefined, createdAt: this.#createdAt, startedAt: this.#createdAt, endedAt: undefined, error: undefined })
    this.#unregister = services.running.add({ abort: (reason) => this.#controller.abort(reason) })
    watchClient(plan.request, this)
    const { chat, usage } = createAgentChat(services, plan, this.#controller.signal)
    this.#usage = usage
    this.#context = {
      id: plan.model as string,
      messages: Array.isArray(plan.body.messages) ? (plan.body.messages as AgentContext['messages']) : [],
      body: plan.body,
      signal: this.#controller.signal,
      chat,
      tools: services.tools,
    }
  }

  /** The client went away. */
  handleEvent(): void {
    this.#controller.abort(new AbortError('The client went away.'))
  }

  /** The agent's next step (`done`: its answer). Starts the agent on the first call. */
  async next(): Promise<Item> {
    if (this.#steps === undefined && this.#result === undefined) {
      const started = this.#agent(this.#context)
      if (isAsyncGenerator(started)) this.#steps = started
      else this.#result = Promise.resolve(started)
    }
    if (this.#result !== undefined) return { done: true, value: answerText(await this.#result) }
    const item = await (this.#steps as AsyncGenerator<string, AgentAnswer, undefined>).next()
    if (this.#controller.signal.aborted) throw this.#controller.signal.reason
    if (item.done === true) return { done: true, value: answerText(item.value) }
    return { done: false, value: stepLine(item.value) }
  }

  /** The rest of the answer as SSE, starting with an item already read. */
  stream(first: Item): ReadableStream<Uint8Array> {
    const id = `chatcmpl-${this.#plan.jobId}`
    const created = Math.floor(this.#createdAt / 1000)
    const model = this.#plan.model as string
    const chunk = (delta: Record<string, unknown>, finish: string | null = null): Uint8Array =>
      encodeSseData(JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] }))
    let pending: Item | undefined = first
    return new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(chunk({ role: 'assistant', content: '' })),
      pull: async (controller) => {
        try {
          const item = pending ?? (await this.next())
          pending = undefined
          if (!item.done) {
            controller.enqueue(chunk({ reasoning_content: item.value }))
            return
          }
          if (item.value !== '') controller.enqueue(chunk({ content: item.value }))
          controller.enqueue(chunk({}, 'stop'))
          controller.enqueue(DONE)
          controller.close()
          this.finish(undefined)
        } catch (error) {
          const failure = this.failure(error)
          controller.enqueue(encodeSseError(failure))
          controller.close()
          this.finish(failure)
        }
      },
      cancel: (reason) => {
        this.#controller.abort(new AbortError('The client went away.', reason))
        this.finish(new AbortError('The client went away.', reason))
      },
    })
  }

  /** The non-stream answer. */
  completion(answer: string, reasoning: string): Record<string, unknown> {
    const message: Record<string, unknown> = { role: 'assistant', content: answer }
    if (reasoning !== '') message.reasoning_content = reasoning
    const completion: Record<string, unknown> = {
      id: `chatcmpl-${this.#plan.jobId}`,
      object: 'chat.completion',
      created: Math.floor(this.#createdAt / 1000),
      model: this.#plan.model,
      choices: [{ index: 0, message, finish_reason: 'stop' }],
    }
    if (this.#usage.calls > 0) completion.usage = { prompt_tokens: this.#usage.prompt_tokens, completion_tokens: this.#usage.completion_tokens, total_tokens: this.#usage.total_tokens }
    return completion
  }

  /** What the client is told of a failure. */
  failure(error: unknown): QueuegateError {
    if (this.#controller.signal.aborted) {
      const reason: unknown = this.#controller.signal.reason
      if (QueuegateError.isInstance(reason)) return reason
      return new AbortError('The agent was aborted.', reason)
    }
    const id = JSON.stringify(this.#plan.model)
    if (QueuegateError.isInstance(error)) {
      // A model it called could not be reached, was overloaded or timed out: try again later.
      if (error.status === 502 || error.status === 503 || error.status === 504 || error.status === 429) {
        return new UnavailableError(`The agent ${id} failed: an upstream was unavailable (${error.message})`, 'agent_upstream_unavailable')
      }
    }
    const message = error instanceof Error ? error.message : String(error)
    return new QueuegateError(`The agent ${id} failed: ${message}`, { status: 500, type: 'server_error', code: 'agent_error', cause: error })
  }

  /** Ends the job once: records it, stops the agent, forgets the client. */
  finish(error: QueuegateError | undefined): void {
    if (this.#finished) return
    this.#finished = true
    unwatchClient(this.#plan.request, this)
    this.#unregister()
    if (error !== undefined && !this.#controller.signal.aborted) this.#controller.abort(error)
    // A generator left suspended (client gone mid-stream) is told to finish its `finally` blocks.
    if (this.#steps !== undefined) void this.#steps.return(undefined).catch(() => {})
    this.#services.jobs.finish(this.#plan.jobId, { at: this.#services.clock.now(), error: error?.message })
  }
}

function isAsyncGenerator(value: unknown): value is AsyncGenerator<string, AgentAnswer, undefined> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncGenerator).next === 'function' && typeof (value as AsyncGenerator)[Symbol.asyncIterator] === 'function'
}

/** A step as one line of reasoning text. */
function stepLine(step: unknown): string {
  const text = typeof step === 'string' ? step : JSON.stringify(step)
  return text.endsWith('\n') ? text : `${text}\n`
}

function answerText(answer: unknown): string {
  if (answer === undefined || answer === null) return ''
  return typeof answer === 'string' ? answer : JSON.stringify(answer)
}
