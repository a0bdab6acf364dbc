/**
 * The active health check of one upstream: `GET {origin}/health` (llama.cpp answers 200 when it
 * serves, 503 while its model loads), and on servers without that path (404) `GET {apiRoot}/models`.
 * A probe goes through the upstream's own dispatcher (its keep-alive pool) and never rejects.
 * @module
 */
import { QueuegateError } from '../errors.js'
import { startUpstreamCall, upstreamFailure } from './upstream.js'
import type { Upstream, UpstreamCall, UpstreamResponse } from './upstream.js'

/** What one probe found. */
export type ProbeResult =
  | { state: 'healthy' }
  /** The server answers but cannot serve yet (llama.cpp's 503 while the model loads). */
  | { state: 'loading'; error: string }
  | { state: 'down'; error: string }

/** Probes an upstream; `signal` ends the probe (it then resolves `down`). Never rejects. */
export type UpstreamProbe = (upstream: Upstream, signal: AbortSignal) => Promise<ProbeResult>

/** Options of {@link createUpstreamProbe}. */
export interface UpstreamProbeOptions {
  /** undici's headers and body timeout of a probe, in ms (a backstop: the caller's `signal` is the probe's deadline). */
  timeoutMs: number
}

/** Longest probe answer read (the rest is dropped with the connection). */
const MAX_PROBE_BYTES = 64 * 1024

/**
 * The default probe. It remembers the upstreams whose `/health` answered 404 and asks their
 * `/models` from then on (one request per probe instead of two).
 */
export function createUpstreamProbe(options: UpstreamProbeOptions): UpstreamProbe {
  const { timeoutMs } = options
  const withoutHealth = new WeakSet<Upstream>()
  // `startUpstreamCall` sends paths below the API root; `/health` lives at the origin. One
  // copy per upstream with an empty root keeps its header cache (keyed by the object) warm.
  const atOrigin = new WeakMap<Upstream, Upstream>()
  const originOf = (upstream: Upstream): Upstream => {
    let rebased = atOrigin.get(upstream)
    if (rebased === undefined) {
      rebased = { ...upstream, apiRoot: '' }
      atOrigin.set(upstream, rebased)
    }
    return rebased
  }

  return async (upstream, signal) => {
    try {
      if (!withoutHealth.has(upstream)) {
        const { status, text } = await get(originOf(upstream), { path: '/health', method: 'GET', timeoutMs }, signal)
        if (status >= 200 && status < 300) return { state: 'healthy' }
        if (status === 503) return { state: 'loading', error: `/health answered 503${detail(text)}` }
        if (status !== 404) return { state: 'down', error: `/health answered ${status}${detail(text)}` }
        withoutHealth.add(upstream)
      }
      const { status, text } = await get(upstream, { path: '/models', method: 'GET', timeoutMs }, signal)
      if (status >= 200 && status < 300) return { state: 'healthy' }
      if (status === 503) return { state: 'loading', error: `${upstream.apiRoot}/models answered 503${detail(text)}` }
      return { state: 'down', error: `${upstream.apiRoot}/models answered ${status}${detail(text)}` }
    } catch (error) {
      return { state: 'down', error: (QueuegateError.isInstance(error) ? error : upstreamFailure(upstream, error)).message }
    }
  }
}

/** One GET, its whole (capped) body read; `signal` aborts it. */
async function get(upstream: Upstream, call: UpstreamCall, signal: AbortSignal): Promise<{ status: number; text: string }> {
  signal.throwIfAborted()
  const handle = startUpstreamCall(upstream, call)
  const onAbort = (): void => handle.abort(abortReason(signal))
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const response: UpstreamResponse = await handle.response
    const text = await response.body.text(MAX_PROBE_BYTES).catch(() => '')
    return { status: response.status, text }
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('The probe was aborted.')
}

/** A short excerpt of an error answer, for `last_error`. */
function detail(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, ' ').slice(0, 200)
  return trimmed === '' ? '' : `: ${trimmed}`
}
