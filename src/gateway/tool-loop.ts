/**
 * The execute loop: answers a client whose plan the server-tools stage marked (`plan.toolLoop`).
 * Each round streams the model's answer through the detector (a consumer of `callModel`'s
 * `chunks()`), runs the calls to the registry's tools (concurrently, results in call order),
 * and calls the model again with the assistant's `tool_calls` message and the tool messages,
 * until it answers without calls. The slot is held for the whole loop (one lease: the
 * conversation's KV cache stays warm), or given back while tools run (`releaseSlotDuringTools`:
 * the next round queues again, sticky to the same upstream and slot by the plan's thread key).
 *
 * The client sees one continuous answer: the model's text as it comes, progress lines in
 * `reasoning_content` (tool, short arguments; then size and time, or the error), then the final
 * text; a non-streamed answer is the final message with the progress in
 * `message.reasoning_content`. Calls to tools the client declared (and, under
 * `unknownToolPolicy: 'passthrough'`, to tools nobody declared) end the answer with
 * `finish_reason: tool_calls`, as in passthrough mode. A client that leaves aborts the model call
 * and the tool calls at once and frees the slot.
 * @module
 */
import { runAnswerHooks } from './answer-hooks.js'
import { within } from './clock.js'
import type { KeyLimit } from './key-limit.js'
import { AbortError, QueuegateError, UpstreamError } from '../errors.js'
import { MessageAccumulator } from '../openai/message-accumulator.js'
import type { AssistantMessage } from '../openai/message-accumulator.js'
import { encodeSseData, encodeSseError } from '../openai/sse.js'
import type { ChatCompletion, ChatCompletionChunk, ChatMessage, ToolCall } from '../openai/types.js'
import type { JobRequest, Lease } from '../queue/queue-scheduler.js'
import { detectInCompletion } from '../toolcalls/parse-tool-calls.js'
import { parseFlexibleJson } from '../toolcalls/flexible-json.js'
import { createToolCallParser, generateCallId } from '../toolcalls/tool-call-parser.js'
import type { MalformedToolCall, ToolCallDetectionOptions } from '../toolcalls/tool-call-parser.js'
import type { ToolError, ToolOutcome, ToolRegistry } from '../tools/types.js'
import type { AnswerTransform, CallPlan, ToolLoopPlan } from './call-plan.js'
import { callModel } from './call-model.js'
import type { ModelAnswer } from './call-model.js'
import { createEventStream } from './event-stream.js'
import type { GatewayServices } from './gateway-services.js'
import { lightResponse } from './light-response.js'
import { createQueueNotifier } from './queue-notices.js'
import { unwatchClient, watchClient } from './request-access.js'
import { argsParseError, errorOutcome, unknownToolError } from './tool-call-errors.js'
import { callEndLine, callStartLine, noteLine } from './tool-progress.js'
import { upstreamFailure } from './upstream.js'
import { routeReason } from '../queue/upstream-router.js'

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
} as const

/** Malformed calls kept per round (more are counted in none: the model gets these back). */
const MAX_MALFORMED_PER_ROUND = 16

/** What the loop hands its client side, in order. */
type LoopOutput = { kind: 'content'; text: string } | { kind: 'reasoning'; text: string } | { kind: 'end'; finishReason: string; toolCalls: ToolCall[] | undefined }

/** A malformed call and the number of calls before it in its round. */
interface PlacedMalformed {
  report: MalformedToolCall
  at: number
}

/** One call of a round, as the loop decided to treat it. */
type RoundCall =
  | { kind: 'run'; call: ToolCall; args: Record<string, unknown> }
  | { kind: 'error'; call: ToolCall; outcome: ToolOutcome }
  | { kind: 'client'; call: ToolCall }
  | { kind: 'ignore'; call: ToolCall }

/** Answers the client of an execute plan (`plan.toolLoop` set); failures before the first byte are thrown. */
export function answerWithTools(services: GatewayServices, plan: CallPlan): Promise<Response> {
  return new ToolLoopJob(services, plan, services.tools as ToolRegistry, plan.toolLoop as ToolLoopPlan).run()
}

