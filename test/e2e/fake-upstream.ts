/**
 * A fake llama.cpp `llama-server` (its OpenAI API) on a real node:http server on 127.0.0.1, for
 * end-to-end tests and the benchmark: slots with a FIFO wait, time to first token and per-token
 * delays, scripted chunks, failures, and a record of every request it received.
 * @module
 */
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import type { AddressInfo } from 'node:net'
import { chunkDelta, mergeChunks } from '../helpers/merge-chunks.js'

type Loose = Record<string, unknown>

/** How the fake fails a generation request (chat, completions, embeddings). */
export type FakeFailure =
  /**
   * Answer at once with this status (no slot taken); `body` defaults to a llama.cpp error object;
   * `headers` are added to the answer's (e.g. `retry-after`).
   */
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Take a slot, send headers and `afterChunks` data events (non-stream: part of the body), then destroy the socket; 0 drops before the headers. */
  | { kind: 'drop'; afterChunks: number }
  /** Take a slot and never answer (until the client or `close()` ends the connection). */
  | { kind: 'hang' }
  /** Take a slot, send the response headers, then never send a byte more. */
  | { kind: 'hang-after-headers' }
  /** Take a slot, send headers and `afterChunks` data events (stream only), then nothing more, keeping the connection open. */
  | { kind: 'stall'; afterChunks: number }
  /**
   * Take a slot, send headers and `afterChunks` data events (stream only), then one byte every
   * `everyMs` that never completes an event (a `data: ` line without its end), until the client leaves.
   */
  | { kind: 'trickle'; afterChunks: number; everyMs: number }

/** What can change per request (through `respond`). */
export interface FakeResponseOptions {
  /** Delay before the first token, after the request got a slot (prompt processing). @default 0 */
  ttftMs?: number | undefined
  /** Delay between two tokens. @default 0 */
  tokenDelayMs?: number | undefined
  /** Content tokens of the default answer (`tok0 tok1 …`). @default 20 */
  tokens?: number | undefined
  /**
   * Scripted chunks replayed instead of the default answer. Each item is either a bare delta
   * (`{ content }`, `{ reasoning_content }`, `{ tool_calls }`; the fake adds the role chunk, the
   * finish chunk and the usage chunk around them) or a whole `chat.completion.chunk` (has
   * `choices`; replayed verbatim, missing `id`/`object`/`created`/`model` filled in). Non-stream
   * requests get them merged into one `chat.completion` message. An item `{ error: {...} }` (no
   * `choices`) is a failure at that point, as llama.cpp reports one: a stream sends the items
   * before it, then `data: {"error":...}` and ends without `[DONE]`; a non-stream request gets
   * the error body with status `error.code` (when it is an HTTP status) or 500.
   */
  chunks?: Array<Record<string, unknown>> | undefined
  /** Make generation requests fail. @default undefined */
  failure?: FakeFailure | undefined
  /** Answer `stream: true` with one JSON body, as servers that do not stream do. @default false */
  ignoreStream?: boolean | undefined
  /**
   * The vector `POST /v1/embeddings` answers for one input text. @default 8 numbers from the
   * text's length and position (the same text always gets the same vector)
   */
  embed?: ((text: string) => number[]) | undefined
}

/** Options of {@link startFakeUpstream}. */
export interface FakeUpstreamOptions extends FakeResponseOptions {
  /** Requests that run at once; more wait inside the fake, FIFO, as in llama.cpp. @default 1 */
  slots?: number | undefined
  /** Model ids served by `GET /v1/models`; the first is the default `model` of answers. @default ['fake-model'] */
  models?: string[] | undefined
  /** When set, generation requests need `Authorization: Bearer <apiKey>` (401 otherwise), as `llama-server --api-key`. */
  apiKey?: string | undefined
  /**
   * Per-request override, called once the body is parsed; its result is laid over the options.
   * @example respond: (request) => (request.seq === 0 ? { failure: { kind: 'status', status: 500 } } : undefined)
   */
  respond?: ((request: RecordedRequest) => FakeResponseOptions | undefined) | undefined
}

