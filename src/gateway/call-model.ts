/**
 * Model calls: a {@link CallPlan} sent to an upstream on a lease. {@link ModelCall} is one call
 * (the request built from the plan, failover to another upstream when the first cannot be
 * reached, the upstream's errors mapped to the client's); {@link callModel} is the same for a
 * consumer that wants the answer as a completion or as chunks (a tool loop making several calls
 * on one lease, an agent calling through the gateway's own queue). The client-facing job
 * (model-call.ts) is the other consumer: it relays the answer's bytes.
 * @module
 */
import { AbortError, QueuegateError, UpstreamError, UpstreamTimeoutError } from '../errors.js'
import type { ChatCompletion, ChatCompletionChunk } from '../openai/types.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'
import { MessageAccumulator } from '../openai/message-accumulator.js'
import type { JobClass, JobRequest, Lease } from '../queue/queue-scheduler.js'
import type { PrefixHint } from '../queue/prefix-hashes.js'
import type { CallPlan } from './call-plan.js'
import { chainTransforms } from './chunk-pipeline.js'
import { isStackOverflow, nestedTooDeeply } from './nesting.js'
import { chunkStream } from './chunk-stream.js'
import type { GatewayServices } from './gateway-services.js'
import { startUpstreamCall, upstreamFailure } from './upstream.js'
import type { Upstream, UpstreamResponse } from './upstream.js'
import { UpstreamBody } from './upstream-body.js'
import { RetryBudget } from './retry-policy.js'
import { reportInternalError } from './internal-error.js'
import type { Deadline, WatchedCall } from './call-deadlines.js'

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/** Who holds a model call's lease: told when the call runs on one (the first, or another after a failover). */
export interface LeaseHolder {
  /**
   * The call runs on `lease`, at `upstream`, from now on (a lease it ran on before was released
   * by the call). May throw to refuse it (the holder then releases it): the call fails with that error.
   */
  onLease(lease: Lease, upstream: Upstream): void
}

/** How far a relayed answer got, as the client's side counts it (the deadlines read it). */
export interface ProgressMeter {
  /** Writes of complete events (or bytes, off SSE) to the client so far. */
  readonly events: number
  /** The client is not taking more now (its side holds the answer back, not the upstream). */
  readonly blocked: boolean
}

/** One upstream call of a plan; see the module doc. */
export class ModelCall implements JobRequest, WatchedCall {
  readonly #services: GatewayServices
  readonly #plan: CallPlan
  readonly #holder: LeaseHolder
  // The call is what the scheduler is asked to run (the same object for every lease of it).
  readonly id: string
  readonly class: JobClass
  readonly threadKey: string
  readonly model: string | undefined
  readonly prefix: PrefixHint | undefined
  #upstream: Upstream | undefined
  #abortReason: Error | undefined
  #abortUpstream: ((reason: Error) => void) | undefined
  /** Ends a wait for a `Retry-After` early. */
  #wake: ((error: Error) => void) | undefined
  // The deadlines' view of the call (call-deadlines.ts): set per attempt, read by the sweep.
  attemptAt = 0
  startedAt = Number.NaN
  seen = 0
  seenAt = 0
  /** The client's side counts the streamed answer's events (see {@link meter}). */
  #meter: ProgressMeter | undefined
  /** A non-streamed answer's headers came: its first byte (it arrives whole). */
  #answered = false

  constructor(services: GatewayServices, plan: CallPlan, holder: LeaseHolder) {
    this.#services = services
    this.#plan = plan
    this.#holder = holder
    this.id = plan.jobId
    this.class = plan.jobClass
    this.threadKey = plan.threadKey
    this.prefix = plan.prefix
    this.model = services.catalog.routingModel(plan.upstreamModel)
  }

  /** The upstream the call runs on, once it has a lease. */
  get upstream(): Upstream | undefined {
    return this.#upstream
  }

