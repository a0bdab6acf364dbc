/**
 * An upstream LLM server: where its OpenAI API lives, how many requests it takes at once, and
 * the undici Pool (keep-alive connections) that talks to it.
 * @module
 */
import { Pool, errors as undiciErrors } from 'undici'
import type { Dispatcher } from 'undici'
import { AbortError, QueuegateError, UpstreamError, UpstreamTimeoutError } from '../errors.js'
import { UpstreamBody } from './upstream-body.js'
import type { BodyController } from './upstream-body.js'

/** How one upstream server is configured. */
export interface UpstreamOptions {
  /**
   * Where the server is: a base URL (`http://gpu1:8080`), its OpenAI root (`http://gpu1:8080/v1`),
   * or a full `…/v1/chat/completions` URL (the first version's `LLM_UPSTREAMS` form).
   */
  url: string
  /** Requests it serves at once (llama.cpp `--parallel`). @default 1 */
  slots?: number | undefined
  /**
   * Sent upstream as `Authorization: Bearer …`. (A user and password in `url`, `http://user:pass@host`,
   * are sent as Basic auth instead, and shown nowhere; an upstream cannot have both.)
   */
  apiKey?: string | undefined
  /** Model ids this upstream serves; jobs for other models never go here. @default all */
  models?: string[] | undefined
  /** llama.cpp: pin each conversation to one slot (`id_slot`) so its KV cache is reused. @default false */
  slotAffinity?: boolean | undefined
  /** A name for logs and `/healthz`. @default the URL's origin and API root */
  id?: string | undefined
}

/** An upstream after validation: where to send what. */
export interface Upstream {
  readonly id: string
  readonly origin: string
  /** Path of the OpenAI API root, e.g. `/v1` (no trailing slash). */
  readonly apiRoot: string
  readonly slots: number
  readonly apiKey: string | undefined
  /** The `Authorization` header sent upstream: Bearer for `apiKey`, Basic for a URL's user and password. */
  readonly authorization: string | undefined
  readonly models: string[] | undefined
  readonly slotAffinity: boolean
  readonly dispatcher: Dispatcher
}

/**
 * Splits an upstream URL into origin and API root. `http://h:8080`, `http://h:8080/v1` and
 * `http://h:8080/v1/chat/completions` all give origin `http://h:8080` and root `/v1`.
 */
export function parseUpstreamUrl(url: string): { origin: string; apiRoot: string; basicAuth: string | undefined } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TypeError(`upstreams: ${JSON.stringify(redactUrl(url))} is not a URL (expected e.g. http://127.0.0.1:8080/v1)`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`upstreams: ${JSON.stringify(redactUrl(url))} must be an http:// or https:// URL`)
  }
  let path = parsed.pathname.replace(/\/+$/, '')
  for (const suffix of ['/chat/completions', '/completions', '/embeddings', '/models']) {
    if (path.endsWith(suffix)) {
      path = path.slice(0, -suffix.length)
      break
    }
  }
  if (!path.endsWith('/v1')) path = `${path}/v1`
  // `origin` has no user or password: they go as a header, never in an id, a log line or an error.
  const basicAuth = parsed.username === '' && parsed.password === '' ? undefined : `Basic ${base64(`${percentDecoded(parsed.username)}:${percentDecoded(parsed.password)}`)}`
  return { origin: parsed.origin, apiRoot: path, basicAuth }
}

/** The URL with its password (if any) replaced by `***`, for messages: `http://user:***@host/v1`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':')
    return `${scheme}${colon === -1 ? userinfo : userinfo.slice(0, colon)}:***@`
  })
}

/** True when the URL carries a user or password (`http://user:pass@host`). */
export function hasUrlCredentials(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#@]*@/i.test(url)
}

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