/** One request the fake received, updated in place as it runs. Times are `performance.now()` ms. */
export interface RecordedRequest {
  /** Arrival index, 0-based, over all requests. */
  seq: number
  method: string
  /** The path as sent, query included (`/v1/chat/completions`). */
  path: string
  headers: http.IncomingHttpHeaders
  /** The parsed JSON body; the raw text when it is not JSON; `undefined` when empty. */
  body: unknown
  /** `body.stream === true`. */
  stream: boolean
  receivedAt: number
  /** When it got a slot and began generating (for endpoints without slots: when answered). */
  startedAt: number | undefined
  /** When the response ended or the connection closed. */
  endedAt: number | undefined
  /** 0-based order in which requests took a slot (`undefined` if it never did). */
  startOrder: number | undefined
  /** The slot index it ran on. */
  slot: number | undefined
  /** The `id_slot` the body asked for (a number, or `undefined`). */
  idSlot: number | undefined
  /** The status the fake answered with, once headers went out. */
  status: number | undefined
  /** The client closed the connection before the response ended (while waiting or running). */
  closedByClient: boolean
  state: 'waiting' | 'running' | 'ended'
}

/** A running fake upstream. */
export interface FakeUpstream {
  /** `http://127.0.0.1:PORT`: the base, without `/v1`. */
  readonly url: string
  /** Every request in arrival order (`GET /v1/models` and `/health` too). */
  readonly requests: RecordedRequest[]
  /** Generation requests running now. */
  readonly active: number
  /** Highest number of generation requests that ran at once. */
  readonly maxConcurrency: number
  /** Generation requests waiting for a slot. */
  readonly waiting: number
  /** Highest number of generation requests open at once, running or waiting (what the server had in flight). */
  readonly maxInFlight: number
  /** Changes behaviour for the requests that arrive from now on (slots apply at once). */
  setOptions(options: FakeUpstreamOptions): void
  /** Clears `requests` and sets `maxConcurrency` to the current `active`. */
  reset(): void
  /**
   * Resolves once `predicate(upstream)` is true, checked now and on every state change
   * (arrival, start, end, close); rejects after `timeoutMs` with the current state.
   * @default timeoutMs 5000
   */
  waitFor(predicate: (upstream: FakeUpstream) => boolean, timeoutMs?: number): Promise<void>
  /** Stops the server and destroys every socket, including waiting and hanging requests. */
  close(): Promise<void>
}

interface Job {
  record: RecordedRequest
  outgoing: http.ServerResponse
  options: ResolvedOptions
  kind: 'chat' | 'completions' | 'embeddings'
  /** Set when the fake itself ends the connection (drop, close), so it is not the client's doing. */
  selfClosed: boolean
  finished: boolean
  timer: NodeJS.Timeout | undefined
}

interface ResolvedOptions {
  slots: number
  ttftMs: number
  tokenDelayMs: number
  tokens: number
  chunks: Loose[] | undefined
  models: string[]
  apiKey: string | undefined
  failure: FakeFailure | undefined
  ignoreStream: boolean
  embed: FakeUpstreamOptions['embed']
  respond: FakeUpstreamOptions['respond']
}

/** A pre-serialized answer: the deltas as JSON text, ready to wrap per request. */
interface Script {
  /** Bare deltas as JSON, or whole chunks as objects (filled in per request). */
  items: Array<{ deltaJson: string } | { chunk: Loose }>
  /** The fake adds role, finish and usage chunks (false for whole-chunk scripts). */
  wrap: boolean
  finishReason: string
  merged: ReturnType<typeof mergeChunks>
  /** The text pieces a `/v1/completions` answer streams. */
  textPieces: string[]
  /** A scripted `{ error }` item: the stream sends it after the items before it and ends (no finish chunk, no [DONE]). */
  errorJson: string | undefined
  /** Status of a non-streamed answer to an error script: `error.code` when it is an HTTP status, else 500. */
  errorStatus: number
}