  /**
   * Sends the plan's request on `first` and resolves on a 2xx answer's headers; a non-2xx answer
   * rejects with an error carrying the upstream's message. A failure before the answer started
   * (nothing of it reached the client) may run the call again (see `retry-policy.ts`): on
   * another upstream, which the call then excludes (an unreachable one also sits out a cooldown),
   * or after a `Retry-After` on the same one. Each time the lease is released and the call waits
   * for a new one (`signal` aborts that wait).
   */
  async start(first: Lease, signal?: AbortSignal): Promise<UpstreamResponse> {
    const services = this.#services
    const plan = this.#plan
    const { onEvent } = services.options
    // Made on the first failure: the common call allocates nothing for retries.
    let retry: RetryBudget | undefined
    let granted = first
    for (;;) {
      const upstream = services.upstreams.get(granted.upstream)
      if (upstream === undefined) throw new UpstreamError(`The scheduler chose an unknown upstream ${JSON.stringify(granted.upstream)}.`)
      this.#upstream = upstream
      this.#holder.onLease(granted, upstream)
      let body: string
      try {
        body = this.#payload(granted, upstream)
      } catch (error) {
        throw isStackOverflow(error) ? nestedTooDeeply(error) : error
      }
      let failure: QueuegateError
      let status: number | undefined
      let retryAfter: string | undefined
      const now = services.clock.monotonic()
      this.attemptAt = now
      if (Number.isNaN(this.startedAt)) this.startedAt = now
      services.deadlines.watch(this)
      try {
        const handle = startUpstreamCall(upstream, { path: plan.endpoint.upstreamPath, body, accept: plan.stream ? 'text/event-stream' : 'application/json' })
        this.#abortUpstream = handle.abort
        if (this.#abortReason !== undefined) handle.abort(this.#abortReason)
        const response = await handle.response
        if (response.status < 400) {
          services.health.succeeded(upstream.id)
          if (!plan.stream) this.#answered = true
          return response
        }
        status = response.status
        retryAfter = headerValue(response.headers['retry-after'])
        const text = await response.body.text(256 * 1024).catch(() => '')
        failure = upstreamStatusError(upstream, status, text, retryAfter)
        if (status === 404) services.catalog.missed(upstream.id)
      } catch (error) {
        failure = upstreamFailure(upstream, error)
      }
      this.#abortUpstream = undefined
      services.health.report(upstream.id, { status, error: failure, model: plan.upstreamModel })
      retry ??= new RetryBudget(services.options.maxRetries, services.upstreams.size)
      const next = this.#abortReason !== undefined ? undefined : retry.next(failure, status, retryAfter, { health: services.health, model: plan.upstreamModel, upstream: upstream.id, now: services.clock.now() })
      if (!(failure instanceof AbortError)) onEvent?.({ type: 'upstream-error', jobId: plan.jobId, upstream: upstream.id, message: failure.message, code: failure.code ?? 'upstream_error', retry: next?.kind, waitMs: next?.waitMs })
      if (next === undefined) throw retry.finalError(failure, status, () => services.scheduler.retryAfterSeconds())
      if (next.kind === 'unreachable') services.health.markDown(upstream.id, plan.upstreamModel)
      granted.release()
      // The next attempt keeps this one's place in line (JobRequest.retryOf).
      this.retryOf = granted
      if (next.waitMs !== undefined) await this.#sleep(next.waitMs, signal)
      this.excluded = retry.excluded
      try {
        granted = await services.scheduler.acquire(this, { signal })
      } catch (error) {
        // Nobody else can take it after all (the pool changed meanwhile): the failure stands.
        if (QueuegateError.isInstance(error) && error.code === 'no_upstream') throw retry.finalError(failure, status, () => services.scheduler.retryAfterSeconds())
        throw error
      }
    }
  }

  /** The deadlines' progress: 0 before the answer's first byte, then its events as the meter counts them. */
  progress(): number {
    const meter = this.#meter
    return meter !== undefined ? meter.events : this.#answered ? 1 : 0
  }

  /** Gaps between events count: a streamed answer with a meter, whose client takes what comes. */
  stalls(): boolean {
    return this.#meter !== undefined && !this.#meter.blocked
  }

  /** From now on the streamed answer's progress is what `meter` counts (the client's side relays it). */
  meter(meter: ProgressMeter): void {
    this.#meter = meter
  }

  /** The call ended: its deadlines are no longer watched. */
  unwatch(): void {
    this.#services.deadlines.unwatch(this)
  }

  /**
   * A deadline passed: the first byte or a gap ends this attempt with a 504 `upstream_timeout`
   * (before the answer started it is retried as such; after, the stream ends with an error event);
   * the total duration ends the whole call (504 `deadline_exceeded`, never retried).
   */
  expire(deadline: Deadline, afterMs: number): void {
    const id = this.#upstream?.id ?? 'unknown'
    if (deadline === 'duration') {
      this.abort(new QueuegateError(`The call to upstream ${id} ran longer than maxDurationMs (${afterMs} ms).`, { status: 504, type: 'upstream_error', code: 'deadline_exceeded' }))
      return
    }
    const message = deadline === 'ttfb' ? `Upstream ${id} sent no first byte within ${afterMs} ms (ttfbTimeoutMs).` : `Upstream ${id} sent no event for ${afterMs} ms (stallTimeoutMs).`
    this.#abortUpstream?.(new UpstreamTimeoutError(message))
  }

  /** Upstreams the call must not run on (it failed there); read by the scheduler (JobRequest). */
  excluded: ReadonlySet<string> | undefined = undefined

  /** The lease of the attempt that failed, when the call runs again: it keeps its place in line (JobRequest). */
  retryOf: Lease | undefined = undefined

  /** Aborts the upstream call, now or as soon as it starts (also a wait for a `Retry-After`). */
  abort(reason: Error): void {
    if (this.#abortReason !== undefined) return
    this.#abortReason = reason
    this.#abortUpstream?.(reason)
    this.#wake?.(reason)
  }

  /** Waits `ms` on the clock before a retry; the signal or {@link abort} ends the wait with an error. */
  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const { clock } = this.#services
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error): void => {
        clock.clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.#wake = undefined
        if (error === undefined) resolve()
        else reject(error)
      }
      const onAbort = (): void => done(new AbortError('The request was aborted.', signal?.reason))
      const timer = clock.setTimeout(() => done(), ms)
      if (signal?.aborted === true) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#wake = done
      if (this.#abortReason !== undefined) done(this.#abortReason)
    })
  }

  /**
   * A failure of the call or its answer's body, as the error the client sees. The body's own
   * failures come as QueuegateErrors already (upstream.ts maps undici's); anything else is a bug
   * in the gateway (a transform that threw): a 500 `internal_error`, reported with its stack,
   * never blamed on the upstream.
   */
  mapError(error: unknown): QueuegateError {
    if (QueuegateError.isInstance(error)) return error
    reportInternalError(this.#services.options.onEvent, this.id, error)
    return new QueuegateError(`Internal error: ${error instanceof Error ? error.message : String(error)}`, { status: 500, code: 'internal_error', cause: error })
  }

  /**
   * The request body for one upstream: the client's own bytes when nothing changed, else the
   * plan's body, with the llama.cpp slot (`id_slot`) of the lease and, for a request that named
   * no model, the upstream's own default model.
   */
  #payload(lease: Lease, upstream: Upstream): string {
    const plan = this.#plan
    const model = plan.upstreamModel === undefined ? this.#services.catalog.defaultFor(upstream.id) : undefined
    if (lease.slot === undefined && model === undefined) return plan.bodyChanged ? JSON.stringify(plan.body) : plan.text
    const body: Record<string, unknown> = { ...plan.body }
    if (model !== undefined) body.model = model
    if (lease.slot !== undefined) body.id_slot = lease.slot
    return JSON.stringify(body)
  }
}

