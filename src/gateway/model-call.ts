/**
 * One model call from request to response: validate, queue as a job, wait for a slot (telling
 * a streaming client where it stands), call the upstream, run the chunk pipeline, and release
 * the slot exactly once, on completion, on error and on client disconnect.
 * @module
 */
import { AbortError, InvalidRequestError, NotFoundError, QueuegateError, UpstreamError } from '../errors.js'
import type { ChatCompletion } from '../openai/types.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'
import type { JobClass, Lease, QueueScheduler } from '../queue/queue-scheduler.js'
import type { ResolvedGatewayOptions } from './gateway-options.js'
import type { JobRegistry } from './job-registry.js'
import type { RunningJobs } from './running-jobs.js'
import type { UpstreamHealth } from './upstream-health.js'
import { startUpstreamCall, upstreamFailure } from './upstream.js'
import type { Upstream, UpstreamResponse } from './upstream.js'
import { createEventStream } from './event-stream.js'
import { createQueueNotifier } from './queue-notices.js'
import { byteSourceStream } from './byte-source.js'
import type { ByteSink, ByteSource } from './byte-source.js'
import { relayBytes, relayChunks, relayEvents } from './upstream-relay.js'
import type { RelayEnd, RelayOptions } from './upstream-relay.js'
import { UpstreamBody } from './upstream-body.js'
import { lightResponse } from './light-response.js'
import { headerLookup, isBridgeRequest, unwatchClient, watchClient } from './request-access.js'
import { chainTransforms, chunkPipelineFor } from './chunk-pipeline.js'
import type { ChunkPipeline } from './chunk-pipeline.js'

/** What the gateway shares with every model call. */
export interface GatewayContext {
  options: ResolvedGatewayOptions
  upstreams: Map<string, Upstream>
  scheduler: QueueScheduler
  jobs: JobRegistry
  /** Configured model ids; empty means any model is accepted. */
  modelIds: string[]
  running: RunningJobs
  health: UpstreamHealth
}

/** One request that needs an upstream. */
export interface ModelCall {
  request: Request
  /** Gateway path, e.g. `/v1/chat/completions`. */
  path: string
  jobId: string
  /** The body as received (forwarded as is when nothing in it changes). */
  text: string
  body: Record<string, unknown>
  /** The body is a chat completion request. */
  chat: boolean
  jobClass: JobClass
  threadKey: string
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
} as const

/** Answers one model call; failures before the first byte become error responses (thrown). */
export function handleModelCall(context: GatewayContext, call: ModelCall): Promise<Response> {
  const { body } = call
  let bodyChanged = false
  if (call.chat) validateChatBody(body)
  if (body.model !== undefined && typeof body.model !== 'string') {
    throw new InvalidRequestError('`model` must be a string.', { param: 'model', code: 'invalid_model' })
  }
  let model = typeof body.model === 'string' && body.model.trim() !== '' ? body.model : undefined
  if (model === undefined && context.modelIds.length > 0) {
    model = context.modelIds[0]
    body.model = model
    bodyChanged = true
  }
  if (model !== undefined && context.modelIds.length > 0 && !context.modelIds.includes(model)) {
    throw new NotFoundError(`The model ${JSON.stringify(model)} does not exist here. Available: ${context.modelIds.join(', ')}.`, 'model_not_found', 'model')
  }
  const pipeline = call.chat ? chunkPipelineFor(context.options, { body, path: call.path, headers: headerLookup(call.request) }) : undefined
  return new ModelCallJob(context, call, model, bodyChanged, pipeline).run()
}

/**
 * One model call as a job, from the queue to the end of its answer. One object per request
 * whose methods are its callbacks: the client's abort listener (`handleEvent`), the running
 * job shutdown aborts (`abort`), and the relay's end, cancel and error mapping. (Closures for
 * each would be a dozen allocations per request on the hot path.)
 */