function base64(text: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** Options of {@link createUpstream} that apply to every upstream. */
export interface UpstreamPoolOptions {
  /** Time to wait for the response headers, and between two body chunks. */
  readTimeoutMs: number
  /** Time to wait for a TCP connection. */
  connectTimeoutMs: number
  /** Builds the dispatcher (test seam). @default an undici Pool */
  dispatcherFactory?: ((origin: string, options: Pool.Options) => Dispatcher) | undefined
}

/** Validates an upstream's options and opens its Pool. */
export function createUpstream(options: UpstreamOptions, poolOptions: UpstreamPoolOptions): Upstream {
  const { url, slots = 1, apiKey, models, slotAffinity = false } = options
  const { origin, apiRoot, basicAuth } = parseUpstreamUrl(url)
  const shown = JSON.stringify(redactUrl(url))
  if (!Number.isInteger(slots) || slots < 1) {
    throw new TypeError(`upstreams[${shown}].slots: expected a whole number >= 1, got ${JSON.stringify(slots)}`)
  }
  if (models !== undefined && (!Array.isArray(models) || models.some((model) => typeof model !== 'string' || model === ''))) {
    throw new TypeError(`upstreams[${shown}].models: expected a list of model ids, got ${JSON.stringify(models)}`)
  }
  if (basicAuth !== undefined && apiKey !== undefined) {
    throw new TypeError(`upstreams[${shown}]: has a user and password in its URL and an apiKey; give one (the password is sent as Basic auth, the key as Bearer)`)
  }
  const poolConfig: Pool.Options = {
    // A few spare connections beyond the slots for /v1/models and the non-queued proxy calls.
    connections: slots + 4,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: poolOptions.readTimeoutMs,
    bodyTimeout: poolOptions.readTimeoutMs,
    connectTimeout: poolOptions.connectTimeoutMs,
  }
  const dispatcher = poolOptions.dispatcherFactory?.(origin, poolConfig) ?? new Pool(origin, poolConfig)
  return {
    id: options.id ?? `${origin}${apiRoot}`,
    origin,
    apiRoot,
    slots,
    apiKey,
    authorization: basicAuth ?? (apiKey === undefined ? undefined : `Bearer ${apiKey}`),
    models: models && models.length > 0 ? [...models] : undefined,
    slotAffinity,
    dispatcher,
  }
}

/** What {@link callUpstream} sends. */
export interface UpstreamCall {
  /** Path below the API root, e.g. `/chat/completions`. */
  path: string
  method?: 'GET' | 'POST' | undefined
  body?: string | undefined
  /** `accept` header. */
  accept?: string | undefined
  /** Overrides the pool's read timeout for this call. */
  timeoutMs?: number | undefined
}

/** The upstream's answer; `body` must be consumed or destroyed. */
export interface UpstreamResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: UpstreamBody
}

/** A call on its way: its answer, and how to stop it. */
export interface UpstreamCallHandle {
  /** Resolves on the response headers; network failures reject with a {@link QueuegateError}. */
  response: Promise<UpstreamResponse>
  /**
   * Aborts the call: before the headers, `response` rejects with `reason`; after them, the body
   * fails with it (a consumer that wants nothing more calls `body.destroy()` instead). After
   * the body ended it does nothing.
   */
  abort(reason: Error): void
}

/**
 * Sends one request to an upstream: an undici dispatch with its own handler, whose body is pushed
 * to one consumer (see {@link UpstreamBody}). Aborting goes through the returned handle rather
 * than an `AbortSignal`: a listener on a signal per call showed as a large share of the
 * per-request cost under load.
 */
export function startUpstreamCall(upstream: Upstream, call: UpstreamCall): UpstreamCallHandle {
  let handler!: CallHandler
  const response = new Promise<UpstreamResponse>((resolve, reject) => {
    handler = new CallHandler(upstream, resolve, reject)
  })
  const options: Dispatcher.DispatchOptions = {
    origin: upstream.origin,
    path: `${upstream.apiRoot}${call.path}`,
    method: call.method ?? 'POST',
    headers: requestHeaders(upstream, call.accept ?? 'application/json', call.body !== undefined),
    body: call.body,
  }
  if (call.timeoutMs !== undefined) {
    options.headersTimeout = call.timeoutMs
    options.bodyTimeout = call.timeoutMs
  }
  try {
    upstream.dispatcher.dispatch(options, handler)
  } catch (error) {
    handler.onResponseError(undefined, error as Error)
  }
  return { response, abort: (reason) => handler.abort(reason) }
}

/** Frozen header objects per upstream and `accept`, without and with a body: undici only reads them. */
const headerCache = new WeakMap<Upstream, Map<string, [Readonly<Record<string, string>>, Readonly<Record<string, string>>]>>()

function requestHeaders(upstream: Upstream, accept: string, hasBody: boolean): Readonly<Record<string, string>> {
  let byAccept = headerCache.get(upstream)
  if (byAccept === undefined) {
    byAccept = new Map()
    headerCache.set(upstream, byAccept)
  }
  let pair = byAccept.get(accept)
  if (pair === undefined) {
    const build = (body: boolean): Readonly<Record<string, string>> => {
      const built: Record<string, string> = { accept }
      if (body) built['content-type'] = 'application/json'
      if (upstream.authorization !== undefined) built.authorization = upstream.authorization
      return Object.freeze(built)
    }
    pair = [build(false), build(true)]
    byAccept.set(accept, pair)
  }
  return pair[hasBody ? 1 : 0]
}