const DEFAULTS: ResolvedOptions = {
  slots: 1,
  ttftMs: 0,
  tokenDelayMs: 0,
  tokens: 20,
  chunks: undefined,
  models: ['fake-model'],
  apiKey: undefined,
  failure: undefined,
  ignoreStream: false,
  embed: undefined,
  respond: undefined,
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  server: 'llama.cpp',
} as const

function fail(option: string, expected: string, value: unknown): never {
  throw new TypeError(`startFakeUpstream: option ${option} must be ${expected}, got ${JSON.stringify(value)}`)
}

function validate(options: FakeUpstreamOptions): void {
  const { slots, ttftMs, tokenDelayMs, tokens, chunks, models, failure, respond, apiKey } = options
  if (slots !== undefined && !(Number.isInteger(slots) && slots >= 1)) fail('slots', 'an integer >= 1', slots)
  for (const [name, value] of [['ttftMs', ttftMs], ['tokenDelayMs', tokenDelayMs]] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) fail(name, 'a number >= 0', value)
  }
  if (tokens !== undefined && !(Number.isInteger(tokens) && tokens >= 0)) fail('tokens', 'an integer >= 0', tokens)
  if (chunks !== undefined && !(Array.isArray(chunks) && chunks.every((c) => typeof c === 'object' && c !== null && !Array.isArray(c)))) {
    fail('chunks', 'an array of objects', chunks)
  }
  if (models !== undefined && !(Array.isArray(models) && models.length > 0 && models.every((m) => typeof m === 'string'))) {
    fail('models', 'a non-empty array of strings', models)
  }
  if (apiKey !== undefined && typeof apiKey !== 'string') fail('apiKey', 'a string', apiKey)
  if (respond !== undefined && typeof respond !== 'function') fail('respond', 'a function', typeof respond)
  if (options.embed !== undefined && typeof options.embed !== 'function') fail('embed', 'a function', typeof options.embed)
  if (failure === undefined) return
  const ok =
    (failure.kind === 'status' && Number.isInteger(failure.status) && failure.status >= 100 && failure.status <= 599) ||
    (failure.kind === 'drop' && Number.isInteger(failure.afterChunks) && failure.afterChunks >= 0) ||
    failure.kind === 'hang' ||
    failure.kind === 'hang-after-headers' ||
    (failure.kind === 'stall' && Number.isInteger(failure.afterChunks) && failure.afterChunks >= 0) ||
    (failure.kind === 'trickle' && Number.isInteger(failure.afterChunks) && failure.afterChunks >= 0 && Number.isFinite(failure.everyMs) && failure.everyMs > 0)
  if (!ok) fail('failure', "{kind:'status',status} | {kind:'drop',afterChunks} | {kind:'hang'} | {kind:'hang-after-headers'} | {kind:'stall',afterChunks} | {kind:'trickle',afterChunks,everyMs}", failure)
}

function resolve(base: ResolvedOptions, partial: FakeUpstreamOptions): ResolvedOptions {
  const next: Loose = { ...base }
  for (const [key, value] of Object.entries(partial)) {
    // An explicit `undefined` resets an option to its default (e.g. `failure: undefined`).
    next[key] = value === undefined ? (DEFAULTS as unknown as Loose)[key] : value
  }
  return next as unknown as ResolvedOptions
}

function buildScript(options: ResolvedOptions): Script {
  let source: Loose[] = options.chunks ?? Array.from({ length: options.tokens }, (_, i) => ({ content: i === 0 ? 'tok0' : ` tok${i}` }))
  const errorAt = source.findIndex((item) => 'error' in item && !('choices' in item))
  const error = errorAt < 0 ? undefined : source[errorAt]
  if (error !== undefined) source = source.slice(0, errorAt)
  const wrap = !source.some((item) => 'choices' in item)
  const items = source.map((item) => (wrap ? { deltaJson: JSON.stringify(item) } : { chunk: item }))
  const merged = mergeChunks(source)
  const finishReason = merged.finishReason ?? (merged.toolCalls.length > 0 ? 'tool_calls' : 'stop')
  const textPieces = source.flatMap((item) => {
    const content = chunkDelta(item).delta?.content
    return typeof content === 'string' && content !== '' ? [content] : []
  })
  const errorJson = error === undefined ? undefined : JSON.stringify({ error: error.error })
  const code = (error?.error as Loose | undefined)?.code
  const errorStatus = typeof code === 'number' && code >= 400 && code <= 599 ? code : 500
  return { items, wrap, finishReason, merged, textPieces, errorJson, errorStatus }
}