class ModelCallJob implements RelayOptions, EventListenerObject {
  readonly #context: GatewayContext
  readonly #call: ModelCall
  readonly #model: string | undefined
  readonly #bodyChanged: boolean
  readonly #pipeline: ChunkPipeline | undefined
  readonly #stream: boolean
  readonly #createdAt: number
  readonly #job: { id: string; class: JobClass; threadKey: string; model: string | undefined }
  #lease: Lease | undefined
  #unregister: (() => void) | undefined
  #startedAt: number | undefined
  #finished = false
  /** The upstream the job runs on (for error messages). */
  #upstream: Upstream | undefined
  /** The HTTP status the log records when the relayed answer ends. */
  #status = 200
  #abortReason: Error | undefined
  #abortUpstream: ((reason: Error) => void) | undefined

  constructor(context: GatewayContext, call: ModelCall, model: string | undefined, bodyChanged: boolean, pipeline: ChunkPipeline | undefined) {
    this.#context = context
    this.#call = call
    this.#model = model
    this.#bodyChanged = bodyChanged
    this.#pipeline = pipeline
    this.#stream = call.body.stream === true
    this.#createdAt = context.options.now()
    this.#job = { id: call.jobId, class: call.jobClass, threadKey: call.threadKey, model }
    context.jobs.add({ id: call.jobId, status: 'queued', kind: call.jobClass, model, stream: this.#stream, upstream: undefined, slot: undefined, createdAt: this.#createdAt, startedAt: undefined, endedAt: undefined, error: undefined })
  }

  /** Queues the job and answers: the whole body, or a stream once a slot is near (with notices while it waits). */
  async run(): Promise<Response> {
    const { scheduler, options } = this.#context
    const call = this.#call
    const clientSignal = call.request.signal
    // The job is aborted by the client's disconnect or by the gateway's shutdown. A waiting job
    // leaves the queue through the client's signal (or the scheduler's close); a running one
    // aborts its upstream call through the call's handle (no AbortSignal per call: see upstream.ts).
    if (clientSignal.aborted) this.disconnect()
    else watchClient(call.request, this)
    const acquired = scheduler.acquire(this.#job, { signal: clientSignal })
    try {
      if (!call.chat) {
        const response = await this.#startOn(await acquired)
        const contentType = headerValue(response.headers['content-type']) ?? 'application/json'
        this.#status = response.status
        return lightResponse(relayBytes(response.body, this), response.status, contentType.startsWith('text/event-stream') ? { ...SSE_HEADERS } : { 'content-type': contentType })
      }
      if (!this.#stream) {
        const response = await this.#startOn(await acquired)
        const raw =
          response.body.takeComplete(options.maxResponseBytes) ??
          (await response.body.bytes(options.maxResponseBytes).catch((error: unknown) => {
            throw this.mapError(error)
          }))
        // Bytes pass through untouched unless a transform applies (no decode, parse, re-encode).
        const pipeline = this.#pipeline
        const bytes = pipeline === undefined || !pipeline.active ? raw : textEncoder.encode(transformCompletion(textDecoder.decode(raw), pipeline))
        const headers = { 'content-type': 'application/json', 'content-length': String(bytes.byteLength) }
        // The node bridge writes every response it gets: there the job's bookkeeping waits until
        // the answer is on its way. Anyone else may never read the body, so the job ends now.
        if (isBridgeRequest(call.request)) return lightResponse(new WholeAnswer(bytes, this, response.status), response.status, headers)
        this.finish(response.status)
        return lightResponse(bytes, response.status, headers)
      }
      // Streaming: wait up to notifyAfterMs for a slot before committing to a 200, so that a job
      // that starts soon still gets a real HTTP status when the upstream fails.
      // (No timer at all when the slot was free: the common case on an idle gateway.)
      const early = scheduler.status(call.jobId) === 'running' ? await acquired : await raceTimeout(acquired, options.notifyAfterMs)
      if (early !== undefined) {
        // One await fewer than through #open on the common path: the answer is ready with the headers.
        const answer = this.#answer(await this.#startOn(early))
        return lightResponse(answer instanceof Promise ? await answer : answer, 200, { ...SSE_HEADERS })
      }
      const notifier = createQueueNotifier({
        mode: options.queueNotify,
        message: options.queueMessage,
        keepAliveMs: options.keepAliveMs,
        position: () => scheduler.position(call.jobId),
        chunk: { id: `chatcmpl-${call.jobId}`, model: this.#model ?? 'unknown', created: Math.floor(this.#createdAt / 1000) },
      })
      const body = createEventStream({
        open: async () => byteSourceStream(await this.#open(await acquired)),
        waiting: notifier,
        onCancel: () => this.disconnect(),
        onError: (error) => this.finish(200, error),
      })
      return lightResponse(body, 200, { ...SSE_HEADERS })
    } catch (error) {
      const failure = QueuegateError.isInstance(error) ? error : upstreamFailure({ id: this.#lease?.upstream ?? 'unknown' }, error)
      this.finish(failure.status, failure)
      throw failure
    }
  }

  /** The client went away (the request's abort event, or the node bridge's disconnect call). */
  handleEvent(): void {
    this.disconnect()
  }

  /** The client went away: free the slot (499 in the log) and abort the upstream request. */
  disconnect(): void {
    this.finish(499, 'client disconnected')
    this.abort(new AbortError('The client disconnected.'))
  }

  /** Aborts the job's upstream call, now or as soon as it starts (client disconnect, shutdown). */
  abort(reason: Error): void {
    if (this.#abortReason !== undefined) return
    this.#abortReason = reason
    this.#abortUpstream?.(reason)
  }

  /** Ends the job exactly once: releases the slot, records the outcome, reports it. */
  finish(status: number, error?: unknown): void {
    if (this.#finished) return
    this.#finished = true
    const { options, jobs } = this.#context
    const call = this.#call
    unwatchClient(call.request, this)
    this.#lease?.release()
    this.#unregister?.()
    const endedAt = options.now()
    const message = error === undefined ? undefined : error instanceof Error ? error.message : String(error)
    jobs.finish(call.jobId, { at: endedAt, error: message })
    options.onEvent?.({
      type: 'request-end',
      jobId: call.jobId,
      method: call.request.method,
      path: call.path,
      status,
      upstream: this.#lease?.upstream,
      model: this.#model,
      stream: this.#stream,
      waitMs: (this.#startedAt ?? endedAt) - this.#createdAt,
      totalMs: endedAt - this.#createdAt,
      error: message,
    })
  }

  /** The relayed answer ended. The upstream is done: free its slot now, even while the last bytes are on their way. */
  onEnd(reason: RelayEnd, error?: Error): void {
    if (reason !== 'cancel') this.finish(this.#status, error)
  }

  /** The client went away before the answer's end. */
  onCancel(): void {
    this.disconnect()
  }

  /** What a failure of the upstream call or its body becomes for the client. */
  mapError(error: unknown): Error {
    return upstreamFailure(this.#upstream ?? { id: this.#lease?.upstream ?? 'unknown' }, error)
  }

  /** Opens the streamed answer on a lease: a push source of SSE bytes. */
  async #open(granted: Lease): Promise<ByteSource> {
    const answer = this.#answer(await this.#startOn(granted))
    return answer instanceof Promise ? await answer : answer
  }

  /**
   * The streamed answer over an upstream response: a push source of SSE bytes. (A promise only
   * when the upstream ignored `stream: true` and its JSON body has to be read first.)
   */
  #answer(response: UpstreamResponse): ByteSource | Promise<ByteSource> {
    const contentType = headerValue(response.headers['content-type']) ?? ''
    if (!contentType.startsWith('text/event-stream') && contentType.includes('json')) {
      // The upstream ignored `stream: true` and answered with one JSON body: stream that.
      return response.body.text(this.#context.options.maxResponseBytes).then(
        (text) => this.#relay(completionAsEvents(text, this.#upstream as Upstream)),
        (error: unknown) => {
          throw this.mapError(error)
        },
      )
    }
    return this.#relay(response.body)
  }

  #relay(body: UpstreamBody): ByteSource {
    // With no chunk transform the upstream's events are re-framed as bytes (the fast path);
    // otherwise upstream SSE → payloads → chunk objects → transforms → SSE bytes.
    const transforms = this.#pipeline?.streamTransforms ?? []
    if (transforms.length === 0) return relayEvents(body, this)
    return relayChunks(body, (onChunk) => chainTransforms(transforms, onChunk), this)
  }

  /**
   * Runs the job on its lease: sends its request upstream and resolves on the answer's headers;
   * a non-2xx answer becomes an error carrying the upstream's message. When the upstream cannot
   * be reached (nothing was sent) and another one is healthy, the unreachable one sits out a
   * cooldown and the job runs again elsewhere.
   */
  async #startOn(first: Lease): Promise<UpstreamResponse> {
    const context = this.#context
    const { options } = context
    const call = this.#call
    let granted = first
    for (let attempt = 1; ; attempt += 1) {
      const upstream = this.#onLease(granted)
      let payload = call.text
      if (granted.slot !== undefined) payload = JSON.stringify({ ...call.body, id_slot: granted.slot })
      else if (this.#bodyChanged) payload = JSON.stringify(call.body)
      let response: UpstreamResponse
      try {
        const handle = startUpstreamCall(upstream, { path: upstreamPath(call.path), body: payload, accept: this.#stream ? 'text/event-stream' : 'application/json' })
        this.#abortUpstream = handle.abort
        if (this.#abortReason !== undefined) handle.abort(this.#abortReason)
        response = await handle.response
      } catch (error) {
        const failure = upstreamFailure(upstream, error)
        if (!(failure instanceof AbortError)) options.onEvent?.({ type: 'upstream-error', jobId: call.jobId, upstream: upstream.id, message: failure.message })
        const unreachable = failure.code === 'upstream_unreachable'
        if (!unreachable || attempt >= context.upstreams.size || this.#abortReason !== undefined || !context.health.markDown(upstream.id, this.#model)) throw failure
        this.#lease?.release()
        this.#unregister?.()
        this.#lease = undefined
        this.#unregister = undefined
        this.#abortUpstream = undefined
        granted = await context.scheduler.acquire(this.#job, { signal: call.request.signal })
        continue
      }
      if (response.status >= 400) {
        const text = await response.body.text(256 * 1024).catch(() => '')
        const failure = upstreamStatusError(upstream, response.status, text)
        options.onEvent?.({ type: 'upstream-error', jobId: call.jobId, upstream: upstream.id, message: failure.message })
        throw failure
      }
      return response
    }
  }

  #onLease(granted: Lease): Upstream {
    if (this.#finished) {
      // The client left between the grant and now: the slot goes back at once.
      granted.release()
      throw this.#abortReason ?? new AbortError('The client disconnected.')
    }
    const context = this.#context
    this.#lease = granted
    this.#startedAt = context.options.now()
    this.#unregister = context.running.add(this)
    context.jobs.start(this.#call.jobId, { upstream: granted.upstream, slot: granted.slot, at: this.#startedAt })
    const upstream = context.upstreams.get(granted.upstream)
    if (upstream === undefined) throw new UpstreamError(`The scheduler chose an unknown upstream ${JSON.stringify(granted.upstream)}.`)
    this.#upstream = upstream
    return upstream
  }
}

function validateChatBody(body: Record<string, unknown>): void {
  if (!Array.isArray(body.messages)) {
    throw new InvalidRequestError(
      body.messages === undefined ? '`messages` is required: a list of chat messages.' : '`messages` must be a list of chat messages.',
      { param: 'messages', code: 'invalid_messages' },
    )
  }
  for (const [index, message] of body.messages.entries()) {
    if (!isJsonObject(message) || typeof message.role !== 'string') {
      throw new InvalidRequestError(`\`messages[${index}]\` must be an object with a \`role\`.`, { param: `messages[${index}]`, code: 'invalid_messages' })
    }
  }
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) throw new InvalidRequestError('`tools` must be a list of tool definitions.', { param: 'tools', code: 'invalid_tools' })
    for (const [index, tool] of body.tools.entries()) {
      const fn = isJsonObject(tool) ? tool.function : undefined
      if (!isJsonObject(fn) || typeof fn.name !== 'string' || fn.name === '') {
        throw new InvalidRequestError(`\`tools[${index}]\` must be { "type": "function", "function": { "name": … } }.`, { param: `tools[${index}]`, code: 'invalid_tools' })
      }
    }
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    throw new InvalidRequestError('`stream` must be true or false.', { param: 'stream', code: 'invalid_stream' })
  }
}

/** Maps a gateway path to the upstream path below its API root. */
function upstreamPath(path: string): string {
  if (path === '/v1/chat/completions_passthrough' || path === '/v1/agent/chat/completions') return '/chat/completions'
  return path.slice('/v1'.length)
}

/** A whole answer as a push body that ends its job once written (or when the client has gone). */
class WholeAnswer implements ByteSource {
  readonly #bytes: Uint8Array
  readonly #job: ModelCallJob
  readonly #status: number

  constructor(bytes: Uint8Array, job: ModelCallJob, status: number) {
    this.#bytes = bytes
    this.#job = job
    this.#status = status
  }

  start(sink: ByteSink): void {
    sink.end(this.#bytes)
    this.#job.finish(this.#status)
  }

  resume(): void {}

  cancel(): void {
    this.#job.disconnect()
  }
}

/** Runs the non-stream pipeline over a completion; a body that is not a completion passes unchanged. */
function transformCompletion(text: string, pipeline: ChunkPipeline): string {
  const parsed = safeParseJson(text)
  if (!parsed.success || !isJsonObject(parsed.value) || !Array.isArray(parsed.value.choices)) return text
  return JSON.stringify(pipeline.completion(parsed.value as ChatCompletion))
}

/** The error a non-2xx upstream answer becomes: 5xx → 502; 4xx keeps its status and message. */
function upstreamStatusError(upstream: Upstream, status: number, text: string): QueuegateError {
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
  if (status >= 500) return new UpstreamError(`Upstream ${upstream.id} failed with ${status}: ${message}`, { code: 'upstream_error' })
  return new QueuegateError(message, { status, type: type ?? 'invalid_request_error', code: code ?? 'upstream_rejected' })
}

/**
 * A whole `chat.completion` as the SSE body a streaming client expects: one chunk with the role
 * and the message's content, reasoning and tool calls, then the finish. An error body becomes
 * the error it reports.
 */
function completionAsEvents(text: string, upstream: Upstream): UpstreamBody {
  const parsed = safeParseJson(text)
  if (!parsed.success || !isJsonObject(parsed.value)) throw new UpstreamError(`Upstream ${upstream.id} answered a streaming request with a body that is neither SSE nor JSON.`, { code: 'upstream_bad_event' })
  const completion = parsed.value
  if (completion.error !== undefined || !Array.isArray(completion.choices)) {
    const error = isJsonObject(completion.error) && typeof completion.error.message === 'string' ? completion.error.message : text.slice(0, 500)
    throw new UpstreamError(`Upstream ${upstream.id} failed: ${error}`, { code: 'upstream_error' })
  }
  const base = { id: completion.id ?? 'chatcmpl-queuegate', object: 'chat.completion.chunk', created: completion.created ?? Math.floor(Date.now() / 1000), model: completion.model ?? 'unknown' }
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

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** Resolves with the promise's value if it settles within `ms`, else undefined (rejections pass through). */
async function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