/** Sends one request to an upstream and resolves on its response headers (see {@link startUpstreamCall}). */
export function callUpstream(upstream: Upstream, call: UpstreamCall): Promise<UpstreamResponse> {
  return startUpstreamCall(upstream, call).response
}

/** undici's dispatch controller, as the handler sees it. */
type DispatchController = BodyController & { readonly aborted?: boolean }

/**
 * The dispatch handler of one upstream call (undici's controller-based handler API). undici
 * keeps finished requests, and with them their handlers, in each connection's queue for a
 * while (up to 256 per connection), so a settled handler lets go of everything it held: the
 * body, its consumer (the relay, the client's response) and the promise callbacks. Without
 * that, every answer survived several garbage collections.
 */
class CallHandler {
  readonly #upstream: Upstream
  #resolve: ((response: UpstreamResponse) => void) | undefined
  #reject: ((error: QueuegateError) => void) | undefined
  #body: UpstreamBody | undefined = new UpstreamBody()
  #controller: DispatchController | undefined
  #started = false
  /** The request went out in full (undici's `onRequestSent`): a failure from now on is not a connect failure. */
  #sent = false
  #abortReason: Error | undefined

  constructor(upstream: Upstream, resolve: (response: UpstreamResponse) => void, reject: (error: QueuegateError) => void) {
    this.#upstream = upstream
    this.#resolve = resolve
    this.#reject = reject
  }

  onRequestStart(controller: DispatchController): void {
    this.#controller = controller
    this.#body?.attach(controller)
    if (this.#abortReason !== undefined) controller.abort(this.#abortReason)
  }

  onRequestSent(): void {
    this.#sent = true
  }

  onResponseStart(_controller: DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200 || this.#started || this.#body === undefined) return
    this.#started = true
    this.#resolve?.({ status: statusCode, headers, body: this.#body })
  }

  onResponseData(controller: DispatchController, chunk: Uint8Array): void {
    if (this.#body !== undefined && !this.#body.push(chunk)) controller.pause()
  }

  onResponseEnd(): void {
    const body = this.#body
    this.#settle()
    body?.finish()
  }

  onResponseError(_controller: DispatchController | undefined, error: Error): void {
    const body = this.#body
    const reject = this.#reject
    const started = this.#started
    this.#settle()
    const failure = upstreamFailure(this.#upstream, error, this.#sent || started)
    if (started) body?.fail(failure)
    else reject?.(failure)
  }

  abort(reason: Error): void {
    if (this.#body === undefined || this.#abortReason !== undefined) return
    this.#abortReason = reason
    // Not on a connection yet: onRequestStart aborts it as soon as undici hands it one.
    this.#controller?.abort(reason)
  }

  #settle(): void {
    this.#body = undefined
    this.#resolve = undefined
    this.#reject = undefined
    this.#controller = undefined
  }
}

/**
 * Maps an undici or network error to the error the client sees (502, 504, or abort). `sent`: the
 * request had gone out in full. Only a failure before that is `upstream_unreachable` (nothing
 * reached the server: the job may run elsewhere as if it never ran); a reset or close after it
 * is `upstream_reset` (the server may have started on it: it is retried only under the retry rule).
 */
export function upstreamFailure(upstream: Pick<Upstream, 'id'>, error: unknown, sent = false): QueuegateError {
  if (QueuegateError.isInstance(error)) return error
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new UpstreamTimeoutError(`Upstream ${upstream.id} did not answer in time (${message}).`, error)
  }
  if (error instanceof undiciErrors.RequestAbortedError || code === 'UND_ERR_ABORTED' || (error instanceof Error && error.name === 'AbortError')) {
    return new AbortError('The request was aborted.', error)
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new UpstreamError(`Upstream ${upstream.id} could not be reached: connect timeout.`, { code: 'upstream_unreachable', cause: error })
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'EAI_AGAIN' || ((code === 'ECONNRESET' || code === 'EPIPE') && !sent)) {
    return new UpstreamError(`Upstream ${upstream.id} could not be reached: ${message} (${String(code)}).`, { code: 'upstream_unreachable', cause: error })
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') {
    return new UpstreamError(`Upstream ${upstream.id} closed the connection after the request was sent (${message}).`, { code: 'upstream_reset', cause: error })
  }
  return new UpstreamError(`Upstream ${upstream.id} failed: ${message}.`, { cause: error })
}