/** One client's execute job: its lease, its rounds, its end. */
class ToolLoopJob implements EventListenerObject {
  readonly #services: GatewayServices
  readonly #plan: CallPlan
  readonly #registry: ToolRegistry
  readonly #loop: ToolLoopPlan
  readonly #abort = new AbortController()
  readonly #request: JobRequest
  readonly #createdAt: number
  readonly #messages: ChatMessage[]
  #lease: Lease | undefined
  #startedAt: number | undefined
  #unregister: (() => void) | undefined
  #finished = false
  /** The key's `maxRunning` count this job holds, once admitted. */
  #keyLimit: KeyLimit | undefined
  /** The answer as the client received it, for answer hooks and the non-streamed body. */
  readonly #answer = { content: '', reasoning: '', chars: 0 }
  #usage: Record<string, number> | undefined
  #model: string | undefined
  #upstreamId: string | undefined

  constructor(services: GatewayServices, plan: CallPlan, registry: ToolRegistry, loop: ToolLoopPlan) {
    this.#services = services
    this.#plan = plan
    this.#registry = registry
    this.#loop = loop
    this.#createdAt = services.clock.now()
    this.#request = { id: plan.jobId, class: plan.jobClass, threadKey: plan.threadKey, model: services.catalog.routingModel(plan.upstreamModel), prefix: plan.prefix }
    this.#messages = Array.isArray(plan.body.messages) ? [...(plan.body.messages as ChatMessage[])] : []
    this.#model = plan.model
    services.jobs.add({ id: plan.jobId, status: 'queued', kind: plan.jobClass, model: plan.model, stream: plan.stream, upstream: undefined, slot: undefined, createdAt: this.#createdAt, startedAt: undefined, endedAt: undefined, error: undefined })
  }

  async run(): Promise<Response> {
    const { scheduler, options } = this.#services
    const plan = this.#plan
    watchClient(plan.request, this)
    const limit = plan.key?.limit
    const acquired = limit === undefined ? scheduler.acquire(this.#request, { signal: this.#abort.signal }) : this.#admit(limit)
    try {
      if (!plan.stream) {
        const first = await this.#callRound(await acquired, 1)
        const body = await this.#whole(first)
        return lightResponse(body, 200, { 'content-type': 'application/json', 'content-length': String(body.byteLength) })
      }
      // As the plain relay: wait up to notifyAfterMs for a slot before committing to a 200, so a
      // job that starts soon still gets a real HTTP status when the first model call fails.
      const early = scheduler.status(plan.jobId) === 'running' ? await acquired : await this.#raceTimeout(acquired, options.notifyAfterMs)
      if (early !== undefined) return lightResponse(this.#events(await this.#callRound(early, 1)), 200, { ...SSE_HEADERS })
      const notifier = createQueueNotifier({
        mode: options.queueNotify,
        message: options.queueMessage,
        keepAliveMs: options.keepAliveMs,
        clock: this.#services.clock,
        position: () => scheduler.position(plan.jobId),
        chunk: { id: this.#id(), model: plan.model ?? 'unknown', created: this.#created() },
      })
      const body = createEventStream({
        open: async () => this.#events(await this.#callRound(await acquired, 1)),
        waiting: notifier,
        onCancel: () => this.disconnect(),
        onError: (error) => this.finish(200, error),
      })
      return lightResponse(body, 200, { ...SSE_HEADERS })
    } catch (error) {
      // A lease granted after the failure (the acquire raced it) goes back at once.
      acquired.then(
        (lease) => lease.release(),
        () => {},
      )
      const failure = this.#failure(error)
      this.finish(failure.status, failure)
      throw failure
    }
  }

  /** The client went away (the request's abort event, or the node bridge's disconnect call). */
  handleEvent(): void {
    this.disconnect()
  }

  /** The client went away: the model call and the tool calls are aborted, the slot freed (499 in the log). */
  disconnect(): void {
    this.abort(new AbortError('The client disconnected.'))
    this.finish(499, 'client disconnected')
  }

  /** Aborts whatever runs now (client gone, shutdown). */
  abort(reason: Error): void {
    if (!this.#abort.signal.aborted) this.#abort.abort(reason)
  }

  /** Ends the job exactly once: releases the slot, records the outcome, reports it. */
  /** Under its key's `maxRunning`: waits for the key's turn (held for the whole loop), then queues. */
  async #admit(limit: KeyLimit): Promise<Lease> {
    const admitted = limit.enter(this.#abort.signal)
    if (admitted !== undefined) await admitted
    this.#keyLimit = limit
    if (this.#finished) {
      this.#keyLimit = undefined
      limit.exit()
      throw new AbortError('The client disconnected.')
    }
    return this.#services.scheduler.acquire(this.#request, { signal: this.#abort.signal })
  }

  finish(status: number, error?: unknown): void {
    if (this.#finished) return
    this.#finished = true
    this.#keyLimit?.exit()
    this.#keyLimit = undefined
    const { clock, options, jobs } = this.#services
    const plan = this.#plan
    unwatchClient(plan.request, this)
    this.#lease?.release()
    this.#unregister?.()
    const endedAt = clock.now()
    const message = error === undefined ? undefined : error instanceof Error ? error.message : String(error)
    jobs.finish(plan.jobId, { at: endedAt, error: message })
    options.onEvent?.({
      type: 'request-end',
      jobId: plan.jobId,
      method: plan.request.method,
      path: plan.path,
      status,
      upstream: this.#upstreamId,
      model: plan.model,
      kind: plan.jobClass,
      stream: plan.stream,
      slot: this.#lease?.slot,
      waitMs: (this.#startedAt ?? endedAt) - this.#createdAt,
      // Several model calls and tool calls: no single first token or token count to report.
      ttftMs: undefined,
      totalMs: endedAt - this.#createdAt,
      tokens: undefined,
      tokensFrom: undefined,
      promptTokens: undefined,
      cachedTokens: undefined,
      error: message,
      key: plan.key?.name,
      body: options.logBodies ? plan.text.slice(0, 16_384) : undefined,
    })
  }

  /** The non-streamed answer: every round run, the final message as one `chat.completion`. */
  async #whole(first: ModelAnswer): Promise<Uint8Array> {
    let end: Extract<LoopOutput, { kind: 'end' }> | undefined
    for await (const output of this.#rounds(first)) if (output.kind === 'end') end = output
    const finishReason = end?.finishReason ?? 'stop'
    const message = this.#message(finishReason, end?.toolCalls)
    const { finish_reason: _, ...wire } = message
    if (wire.tool_calls !== undefined && wire.content === '') wire.content = null
    const completion: ChatCompletion = {
      id: this.#id(),
      object: 'chat.completion',
      created: this.#created(),
      model: this.#model ?? 'unknown',
      choices: [{ index: 0, message: wire, finish_reason: finishReason }],
    }
    if (this.#usage !== undefined) completion.usage = this.#usage
    const bytes = encoder.encode(JSON.stringify(completion))
    this.finish(200)
    this.#runHooks(message)
    return bytes
  }

  /** The streamed answer: one SSE body over every round, pulled as the client reads. */
  #events(first: ModelAnswer): ReadableStream<Uint8Array> {
    const rounds = this.#rounds(first)
    const includeUsage = isRecord(this.#plan.body.stream_options) && this.#plan.body.stream_options.include_usage === true
    let started = false
    let pulled = false
    let done = false
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          if (done) return
          try {
            if (!started) {
              started = true
              controller.enqueue(this.#chunk({ role: 'assistant', content: '' }, null))
            }
            // From here on the rounds own the first answer's body (and cancel it when they stop early).
            pulled = true
            const next = await rounds.next()
            if (done) return
            if (next.done) {
              done = true
              controller.enqueue(DONE)
              controller.close()
              return
            }
            const output = next.value
            if (output.kind === 'content') controller.enqueue(this.#chunk({ content: output.text }, null))
            else if (output.kind === 'reasoning') controller.enqueue(this.#chunk({ reasoning_content: output.text }, null))
            else {
              if (output.toolCalls !== undefined) {
                const deltas = output.toolCalls.map((call, index) => ({ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } }))
                controller.enqueue(this.#chunk({ tool_calls: deltas }, null))
              }
              controller.enqueue(this.#chunk({}, output.finishReason))
              if (includeUsage && this.#usage !== undefined) {
                controller.enqueue(encodeSseData(JSON.stringify({ id: this.#id(), object: 'chat.completion.chunk', created: this.#created(), model: this.#model ?? 'unknown', choices: [], usage: this.#usage })))
              }
              this.finish(200)
              this.#runHooks(this.#message(output.finishReason, output.toolCalls))
            }
          } catch (error) {
            if (done) return
            done = true
            const failure = this.#failure(error)
            this.finish(200, failure)
            controller.enqueue(encodeSseError(failure))
            controller.close()
          }
        },
        cancel: async () => {
          done = true
          this.disconnect()
          // Never read: the first answer's upstream body is let go here.
          if (!pulled) first.response.body.destroy()
          await rounds.return(undefined).catch(() => {})
        },
      },
      { highWaterMark: 0 },
    )
  }

  /**
   * The rounds, from the first model answer on: yields the model's text and the progress lines
   * as they come, and one `end` last. Throws on a failure (the caller answers with it).
   */
  async *#rounds(first: ModelAnswer): AsyncGenerator<LoopOutput, void, undefined> {
    const { options } = this.#services
    const signal = this.#abort.signal
    let answer: ModelAnswer | undefined = first
    for (let round = 1; ; round++) {
      const final = round > options.maxToolIters
      if (answer === undefined) answer = await this.#callRound(this.#lease, round)
      const malformed: PlacedMalformed[] = []
      this.#malformed = malformed
      const message: AssistantMessage = yield* this.#read(answer)
      answer = undefined
      const calls = this.#classify(message.tool_calls ?? [], malformed)
      const toClient = calls.filter((call) => call.kind === 'client').map((call) => call.call)
      const toModel = calls.filter((call): call is Extract<RoundCall, { kind: 'run' | 'error' }> => call.kind === 'run' || call.kind === 'error')
      if (final && (toClient.length > 0 || toModel.length > 0)) {
        // Asked without tools and it still called some: the answer says why it stops here.
        const note = `The tool-call limit was reached (${options.maxToolIters} rounds); no more tools were run.`
        yield this.#reasoning(noteLine(note))
        yield this.#content(`${this.#answer.content === '' ? '' : '\n\n'}[${note}]`)
        yield { kind: 'end', finishReason: 'stop', toolCalls: undefined }
        return
      }
      if (toClient.length > 0) {
        const skipped = toModel.length
        if (skipped > 0) yield this.#reasoning(noteLine(`${skipped} server tool call${skipped === 1 ? '' : 's'} not run: the answer goes to the client for its own tools first`))
        yield { kind: 'end', finishReason: 'tool_calls', toolCalls: toClient }
        return
      }
      if (toModel.length === 0) {
        yield { kind: 'end', finishReason: message.finish_reason === 'tool_calls' || message.finish_reason === null ? 'stop' : message.finish_reason, toolCalls: undefined }
        return
      }
      // Run the round's tools: every call starts now, results are handed on in call order.
      this.#messages.push({ role: 'assistant', content: message.content === '' ? null : message.content, tool_calls: toModel.map((call) => call.call) })
      for (const call of toModel) if (call.kind === 'run') yield this.#reasoning(callStartLine(call.call.function.name, call.args))
      const running = toModel.filter((call) => call.kind === 'run').map((call) => call.call.function.name)
      this.#services.jobs.toolProgress(this.#plan.jobId, { round, running: running.join(', ') })
      if (options.releaseSlotDuringTools && this.#lease !== undefined) {
        this.#lease.release()
        this.#lease = undefined
      }
      const pending = toModel.map((call) => (call.kind === 'run' ? this.#registry.call(call.call.function.name, call.args, { signal }) : Promise.resolve(call.outcome)))
      // A rejection is an abort: the others are aborted by the same signal; none is left unhandled.
      for (const promise of pending) promise.catch(() => {})
      for (const [index, promise] of pending.entries()) {
        const outcome = await promise
        if (signal.aborted) throw signal.reason
        const call = toModel[index] as RoundCall
        yield this.#reasoning(callEndLine(outcome))
        this.#messages.push({ role: 'tool', tool_call_id: call.call.id, content: outcome.content })
      }
      this.#services.jobs.toolProgress(this.#plan.jobId, { round: round + 1, running: undefined })
    }
  }

  /** The malformed calls the detector reports for the round being read. */
  #malformed: PlacedMalformed[] = []

  /** Reads one model answer: its text is yielded as it comes; returns the round's assembled message. */
  async *#read(answer: ModelAnswer): AsyncGenerator<LoopOutput, AssistantMessage, undefined> {
    const signal = this.#abort.signal
    const reader = answer.chunks().getReader()
    const cancel = (): void => {
      reader.cancel().catch(() => {})
    }
    signal.addEventListener('abort', cancel, { once: true })
    const round = new MessageAccumulator()
    let complete = false
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (signal.aborted) throw signal.reason
        if (done) {
          complete = true
          break
        }
        round.add(value)
        this.#model ??= value.model
        if (isRecord(value.usage)) this.#addUsage(value.usage)
        const choice = value.choices.find((item) => (item.index ?? 0) === 0)
        const delta = choice?.delta
        if (delta === undefined || delta === null) continue
        const reasoning = delta.reasoning_content ?? delta.reasoning ?? delta.thinking
        if (typeof reasoning === 'string' && reasoning !== '') yield this.#reasoning(reasoning)
        if (typeof delta.content === 'string' && delta.content !== '') yield this.#content(delta.content)
      }
    } finally {
      signal.removeEventListener('abort', cancel)
      // Left early (a failure, the cap, the generator closed): the upstream body is let go.
      if (!complete) cancel()
      reader.releaseLock()
    }
    return round.message()
  }

  /** Sorts a round's calls: to run, to answer with an error, for the client, dropped. */
  #classify(calls: readonly ToolCall[], malformed: readonly PlacedMalformed[]): RoundCall[] {
    const { unknownToolPolicy } = this.#services.options
    const tools = this.#loop.detectTools
    const sorted: RoundCall[] = []
    for (const raw of calls) {
      const call: ToolCall = { id: raw.id === '' ? generateCallId() : raw.id, type: 'function', function: { name: raw.function.name, arguments: raw.function.arguments } }
      const name = call.function.name
      if (this.#loop.clientTools.has(name)) {
        sorted.push({ kind: 'client', call })
        continue
      }
      if (!this.#registry.has(name)) {
        if (unknownToolPolicy === 'passthrough') sorted.push({ kind: 'client', call })
        else if (unknownToolPolicy === 'ignore') sorted.push({ kind: 'ignore', call })
        else sorted.push({ kind: 'error', call: { ...call, function: { name, arguments: safeArguments(call.function.arguments) } }, outcome: errorOutcome(name, unknownToolError(name, this.#available())) })
        continue
      }
      const args = readArguments(call.function.arguments)
      if (args === undefined) {
        const error: ToolError = argsParseError(name, { reason: 'the arguments are not a JSON object', text: call.function.arguments }, tools)
        sorted.push({ kind: 'error', call: { ...call, function: { name, arguments: '{}' } }, outcome: errorOutcome(name, error) })
      } else {
        sorted.push({ kind: 'run', call, args })
      }
    }
    // Each broken call takes its place among the good ones, as the model wrote them.
    for (const [offset, { report, at }] of malformed.entries()) {
      const name = report.name ?? 'unknown'
      const call: ToolCall = { id: generateCallId(), type: 'function', function: { name, arguments: '{}' } }
      sorted.splice(at + offset, 0, { kind: 'error', call, outcome: errorOutcome(name, argsParseError(report.name, { reason: report.reason, text: report.text, format: report.format }, tools)) })
    }
    return sorted
  }

  /** Names of the tools that exist for the model: the client's and the registry's. */
  #available(): string[] {
    return this.#loop.detectTools.map((tool) => tool.function.name)
  }

  /** Calls the model for one round (on `lease`, else through the queue again). */
  async #callRound(lease: Lease | undefined, round: number): Promise<ModelAnswer> {
    const plan = this.#roundPlan(round > this.#services.options.maxToolIters)
    if (lease !== undefined) this.#lease = lease
    if (this.#finished) {
      lease?.release()
      throw new AbortError('The client disconnected.')
    }
    const answer = await callModel(this.#services, plan, { lease, signal: this.#abort.signal })
    if (this.#finished) {
      // The client left while the call started: nothing more runs on this lease.
      answer.lease.release()
      throw new AbortError('The client disconnected.')
    }
    this.#onLease(answer.lease, answer.upstream.id)
    return answer
  }

  #onLease(lease: Lease, upstream: string): void {
    const { clock, running, jobs } = this.#services
    if (this.#lease !== lease) this.#lease?.release()
    this.#lease = lease
    this.#upstreamId = upstream
    this.#startedAt ??= clock.now()
    this.#unregister ??= running.add(this)
    jobs.start(this.#plan.jobId, { upstream, slot: lease.slot, at: this.#startedAt, route: lease.cache === undefined ? undefined : routeReason(lease.cache) })
  }

  /**
   * The plan of one round: the conversation so far, streamed, through the client plan's
   * transforms and a detector of its own (with the tools to recover, reporting malformed calls);
   * the last round (`final`) has no tools.
   */
  #roundPlan(final: boolean): CallPlan {
    const plan = this.#plan
    const body: Record<string, unknown> = { ...plan.body, messages: this.#messages, stream: true }
    if (final) {
      delete body.tools
      delete body.tool_choice
      delete body.parallel_tool_calls
    }
    const detection: ToolCallDetectionOptions = { tools: this.#services.options.textToolCalls ? this.#loop.detectTools : [], mode: 'passthrough' }
    const detector: AnswerTransform = {
      stream: (onChunk) => {
        // Calls seen so far: a malformed call's place among them (the detector reports it in stream order).
        let seen = 0
        return createToolCallParser({
          ...detection,
          onMalformedCall: (report) => {
            if (this.#malformed.length < MAX_MALFORMED_PER_ROUND) this.#malformed.push({ report, at: seen })
          },
          onChunk: (chunk) => {
            const deltas = chunk.choices[0]?.delta?.tool_calls
            if (deltas !== undefined) for (const delta of deltas) seen = Math.max(seen, delta.index + 1)
            onChunk(chunk)
          },
        })
      },
      completion: (completion) => detectInCompletion(completion, detection),
    }
    return { ...plan, body, bodyChanged: true, stream: true, transforms: [...plan.transforms, detector], answerHooks: [], toolLoop: undefined }
  }

  #content(text: string): LoopOutput {
    this.#count(text)
    this.#answer.content += text
    return { kind: 'content', text }
  }

  #reasoning(text: string): LoopOutput {
    this.#count(text)
    this.#answer.reasoning += text
    return { kind: 'reasoning', text }
  }

  /** The answer's text is capped like a whole upstream answer. */
  #count(text: string): void {
    this.#answer.chars += text.length
    if (this.#answer.chars > this.#services.options.maxResponseBytes) throw new UpstreamError(`The answer grew past ${this.#services.options.maxResponseBytes} characters over its tool rounds.`, { code: 'upstream_response_too_large' })
  }

  #addUsage(usage: Record<string, unknown>): void {
    const sum = (this.#usage ??= {})
    for (const key of ['prompt_tokens', 'completion_tokens', 'total_tokens']) {
      const value = usage[key]
      if (typeof value === 'number') sum[key] = (sum[key] ?? 0) + value
    }
  }

  /** The final assistant message as the client got it (for hooks and the non-streamed body). */
  #message(finishReason: string, toolCalls: ToolCall[] | undefined): AssistantMessage {
    const message: AssistantMessage = { role: 'assistant', content: this.#answer.content, finish_reason: finishReason }
    if (this.#answer.reasoning !== '') message.reasoning_content = this.#answer.reasoning
    if (toolCalls !== undefined) message.tool_calls = toolCalls
    return message
  }

  #chunk(delta: Record<string, unknown>, finishReason: string | null): Uint8Array {
    const chunk: ChatCompletionChunk = { id: this.#id(), object: 'chat.completion.chunk', created: this.#created(), model: this.#model ?? 'unknown', choices: [{ index: 0, delta, finish_reason: finishReason }] }
    return encodeSseData(JSON.stringify(chunk))
  }

  #id(): string {
    return `chatcmpl-${this.#plan.jobId}`
  }

  #created(): number {
    return Math.floor(this.#createdAt / 1000)
  }

  #failure(error: unknown): QueuegateError {
    if (this.#abort.signal.aborted && !QueuegateError.isInstance(error)) return new AbortError('The client disconnected.')
    return QueuegateError.isInstance(error) ? error : upstreamFailure({ id: this.#upstreamId ?? 'unknown' }, error)
  }

  /** Hands the finished message to each answer hook (answer-hooks.ts). */
  #runHooks(message: AssistantMessage): void {
    runAnswerHooks(this.#plan, message, this.#services.options.onEvent)
  }

  /** Resolves with the promise's value if it settles within `ms`, else undefined (clock.ts's `within`). */
  #raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
    return within(this.#services.clock, promise, ms)
  }
}

const encoder = new TextEncoder()
const DONE = encoder.encode('data: [DONE]\n\n')

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A call's arguments as an object: JSON, else repaired (single quotes, trailing commas, fences); empty means none. */
function readArguments(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return {}
  try {
    const value: unknown = JSON.parse(text)
    return isRecord(value) ? value : undefined
  } catch {
    const repaired = parseFlexibleJson(text)
    return repaired.ok && isRecord(repaired.value) ? repaired.value : undefined
  }
}

/** Arguments fit to send back upstream in the assistant message (templates parse them as JSON). */
function safeArguments(text: string): string {
  return readArguments(text) === undefined ? '{}' : text
}
