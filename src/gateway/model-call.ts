/**
 * The client's side of a model call: the job from the queue to the end of its answer. Queues
 * the plan's job, tells a waiting streaming client where it stands, runs a {@link ModelCall} on
 * the lease, relays the answer (bytes on the fast path, chunks through the plan's transforms
 * otherwise), hands the finished message to the plan's answer hooks, and releases the slot
 * exactly once: on completion, on error and on client disconnect.
 * @module
 */
import { runAnswerHooks } from './answer-hooks.js'
import { within } from './clock.js'
import { AbortError, QueuegateError } from '../errors.js'
import { completionMessage, MessageAccumulator } from '../openai/message-accumulator.js'
import type { AssistantMessage } from '../openai/message-accumulator.js'
import type { Lease } from '../queue/queue-scheduler.js'
import type { CallPlan } from './call-plan.js'
import { answerGates, isPassThrough, passesWhole } from './call-plan.js'
import { answerKind, badResponseError, completionAsEvents, ModelCall, transformCompletionBytes } from './call-model.js'
import type { LeaseHolder, ProgressMeter } from './call-model.js'
import type { KeyLimit } from './key-limit.js'
import type { ChunkTransformFactory } from './chunk-pipeline.js'
import { chainTransforms } from './chunk-pipeline.js'
import { createEventStream } from './event-stream.js'
import type { GatewayServices } from './gateway-services.js'
import { createQueueNotifier } from './queue-notices.js'
import { byteSourceStream } from './byte-source.js'
import type { ByteSink, ByteSource } from './byte-source.js'
import { relayBytes, relayChunks, relayEvents } from './upstream-relay.js'
import { relayGated } from './gated-relay.js'
import type { RelayedAnswer, RelayEnd, RelayOptions } from './upstream-relay.js'
import { answerUsage, wholeAnswerUsage } from './answer-usage.js'
import type { AnswerUsage } from './answer-usage.js'
import type { CacheAwareRouter } from '../queue/cache-aware-router.js'
import type { UpstreamBody } from './upstream-body.js'
import { lightResponse } from './light-response.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'
import { unwatchClient, watchClient } from './request-access.js'
import { answerWithTools } from './tool-loop.js'
import type { Upstream, UpstreamResponse } from './upstream.js'
import { routeReason } from '../queue/upstream-router.js'

/** Fewer prompt tokens prefilled than this say more about latency than about the prefill rate (routing: cache-aware). */
const MIN_PREFILL_SAMPLE_TOKENS = 256

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
} as const

/** Answers the client for a plan; failures before the first byte become error responses (thrown). An execute plan goes to the tool loop. */
export function answerClient(services: GatewayServices, plan: CallPlan): Promise<Response> {
  if (plan.toolLoop !== undefined) return answerWithTools(services, plan)
  return new ClientJob(services, plan).run()
}

/**
 * One client's job. One object per request whose methods are its callbacks: the client's abort
 * listener (`handleEvent`), the running job shutdown aborts (`abort`), the lease holder of its
 * model call (`onLease`), and the relay's end, cancel and error mapping. (Closures for each
 * would be a dozen allocations per request on the hot path.)
 */
class ClientJob implements RelayOptions, EventListenerObject, LeaseHolder, ByteSource, ByteSink, ProgressMeter {
  readonly #services: GatewayServices
  readonly #plan: CallPlan
  readonly #call: ModelCall
  readonly #createdAt: number
  #lease: Lease | undefined
  #unregister: (() => void) | undefined
  #startedAt: number | undefined
  #finished = false
  /** The key's `maxRunning` count this job holds, once admitted. */
  #keyLimit: KeyLimit | undefined
  /** The HTTP status the log records when the relayed answer ends. */
  #status = 200
  /** Assembles the streamed message for the plan's answer hooks (only when it has some). */
  #message: MessageAccumulator | undefined
  /** The relay the job passes the answer through (as a {@link ByteSource}), and where it writes. */
  #source: ByteSource | undefined
  #sink: ByteSink | undefined
  /** Writes to the client so far (complete events on SSE): the deadlines' progress ({@link ProgressMeter}). */
  events = 0
  /** The client's side asked to wait (a write returned false) and has not resumed yet. */
  blocked = false
  /** The streamed answer's relay (its events and last event, read at the end for the figures). */
  #relayed: RelayedAnswer | undefined
  /** A whole answer's bytes (its `usage`, read at the end). */
  #wholeBytes: Uint8Array | undefined
  /** When the first answer event went out. */
  #firstAt: number | undefined