/** The delay before each event: time to first token before the first, token delay between tokens. */
function stepsOf(resolved: ResolvedOptions, prelude: string[], tokens: string[], epilogue: string[]): Array<{ text: string; delay: number }> {
  const steps: Array<{ text: string; delay: number }> = []
  for (const text of prelude) steps.push({ text, delay: steps.length === 0 ? resolved.ttftMs : 0 })
  for (const [i, text] of tokens.entries()) steps.push({ text, delay: i === 0 ? (prelude.length === 0 ? resolved.ttftMs : 0) : resolved.tokenDelayMs })
  for (const text of epilogue) steps.push({ text, delay: steps.length === 0 ? resolved.ttftMs : 0 })
  return steps
}

function usageOf(job: Job, completionTokens: number): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const body = job.record.body as Loose
  const prompt = JSON.stringify(body.messages ?? body.prompt ?? body.input ?? '')
  const promptTokens = Math.max(1, Math.ceil(prompt.length / 4))
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens }
}

function errorBody(status: number, message: string, type: string): string {
  return JSON.stringify({ error: { code: status, message, type } })
}

/**
 * Starts a fake llama.cpp server on `127.0.0.1:0`. Serves `POST /v1/chat/completions` (stream
 * and not), `POST /v1/completions`, `POST /v1/embeddings`, `GET /v1/models` and `GET /health`, each
 * also without the `/v1` prefix. Close it in `afterEach`.
 * @example
 * const upstream = await startFakeUpstream({ slots: 1, tokenDelayMs: 5 })
 * const client = new OpenAI({ baseURL: `${upstream.url}/v1`, apiKey: 'x', maxRetries: 0 })
 */