/** Options of {@link callModel}. */
export interface CallModelOptions {
  /** Run on this lease (a loop's calls on one slot, so the conversation's cache stays warm); else queue for one. */
  lease?: Lease | undefined
  /** Aborts the wait in the queue and the upstream call. */
  signal?: AbortSignal | undefined
}

/**
 * A model's answer to {@link callModel}. Its lease stays held until released: release
 * `answer.lease` (it may differ from a lease passed in, after a failover) when done with it.
 * Read the body once, through one of the methods.
 */
export class ModelAnswer {
  readonly lease: Lease
  readonly upstream: Upstream
  readonly response: UpstreamResponse
  readonly #plan: CallPlan
  readonly #services: GatewayServices
  readonly #call: ModelCall

  constructor(services: GatewayServices, plan: CallPlan, parts: { lease: Lease; upstream: Upstream; response: UpstreamResponse; call: ModelCall }) {
    this.#services = services
    this.#plan = plan
    this.lease = parts.lease
    this.upstream = parts.upstream
    this.response = parts.response
    this.#call = parts.call
  }

  /** The whole answer as a completion, after the plan's transforms (a streamed answer is assembled from its chunks). */
  async completion(): Promise<ChatCompletion> {
    if (this.#plan.stream) return assembleCompletion(this.chunks())
    const text = await this.response.body.text(this.#services.options.maxResponseBytes).catch((error: unknown) => {
      throw this.#call.mapError(error)
    })
    const completion = parseCompletion(text)
    if (completion === undefined) throw new UpstreamError(`Upstream ${this.upstream.id} answered with a body that is not a chat completion.`, { code: 'upstream_bad_response' })
    return throughTransforms(this.#plan, completion)
  }

  /** The streamed answer's chunks after the plan's transforms (a JSON answer to a stream request is turned into chunks). */
  chunks(): ReadableStream<ChatCompletionChunk> {
    const { maxResponseBytes } = this.#services.options
    const factories = this.#plan.transforms.map((transform) => transform.stream)
    const body = answerKind(this.response) === 'sse' ? Promise.resolve(this.response.body) : this.response.body.text(maxResponseBytes).then((text) => completionAsEvents(text, this.upstream, this.#services.clock.now()))
    return chunkStream(body, (onChunk) => chainTransforms(factories, onChunk), { mapError: (error) => this.#call.mapError(error) })
  }
}

/**
 * Calls a model for a plan: waits in the queue for a lease (unless given one), sends the plan
 * upstream (with failover), and resolves with the answer, whose lease the caller releases. A
 * failure releases any lease the call took itself.
 */
export async function callModel(services: GatewayServices, plan: CallPlan, options: CallModelOptions = {}): Promise<ModelAnswer> {
  const { signal } = options
  const holder = new CurrentLease()
  const call = new ModelCall(services, plan, holder)
  const onAbort = (): void => call.abort(new AbortError('The model call was aborted.', signal?.reason))
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const lease = options.lease ?? (await services.scheduler.acquire(call, { signal }))
    // Deadlines run until the answer's headers here (the consumer reads the body at its own pace).
    const response = await call.start(lease, signal).finally(() => call.unwatch())
    return new ModelAnswer(services, plan, { lease: holder.lease ?? lease, upstream: call.upstream as Upstream, response, call })
  } catch (error) {
    if (holder.lease !== undefined && holder.lease !== options.lease) holder.lease.release()
    throw error
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

class CurrentLease implements LeaseHolder {
  lease: Lease | undefined
  onLease(lease: Lease): void {
    this.lease = lease
  }
}

async function assembleCompletion(chunks: ReadableStream<ChatCompletionChunk>): Promise<ChatCompletion> {
  const accumulator = new MessageAccumulator()
  let head: ChatCompletionChunk | undefined
  let usage: Record<string, unknown> | undefined
  for await (const chunk of chunks) {
    head ??= chunk
    if (isJsonObject(chunk.usage)) usage = chunk.usage
    accumulator.add(chunk)
  }
  const { finish_reason, ...message } = accumulator.message()
  const completion: ChatCompletion = {
    id: head?.id ?? 'chatcmpl-queuegate',
    object: 'chat.completion',
    created: head?.created ?? 0,
    model: head?.model ?? 'unknown',
    choices: [{ index: 0, message, finish_reason }],
  }
  if (usage !== undefined) completion.usage = usage
  return completion
}

/**
 * What an upstream's 2xx answer is, by its content type: `sse`, `json`, or `other` (an HTML
 * error page, plain text: checked before it is relayed). No content type at all counts as SSE,
 * as before.
 */
export function answerKind(response: UpstreamResponse): 'sse' | 'json' | 'other' {
  const type = response.headers['content-type']
  const contentType = (Array.isArray(type) ? type[0] : type) ?? ''
  if (contentType === '' || contentType.startsWith('text/event-stream')) return 'sse'
  return contentType.includes('json') ? 'json' : 'other'
}

/** A 2xx answer that is neither what was asked for nor JSON: 502, without echoing it. */
export function badResponseError(upstream: Pick<Upstream, 'id'>, response: UpstreamResponse, stream: boolean): UpstreamError {
  const type = response.headers['content-type']
  const contentType = (Array.isArray(type) ? type[0] : type) ?? 'no content type'
  return new UpstreamError(`Upstream ${upstream.id} answered ${response.status} with ${contentType}, neither ${stream ? 'SSE' : 'a JSON completion'} nor JSON.`, { code: 'upstream_bad_response' })
}

/**
 * The error a non-2xx upstream answer becomes: 503 stays 503 (`upstream_unavailable`), other 5xx
 * → 502; 4xx keeps its status and message. A 429 or 503 carries the upstream's `Retry-After`.
 */
export function upstreamStatusError(upstream: Pick<Upstream, 'id'>, status: number, text: string, retryAfter?: string | undefined): QueuegateError {
  const parsed = safeParseJson(text)
  let message = text.trim().slice(0, 2000)
  let code: string | undefined
  let type: string | undefined
  if (parsed.success && isJsonObject(parsed.value)) {
    const error = parsed.value.error
    if (isJsonObject(error)) {
      if (typeof error.message === 'string') message = error.message
      if (typeof error.code === 'string') code = error.code
      if (typeof error.type === 'string') type = error.type
    } else if (typeof error === 'string') {
      message = error
    } else if (typeof parsed.value.detail === 'string') {
      message = parsed.value.detail
    }
  }
  if (message === '') message = `HTTP ${status}`
  const headers = retryAfter !== undefined && (status === 429 || status === 503) ? { 'retry-after': retryAfter } : undefined
  if (status === 503) return new UpstreamError(`Upstream ${upstream.id} is unavailable (503): ${message}`, { status: 503, code: 'upstream_unavailable', headers })
  if (status >= 500) return new UpstreamError(`Upstream ${upstream.id} failed with ${status}: ${message}`, { code: 'upstream_error' })
  return new QueuegateError(message, { status, type: type ?? (status === 429 ? 'rate_limit_error' : 'invalid_request_error'), code: code ?? 'upstream_rejected', headers })
}

/**
 * A whole `chat.completion` as the SSE body a streaming client expects: one chunk with the role
 * and the message's content, reasoning and tool calls, then the finish. An error body becomes
 * the error it reports.
 */
export function completionAsEvents(text: string, upstream: Upstream, now: number): UpstreamBody {
  const parsed = safeParseJson(text)
  if (!parsed.success || !isJsonObject(parsed.value)) throw new UpstreamError(`Upstream ${upstream.id} answered a streaming request with a body that is neither SSE nor JSON.`, { code: 'upstream_bad_response' })
  const completion = parsed.value
  if (completion.error !== undefined || !Array.isArray(completion.choices)) {
    const error = isJsonObject(completion.error) && typeof completion.error.message === 'string' ? completion.error.message : text.slice(0, 500)
    throw new UpstreamError(`Upstream ${upstream.id} failed: ${error}`, { code: 'upstream_error' })
  }
  const base = { id: completion.id ?? 'chatcmpl-queuegate', object: 'chat.completion.chunk', created: completion.created ?? Math.floor(now / 1000), model: completion.model ?? 'unknown' }
  let events = ''
  for (const choice of completion.choices as Array<Record<string, unknown>>) {
    const message = isJsonObject(choice.message) ? choice.message : {}
    const delta: Record<string, unknown> = { ...message, role: message.role ?? 'assistant' }
    if (Array.isArray(message.tool_calls)) delta.tool_calls = message.tool_calls.map((call, index) => ({ index, ...(isJsonObject(call) ? call : {}) }))
    events += `data: ${JSON.stringify({ ...base, choices: [{ index: choice.index ?? 0, delta, finish_reason: null }] })}\n\n`
    events += `data: ${JSON.stringify({ ...base, choices: [{ index: choice.index ?? 0, delta: {}, finish_reason: choice.finish_reason ?? 'stop' }], ...(completion.usage === undefined ? {} : { usage: completion.usage }) })}\n\n`
  }
  events += 'data: [DONE]\n\n'
  const body = new UpstreamBody()
  body.push(textEncoder.encode(events))
  body.finish()
  return body
}

/** Runs a plan's completion transforms over a whole answer's bytes; a body that is not a completion passes unchanged. */
export function transformCompletionBytes(bytes: Uint8Array, plan: CallPlan): { bytes: Uint8Array; completion: ChatCompletion | undefined } {
  const parsed = parseCompletion(textDecoder.decode(bytes))
  if (parsed === undefined) return { bytes, completion: undefined }
  const completion = throughTransforms(plan, parsed)
  return { bytes: plan.transforms.length === 0 ? bytes : textEncoder.encode(JSON.stringify(completion)), completion }
}

/** A `chat.completion` (a JSON object with `choices`), or undefined. */
function parseCompletion(text: string): ChatCompletion | undefined {
  const parsed = safeParseJson(text)
  return parsed.success && isJsonObject(parsed.value) && Array.isArray(parsed.value.choices) ? (parsed.value as ChatCompletion) : undefined
}

/** A whole completion through the plan's transforms, in order. */
function throughTransforms(plan: CallPlan, completion: ChatCompletion): ChatCompletion {
  let result = completion
  for (const transform of plan.transforms) result = transform.completion(result)
  return result
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