  constructor(services: GatewayServices, plan: CallPlan) {
    this.#services = services
    this.#plan = plan
    this.#call = new ModelCall(services, plan, this)
    this.#createdAt = services.clock.now()
    services.jobs.add({ id: plan.jobId, status: 'queued', kind: plan.jobClass, model: plan.model, stream: plan.stream, upstream: undefined, slot: undefined, createdAt: this.#createdAt, startedAt: undefined, endedAt: undefined, error: undefined })
  }

  /** Queues the job and answers: the whole body, or a stream once a slot is near (with notices while it waits). */
  async run(): Promise<Response> {
    const { scheduler, options } = this.#services
    const plan = this.#plan
    const clientSignal = plan.request.signal
    // The job is aborted by the client's disconnect or by the gateway's shutdown. A waiting job
    // leaves the queue through the client's signal (or the scheduler's close); a running one
    // aborts its upstream call through the call's handle (no AbortSignal per call: see upstream.ts).
    if (clientSignal.aborted) this.disconnect()
    else watchClient(plan.request, this)
    const limit = plan.key?.limit
    const acquired = limit === undefined ? scheduler.acquire(this.#call, { signal: clientSignal }) : this.#admit(limit, clientSignal)
    try {
      if (!plan.endpoint.chat) {
        const response = await this.#call.start(await acquired, clientSignal)
        const contentType = headerValue(response.headers['content-type']) ?? 'application/json'
        this.#status = response.status
        return lightResponse(this.#metered(relayBytes(response.body, this)), response.status, contentType.startsWith('text/event-stream') ? { ...SSE_HEADERS } : { 'content-type': contentType })
      }
      if (!plan.stream) {
        const response = await this.#call.start(await acquired, clientSignal)
        // Whole already (the common case): no further await.
        const whole = response.body.takeComplete(options.maxResponseBytes)
        const bytes = whole ?? (await this.#readWhole(response))
        // Labelled JSON: passed on as it is (no parse on the fast path). Anything else must parse.
        if (answerKind(response) !== 'json' && !isJsonBody(bytes)) throw badResponseError(this.#call.upstream ?? { id: 'unknown' }, response, false)
        return this.#whole(response, bytes)
      }
      // Streaming: wait up to notifyAfterMs for a slot before committing to a 200, so that a job
      // that starts soon still gets a real HTTP status when the upstream fails.
      // (No timer at all when the slot was free: the common case on an idle gateway.)
      const early = scheduler.status(plan.jobId) === 'running' ? await acquired : await this.#raceTimeout(acquired, options.notifyAfterMs)
      if (early !== undefined) {
        // One await fewer than through #open on the common path: the answer is ready with the headers.
        const answer = this.#answer(await this.#call.start(early, clientSignal))
        return lightResponse(answer instanceof Promise ? await answer : answer, 200, { ...SSE_HEADERS })
      }
      const notifier = createQueueNotifier({
        mode: options.queueNotify,
        message: options.queueMessage,
        keepAliveMs: options.keepAliveMs,
        clock: this.#services.clock,
        position: () => scheduler.position(plan.jobId),
        // A request that named no model runs on the upstream's own: the notice names that one.
        chunk: { id: `chatcmpl-${plan.jobId}`, model: plan.model ?? this.#defaultModel() ?? 'unknown', created: Math.floor(this.#createdAt / 1000) },
      })
      const body = createEventStream({
        open: async () => byteSourceStream(await this.#open(await acquired)),
        waiting: notifier,
        onCancel: () => this.disconnect(),
        onError: (error) => this.finish(200, error),
      })
      return lightResponse(body, 200, { ...SSE_HEADERS })
    } catch (error) {
      // Failures of the call are QueuegateErrors (upstream.ts maps the network's); anything else is
      // a bug, which the gateway answers 500 and reports with its stack (never blamed on the upstream).
      if (!QueuegateError.isInstance(error)) {
        this.finish(500, error)
        throw error
      }
      this.finish(error.status, error)
      throw error
    }
  }

  /** Under its key's `maxRunning`: waits for the key's turn, then queues. */
  async #admit(limit: KeyLimit, signal: AbortSignal): Promise<Lease> {
    const admitted = limit.enter(signal)
    if (admitted !== undefined) await admitted
    this.#keyLimit = limit
    if (this.#finished) {
      this.#keyLimit = undefined
      limit.exit()
      throw new AbortError('The client disconnected.')
    }
    return this.#services.scheduler.acquire(this.#call, { signal })
  }

  /** The model a job that named none will run: the default of the upstream it waits for, when known. */
  #defaultModel(): string | undefined {
    const upstream = this.#services.scheduler.position(this.#plan.jobId)?.upstream
    return upstream === undefined ? undefined : this.#services.catalog.defaultFor(upstream)
  }

  /** The scheduler's job id (a shared state aborts a job by it when its lease is lost). */
  get jobId(): string {
    return this.#plan.jobId
  }

  /** The client went away (the request's abort event, or the node bridge's disconnect call). */
  handleEvent(): void {
    this.disconnect()
  }

  /**
   * The client went away: abort the upstream request, then free the slot (499 in the log). In that
   * order, the aborted socket is closed (its FIN sent) before the slot's next job sends a byte; the
   * server may still see both for a moment (it learns of the abort when it reads the FIN, llama.cpp
   * at its next token), which no gateway can prevent over HTTP/1.1 short of holding the slot until
   * the server says so, which it never does.
   */
  disconnect(): void {
    this.finish(499, 'client disconnected', true)
    this.abort(new AbortError('The client disconnected.'))
  }

  /** Aborts the job's upstream call, now or as soon as it starts (client disconnect, shutdown). */
  abort(reason: Error): void {
    this.#call.abort(reason)
  }

  /** The model call runs on `lease` (the first, or another after a failover). */
  onLease(lease: Lease, upstream: Upstream): void {
    if (this.#finished) {
      // The client left between the grant and now: the slot goes back at once.
      lease.release()
      throw new AbortError('The client disconnected.')
    }
    const { clock, running, jobs } = this.#services
    this.#lease = lease
    this.#startedAt ??= clock.now()
    this.#unregister ??= running.add(this)
    jobs.start(this.#plan.jobId, { upstream: upstream.id, slot: lease.slot, at: this.#startedAt, route: lease.cache === undefined ? undefined : routeReason(lease.cache) })
  }

  /** Ends the job exactly once: releases the slot (`abortFirst`: after aborting the upstream call), records the outcome, reports it. */
  finish(status: number, error?: unknown, abortFirst = false): void {
    if (this.#finished) return
    this.#finished = true
    const { clock, options, jobs } = this.#services
    const plan = this.#plan
    unwatchClient(plan.request, this)
    this.#call.unwatch()
    if (abortFirst) this.abort(new AbortError('The client disconnected.'))
    this.#lease?.release()
    this.#keyLimit?.exit()
    this.#keyLimit = undefined
    this.#unregister?.()
    const endedAt = clock.now()
    const message = error === undefined ? undefined : error instanceof Error ? error.message : String(error)
    jobs.finish(plan.jobId, { at: endedAt, error: message })
    const onEvent = options.onEvent
    const router = this.#services.router
    if (onEvent === undefined && router === undefined) return
    // The figures are read only for a listener or the cache-aware router, once per request.
    const relayed = this.#relayed
    const usage = relayed !== undefined ? answerUsage(relayed.lastEvent(), relayed.events) : this.#wholeBytes !== undefined ? wholeAnswerUsage(this.#wholeBytes) : undefined
    // Every event arrived in the read that ended the answer: the first went out with the end.
    if (this.#firstAt === undefined && relayed !== undefined && relayed.events > 0) this.#firstAt = endedAt
    if (router !== undefined && this.#lease !== undefined && usage !== undefined) this.#observePrefill(router, this.#lease.upstream, usage)
    if (onEvent === undefined) return
    onEvent({
      type: 'request-end',
      jobId: plan.jobId,
      method: plan.request.method,
      path: plan.path,
      status,
      upstream: this.#lease?.upstream,
      model: plan.model,
      kind: plan.jobClass,
      stream: plan.stream,
      slot: this.#lease?.slot,
      waitMs: (this.#startedAt ?? endedAt) - this.#createdAt,
      ttftMs: this.#firstAt === undefined || this.#startedAt === undefined ? undefined : this.#firstAt - this.#startedAt,
      totalMs: endedAt - this.#createdAt,
      tokens: usage?.tokens,
      tokensFrom: usage?.tokensFrom,
      promptTokens: usage?.promptTokens,
      cachedTokens: usage?.cachedTokens,
      error: message,
      key: plan.key?.name,
      body: options.logBodies ? plan.text.slice(0, 16_384) : undefined,
    })
  }

  /**
   * Feeds the cost model the upstream's prefill rate on this answer (routing: cache-aware): llama.cpp's own
   * `timings.prompt_per_second` (streamed or not), else, for a streamed answer, the uncached prompt tokens over the
   * time to first token (which is mostly their prefill). Answers that prefilled little say more about latency than
   * about the rate, and are left out.
   */
  #observePrefill(router: CacheAwareRouter, upstream: string, usage: AnswerUsage): void {
    const prefilled = usage.prefilledTokens ?? (usage.promptTokens === undefined ? undefined : usage.promptTokens - (usage.cachedTokens ?? 0))
    if (usage.promptPerSecond !== undefined) {
      if (prefilled === undefined || prefilled >= MIN_PREFILL_SAMPLE_TOKENS) router.observePrefillRate(upstream, usage.promptPerSecond)
      return
    }
    if (this.#relayed === undefined || this.#firstAt === undefined || this.#startedAt === undefined || prefilled === undefined) return
    const seconds = (this.#firstAt - this.#startedAt) / 1000
    if (prefilled >= MIN_PREFILL_SAMPLE_TOKENS && seconds > 0) router.observePrefillRate(upstream, prefilled / seconds)
  }

  /** The first answer event is on its way (time to first token). */
  onFirstEvent(): void {
    if (this.#firstAt === undefined) this.#firstAt = this.#services.clock.now()
  }

  /** The relayed answer ended. The upstream is done: free its slot now, even while the last bytes are on their way. */
  onEnd(reason: RelayEnd, error?: Error): void {
    if (reason === 'cancel') return
    // A failure of the upstream's making after the answer started (a cut, a stall, a bad event)
    // counts against it; the client's doing (it left, it stopped reading) and the total deadline do not.
    if (reason === 'error' && QueuegateError.isInstance(error) && error.type === 'upstream_error' && error.code !== 'deadline_exceeded' && this.#lease !== undefined) {
      this.#services.health.report(this.#lease.upstream, { error, model: this.#plan.upstreamModel })
    }
    // A failure after the answer started is the upstream's too (the relay mapped it: a QueuegateError),
    // unless it was the gateway's own (a transform that threw).
    const code = error === undefined ? undefined : ((error as { code?: string | null }).code ?? 'upstream_error')
    if (code !== undefined && code !== 'internal_error' && this.#lease !== undefined) {
      this.#services.options.onEvent?.({ type: 'upstream-error', jobId: this.#plan.jobId, upstream: this.#lease.upstream, message: (error as Error).message, code })
    }
    this.finish(this.#status, error)
    if (reason === 'done' && this.#message !== undefined) this.#runHooks(this.#message.message())
  }

  /** The client went away before the answer's end. */
  onCancel(): void {
    this.disconnect()
  }

  /** What a failure of the upstream call or its body becomes for the client. */
  mapError(error: unknown): Error {
    return this.#call.mapError(error)
  }

  /** The rest of a non-streamed answer that had not fully arrived with its headers. */
  #readWhole(response: UpstreamResponse): Promise<Uint8Array> {
    return response.body.bytes(this.#services.options.maxResponseBytes).catch((error: unknown) => {
      throw this.mapError(error)
    })
  }

  /** A non-streamed chat answer, through the plan's transforms; the job ends before it is handed over. */
  #whole(response: UpstreamResponse, raw: Uint8Array): Response {
    const plan = this.#plan
    // Bytes pass through untouched unless a transform or a hook needs the completion (no decode, parse, re-encode).
    let bytes = raw
    let message: AssistantMessage | undefined
    if (!isPassThrough(plan) && !passesWhole(plan, raw)) {
      const transformed = transformCompletionBytes(raw, plan)
      bytes = transformed.bytes
      if (transformed.completion !== undefined && plan.answerHooks.length > 0) message = completionMessage(transformed.completion)
    }
    this.#wholeBytes = raw
    this.finish(response.status)
    if (message !== undefined) this.#runHooks(message)
    return lightResponse(bytes, response.status, { 'content-type': 'application/json', 'content-length': String(bytes.byteLength) })
  }

  /** Opens the streamed answer on a lease: a push source of SSE bytes. */
  async #open(granted: Lease): Promise<ByteSource> {
    const answer = this.#answer(await this.#call.start(granted, this.#plan.request.signal))
    return answer instanceof Promise ? await answer : answer
  }

  /**
   * The streamed answer over an upstream response: a push source of SSE bytes. (A promise only
   * when the upstream ignored `stream: true` and its JSON body has to be read first.)
   */
  #answer(response: UpstreamResponse): ByteSource | Promise<ByteSource> {
    if (answerKind(response) !== 'sse') {
      // The upstream ignored `stream: true` and answered with one JSON body: stream that.
      return response.body.text(this.#services.options.maxResponseBytes).then(
        (text) => this.#relay(completionAsEvents(text, this.#call.upstream as Upstream, this.#services.clock.now())),
        (error: unknown) => {
          throw this.mapError(error)
        },
      )
    }
    return this.#relay(response.body)
  }

  /** The relay, passed through the job: what it writes is the deadlines' progress (see {@link write}). */
  #metered(source: ByteSource): ByteSource {
    this.#source = source
    this.#call.meter(this)
    return this
  }

  start(sink: ByteSink): void {
    this.#sink = sink
    ;(this.#source as ByteSource).start(this)
  }

  resume(): void {
    this.blocked = false
    ;(this.#source as ByteSource).resume()
  }

  cancel(reason?: unknown): void {
    ;(this.#source as ByteSource).cancel(reason)
  }

  write(chunk: Uint8Array): boolean {
    this.events += 1
    const more = (this.#sink as ByteSink).write(chunk)
    if (!more) this.blocked = true
    return more
  }

  end(chunk?: Uint8Array): void {
    ;(this.#sink as ByteSink).end(chunk)
  }

  error(error: Error): void {
    ;(this.#sink as ByteSink).error(error)
  }

  #relay(body: UpstreamBody): ByteSource {
    return this.#metered(this.#relayOf(body))
  }

  #relayOf(body: UpstreamBody): ByteSource {
    // With nothing to transform or collect, the upstream's events are re-framed as bytes (the fast
    // path); with gated transforms only, bytes until a gate fires, then chunks; otherwise upstream
    // SSE → payloads → chunk objects → transforms → SSE bytes.
    const plan = this.#plan
    if (isPassThrough(plan)) return (this.#relayed = relayEvents(body, this))
    const gates = answerGates(plan)
    if (gates !== undefined) return (this.#relayed = relayGated(body, gates, this))
    const factories: ChunkTransformFactory[] = plan.transforms.map((transform) => transform.stream)
    if (plan.answerHooks.length > 0) {
      const message = (this.#message = new MessageAccumulator())
      factories.push((onChunk) => ({
        feed(chunk) {
          message.add(chunk)
          onChunk(chunk)
        },
        flush() {},
      }))
    }
    return (this.#relayed = relayChunks(body, (onChunk) => chainTransforms(factories, onChunk), this))
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

const textDecoder = new TextDecoder()

/** True when the bytes are one JSON object (an answer whose content type did not say so). */
function isJsonBody(bytes: Uint8Array): boolean {
  const parsed = safeParseJson(textDecoder.decode(bytes))
  return parsed.success && isJsonObject(parsed.value)
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