export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  validate(options)
  let current = resolve(DEFAULTS, options)
  let script: Script | undefined
  const requests: RecordedRequest[] = []
  const queue: Job[] = []
  const running = new Set<Job>()
  let busy: boolean[] = Array.from({ length: current.slots }, () => false)
  let seq = 0
  let startOrder = 0
  let maxConcurrency = 0
  let maxInFlight = 0
  let closing = false
  const listeners = new Set<() => void>()

  const notify = (): void => {
    maxInFlight = Math.max(maxInFlight, running.size + queue.length)
    for (const listener of [...listeners]) listener()
  }
  const scriptFor = (resolved: ResolvedOptions): Script => {
    if (resolved === current) return (script ??= buildScript(current))
    return buildScript(resolved)
  }

  /** Hands free slots to waiting jobs in arrival order; a job pinned by `id_slot` waits for its own slot. */
  let dispatching = false
  let dispatchAgain = false
  const dispatch = (): void => {
    // A job can end synchronously inside generate() (a drop at zero delay) and call dispatch()
    // again; run the loop once more instead of re-entering it.
    if (dispatching) {
      dispatchAgain = true
      return
    }
    dispatching = true
    try {
      do {
        dispatchAgain = false
        dispatchOnce()
      } while (dispatchAgain)
    } finally {
      dispatching = false
    }
  }
  const dispatchOnce = (): void => {
    for (let i = 0; i < queue.length; ) {
      const job = queue[i]!
      const pinned = job.record.idSlot !== undefined && job.record.idSlot >= 0 ? job.record.idSlot : undefined
      const slot = pinned ?? busy.indexOf(false)
      if (slot < 0 || slot >= busy.length || busy[slot] === true) {
        if (pinned === undefined) return // every slot is busy
        i++
        continue
      }
      queue.splice(i, 1)
      busy[slot] = true
      running.add(job)
      job.record.slot = slot
      job.record.state = 'running'
      job.record.startedAt = performance.now()
      job.record.startOrder = startOrder++
      maxConcurrency = Math.max(maxConcurrency, running.size)
      generate(job)
    }
  }

  /** Ends a job once: frees its slot (or its place in the queue) and wakes the next one. */
  const finish = (job: Job): void => {
    if (job.finished) return
    job.finished = true
    if (job.timer !== undefined) clearTimeout(job.timer)
    job.record.endedAt = performance.now()
    job.record.state = 'ended'
    if (running.delete(job)) {
      if (job.record.slot !== undefined) busy[job.record.slot] = false
    } else {
      const index = queue.indexOf(job)
      if (index >= 0) queue.splice(index, 1)
    }
    if (!closing) dispatch()
    notify()
  }

  const drop = (job: Job): void => {
    job.selfClosed = true
    job.outgoing.destroy()
    finish(job)
  }

  const writeHead = (job: Job, status: number, headers: http.OutgoingHttpHeaders): void => {
    job.record.status = status
    job.outgoing.writeHead(status, headers)
  }

  /** What the fake does once `limit` steps went out: drop the connection (the default), keep it silent, or trickle bytes. */
  const afterLimit = (job: Job): void => {
    const failure = job.options.failure
    if (failure?.kind === 'stall') return
    if (failure?.kind === 'trickle') {
      job.outgoing.write('data: {"trickle":"')
      job.timer = setInterval(() => {
        if (!job.finished) job.outgoing.write('x')
      }, failure.everyMs)
      return
    }
    drop(job)
  }

  /** Writes `steps` (each after its delay), then ends the response, or after `limit` steps does {@link afterLimit}. */
  const play = (job: Job, steps: Array<{ text: string; delay: number }>, limit: number | undefined): void => {
    const end = Math.min(limit ?? steps.length, steps.length)
    let index = 0
    const next = (): void => {
      job.timer = undefined
      if (job.finished) return
      let text = ''
      do text += steps[index++]!.text
      while (index < end && steps[index]!.delay === 0)
      if (job.record.status === undefined) writeHead(job, 200, SSE_HEADERS)
      if (index < end) {
        job.outgoing.write(text)
        job.timer = setTimeout(next, steps[index]!.delay)
      } else if (limit === undefined) {
        job.outgoing.end(text, () => finish(job))
      } else {
        job.outgoing.write(text, () => afterLimit(job))
      }
    }
    if (end === 0) {
      job.timer = setTimeout(() => {
        if (job.record.status === undefined && job.options.failure?.kind !== 'drop') writeHead(job, 200, SSE_HEADERS)
        afterLimit(job)
      }, steps[0]?.delay ?? 0)
      return
    }
    const first = steps[0]!.delay
    if (first === 0) next()
    else job.timer = setTimeout(next, first)
  }

  /** The SSE events of one streamed answer, with the delay before each. */
  const streamSteps = (job: Job, resolved: ResolvedOptions, prepared: Script): Array<{ text: string; delay: number }> => {
    const body = job.record.body as Loose
    const model = JSON.stringify(typeof body.model === 'string' ? body.model : resolved.models[0])
    const id = `"chatcmpl-fake-${job.record.seq}"`
    const created = Math.floor(Date.now() / 1000)
    const chat = job.kind === 'chat'
    const head = `data: {"id":${id},"object":"${chat ? 'chat.completion.chunk' : 'text_completion'}","created":${created},"model":${model},"system_fingerprint":"fake",`
    const event = (delta: string, finish: string | null): string =>
      chat
        ? `${head}"choices":[{"index":0,"delta":${delta},"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]}\n\n`
        : `${head}"choices":[{"text":${delta},"index":0,"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]}\n\n`
    const tokens: string[] = []
    if (!chat) {
      for (const piece of prepared.textPieces) tokens.push(event(JSON.stringify(piece), null))
    } else if (prepared.wrap) {
      for (const item of prepared.items) if ('deltaJson' in item) tokens.push(event(item.deltaJson, null))
    } else {
      const fill = { id: `chatcmpl-fake-${job.record.seq}`, object: 'chat.completion.chunk', created, model: JSON.parse(model) as string }
      for (const item of prepared.items) if ('chunk' in item) tokens.push(`data: ${JSON.stringify({ ...fill, ...item.chunk })}\n\n`)
    }
    const prelude = chat && prepared.wrap ? [event('{"role":"assistant","content":null}', null)] : []
    const epilogue: string[] = []
    if (prepared.errorJson !== undefined) {
      epilogue.push(`data: ${prepared.errorJson}\n\n`)
      return stepsOf(resolved, prelude, tokens, epilogue)
    }
    if (prepared.wrap || !chat) {
      epilogue.push(event(chat ? '{}' : '""', chat ? prepared.finishReason : 'stop'))
      const streamOptions = body.stream_options as Loose | undefined
      if (streamOptions?.include_usage === true) {
        const usage = JSON.stringify(usageOf(job, tokens.length))
        epilogue.push(`${head}"choices":[],"usage":${usage}}\n\n`)
      }
    }
    epilogue.push('data: [DONE]\n\n')
    return stepsOf(resolved, prelude, tokens, epilogue)
  }

  /** The whole JSON body of a non-streamed answer. */
  const completeBody = (job: Job, resolved: ResolvedOptions, prepared: Script): string => {
    const body = job.record.body as Loose
    const model = typeof body.model === 'string' ? body.model : resolved.models[0]
    const created = Math.floor(Date.now() / 1000)
    if (job.kind === 'embeddings') {
      const input = body.input
      const inputs = Array.isArray(input) ? input : [input]
      const data = inputs.map((value, index) => {
        const text = JSON.stringify(value) ?? ''
        const vector = resolved.embed !== undefined ? resolved.embed(typeof value === 'string' ? value : text) : Array.from({ length: 8 }, (_, d) => ((text.length * 31 + d * 17 + index) % 100) / 100)
        const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector
        return { object: 'embedding', index, embedding }
      })
      const usage = usageOf(job, 0)
      return JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: usage.prompt_tokens, total_tokens: usage.prompt_tokens } })
    }
    const id = `${job.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-fake-${job.record.seq}`
    if (job.kind === 'completions') {
      const choices = [{ text: prepared.textPieces.join(''), index: 0, logprobs: null, finish_reason: 'stop' }]
      return JSON.stringify({ id, object: 'text_completion', created, model, choices, usage: usageOf(job, prepared.textPieces.length) })
    }
    const { merged } = prepared
    const message: Loose = { role: 'assistant', content: merged.toolCalls.length > 0 && merged.content === '' ? null : merged.content }
    if (merged.reasoningContent !== '') message.reasoning_content = merged.reasoningContent
    if (merged.toolCalls.length > 0) {
      message.tool_calls = merged.toolCalls.map((call, i) => ({ ...call, id: call.id === '' ? `call_fake_${job.record.seq}_${i}` : call.id }))
    }
    const choices = [{ index: 0, message, finish_reason: prepared.finishReason }]
    const usage = merged.usage ?? usageOf(job, Math.max(merged.contentChunks, prepared.items.length))
    return JSON.stringify({ id, object: 'chat.completion', created, model, system_fingerprint: 'fake', choices, usage })
  }

  /** Runs a job that holds a slot: the answer, or its failure. */
  const generate = (job: Job): void => {
    const resolved = job.options
    const failure = resolved.failure
    notify()
    if (failure?.kind === 'hang') return
    const stream = job.record.stream && job.kind !== 'embeddings' && !resolved.ignoreStream
    if (failure?.kind === 'hang-after-headers') {
      writeHead(job, 200, stream ? SSE_HEADERS : { 'content-type': 'application/json; charset=utf-8', server: 'llama.cpp' })
      job.outgoing.flushHeaders()
      return
    }
    const prepared = scriptFor(resolved)
    const limit = failure?.kind === 'drop' || failure?.kind === 'stall' || failure?.kind === 'trickle' ? failure.afterChunks : undefined
    if (stream) {
      play(job, streamSteps(job, resolved, prepared), limit)
      return
    }
    const errorJson = job.kind === 'embeddings' ? undefined : prepared.errorJson
    const failed = errorJson !== undefined
    const text = errorJson ?? completeBody(job, resolved, prepared)
    const answer = (): void => {
      job.timer = undefined
      if (job.finished) return
      if (limit === 0) return afterLimit(job)
      const length = Buffer.byteLength(text)
      writeHead(job, failed ? prepared.errorStatus : 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': length, server: 'llama.cpp' })
      // A string (not a Buffer) goes out in the same write as the headers: one packet, as llama.cpp sends it.
      if (limit === undefined) job.outgoing.end(text, () => finish(job))
      else job.outgoing.write(text.slice(0, text.length >> 1), () => afterLimit(job))
    }
    const tokenCount = job.kind === 'embeddings' ? 0 : Math.max(0, prepared.items.length - 1)
    const delay = resolved.ttftMs + resolved.tokenDelayMs * tokenCount
    if (delay === 0) answer()
    else job.timer = setTimeout(answer, delay)
  }

  const sendJson = (record: RecordedRequest, outgoing: http.ServerResponse, status: number, text: string, headers?: Record<string, string>): void => {
    record.status = status
    record.startedAt ??= performance.now()
    outgoing.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), server: 'llama.cpp', ...headers })
    outgoing.end(text, () => {
      record.endedAt = performance.now()
      record.state = 'ended'
      notify()
    })
  }

  const handle = (incoming: http.IncomingMessage, outgoing: http.ServerResponse, raw: string): void => {
    const path = incoming.url ?? '/'
    const pathname = path.split('?', 1)[0]!.replace(/^\/v1(?=\/)/, '')
    let body: unknown = raw === '' ? undefined : raw
    let badJson = false
    if (raw !== '') {
      try {
        body = JSON.parse(raw)
      } catch {
        badJson = true
      }
    }
    const bodyObject = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Loose) : undefined
    const record: RecordedRequest = {
      seq: seq++,
      method: incoming.method ?? 'GET',
      path,
      headers: incoming.headers,
      body,
      stream: bodyObject?.stream === true,
      receivedAt: performance.now(),
      startedAt: undefined,
      endedAt: undefined,
      startOrder: undefined,
      slot: undefined,
      idSlot: typeof bodyObject?.id_slot === 'number' ? bodyObject.id_slot : undefined,
      status: undefined,
      closedByClient: false,
      state: 'waiting',
    }
    requests.push(record)
    const method = record.method
    if (method === 'GET' && pathname === '/health') return sendJson(record, outgoing, 200, '{"status":"ok"}')
    if (method === 'GET' && pathname === '/models') {
      const created = Math.floor(Date.now() / 1000)
      const data = current.models.map((id) => ({ id, object: 'model', created, owned_by: 'llamacpp', meta: null }))
      return sendJson(record, outgoing, 200, JSON.stringify({ object: 'list', data }))
    }
    const kind = pathname === '/chat/completions' ? 'chat' : pathname === '/completions' ? 'completions' : pathname === '/embeddings' ? 'embeddings' : undefined
    if (method !== 'POST' || kind === undefined) {
      return sendJson(record, outgoing, 404, errorBody(404, 'File Not Found', 'not_found_error'))
    }
    if (current.apiKey !== undefined && incoming.headers.authorization !== `Bearer ${current.apiKey}`) {
      return sendJson(record, outgoing, 401, errorBody(401, 'Invalid API Key', 'authentication_error'))
    }
    if (badJson || bodyObject === undefined) {
      return sendJson(record, outgoing, 400, errorBody(400, 'request body is not a JSON object', 'invalid_request_error'))
    }
    if (record.idSlot !== undefined && record.idSlot >= current.slots) {
      return sendJson(record, outgoing, 400, errorBody(400, `id_slot ${record.idSlot} is out of range (slots: ${current.slots})`, 'invalid_request_error'))
    }
    let resolved = current
    try {
      const override = current.respond?.(record)
      if (override !== undefined) {
        validate(override)
        resolved = resolve(current, override)
      }
    } catch (error) {
      // A broken `respond` fails this request loudly instead of crashing the test process.
      const message = `fake upstream respond() threw: ${error instanceof Error ? error.message : String(error)}`
      return sendJson(record, outgoing, 500, errorBody(500, message, 'server_error'))
    }
    if (resolved.failure?.kind === 'status') {
      const { status, body: failureBody, headers } = resolved.failure
      const text =
        failureBody === undefined ? errorBody(status, `fake upstream failure ${status}`, status >= 500 ? 'server_error' : 'invalid_request_error')
        : typeof failureBody === 'string' ? failureBody
        : JSON.stringify(failureBody)
      return sendJson(record, outgoing, status, text, headers)
    }
    const job: Job = { record, outgoing, options: resolved, kind, selfClosed: false, finished: false, timer: undefined }
    // The client hung up (while waiting or running): record it, free the slot at once, stop writing.
    outgoing.once('close', () => {
      if (job.finished) return
      if (!job.selfClosed && !closing && !outgoing.writableFinished) record.closedByClient = true
      finish(job)
    })
    queue.push(job)
    notify()
    dispatch()
  }

  const server = http.createServer({ keepAliveTimeout: 30_000, requestTimeout: 0 }, (incoming, outgoing) => {
    const parts: Buffer[] = []
    incoming.on('data', (part: Buffer) => parts.push(part))
    incoming.on('end', () => handle(incoming, outgoing, parts.length === 0 ? '' : Buffer.concat(parts).toString('utf8')))
    incoming.on('error', () => outgoing.destroy())
  })
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', rejectListen)
      resolveListen()
    })
  })
  const { port } = server.address() as AddressInfo
  let closed: Promise<void> | undefined

  const upstream: FakeUpstream = {
    url: `http://127.0.0.1:${port}`,
    requests,
    get active() {
      return running.size
    },
    get maxConcurrency() {
      return maxConcurrency
    },
    get waiting() {
      return queue.length
    },
    get maxInFlight() {
      return maxInFlight
    },
    setOptions(partial) {
      validate(partial)
      current = resolve(current, partial)
      script = undefined
      if (current.slots > busy.length) busy = [...busy, ...Array.from({ length: current.slots - busy.length }, () => false)]
      else if (current.slots < busy.length && busy.slice(current.slots).every((b) => !b)) busy = busy.slice(0, current.slots)
      dispatch()
      notify()
    },
    reset() {
      requests.length = 0
      maxConcurrency = running.size
      maxInFlight = running.size + queue.length
    },
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise<void>((resolveWait, rejectWait) => {
        let timer: NodeJS.Timeout | undefined
        let settled = false
        const settle = (error: Error | undefined): void => {
          if (settled) return
          settled = true
          listeners.delete(check)
          clearTimeout(timer)
          if (error === undefined) resolveWait()
          else rejectWait(error)
        }
        const check = (): void => {
          try {
            if (predicate(upstream)) settle(undefined)
          } catch (error) {
            settle(error instanceof Error ? error : new Error(String(error)))
          }
        }
        check()
        if (settled) return
        listeners.add(check)
        timer = setTimeout(() => {
          const summary = `active ${running.size}, waiting ${queue.length}, maxConcurrency ${maxConcurrency}, requests ${requests.length}`
          settle(new Error(`fake upstream waitFor timed out after ${timeoutMs} ms (${summary})`))
        }, timeoutMs)
      })
    },
    close() {
      closed ??= new Promise<void>((resolveClose) => {
        closing = true
        for (const job of [...running, ...queue]) {
          job.selfClosed = true
          finish(job)
        }
        server.close(() => resolveClose())
        server.closeAllConnections()
      })
      return closed
    },
  }
  return upstream
}
