/**
 * The endpoint table: every fact the gateway knows about a `POST /v1/*` path, in one place.
 * Routing, the call plan's stages and the model call read it; nothing else knows path names.
 * @module
 */
import type { JobClass } from '../queue/queue-scheduler.js'
import type { ToolMode } from './gateway-options.js'

/** What a model-calling path means. */
export interface Endpoint {
  /** The body is a chat completion request (validated, transformed, answered as chat). */
  readonly chat: boolean
  /** Priority class unless the request's `X-Job-Kind` says otherwise. */
  readonly jobClass: JobClass
  /** A tool mode this path forces (over `X-Tool-Mode` and the default); undefined: not forced. */
  readonly toolMode: ToolMode | undefined
  /** Path below the upstream's API root, e.g. `/chat/completions`. */
  readonly upstreamPath: string
}

const chat = (jobClass: JobClass, toolMode?: ToolMode): Endpoint => Object.freeze({ chat: true, jobClass, toolMode, upstreamPath: '/chat/completions' })

/** The paths with a meaning of their own. */
export const ENDPOINTS: ReadonlyMap<string, Endpoint> = new Map([
  ['/v1/chat/completions', chat('interactive')],
  ['/v1/chat/completions_passthrough', chat('interactive', 'passthrough')],
  // Agents: batch class, and the gateway runs the tools (execute; passthrough when no tools are configured).
  ['/v1/agent/chat/completions', chat('batch', 'execute')],
])

/** Other `/v1/*` POSTs (completions, embeddings, …): queued as interactive jobs and proxied unchanged. */
const proxied = new Map<string, Endpoint>()

/** The endpoint of a `POST` path, or undefined when the gateway has no such route (not under `/v1/`). */
export function endpointFor(path: string): Endpoint | undefined {
  const known = ENDPOINTS.get(path)
  if (known !== undefined) return known
  if (!path.startsWith('/v1/')) return undefined
  let endpoint = proxied.get(path)
  if (endpoint === undefined) {
    endpoint = Object.freeze({ chat: false, jobClass: 'interactive', toolMode: undefined, upstreamPath: path.slice('/v1'.length) })
    // Bounded: arbitrary paths from clients must not grow the cache for ever.
    if (proxied.size < 256) proxied.set(path, endpoint)
  }
  return endpoint
}
