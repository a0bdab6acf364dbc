/**
 * CORS, only where configured (`corsOrigins`, `--cors-origin`): a browser page from a listed
 * origin gets its preflight answered (204) and the `Access-Control-*` headers on every answer,
 * errors included; any other origin gets none (its preflight 403), and without the option no
 * response carries them. Preflights are answered before keys are checked (browsers send none
 * with them); the real request then needs its key as any other.
 * @module
 */
import { QueuegateError } from '../errors.js'
import type { HeaderLookup } from './bridge-protocol.js'
import { lightResponse, setResponseHeader } from './light-response.js'

/** The origins allowed, or every origin. */
export interface CorsPolicy {
  readonly any: boolean
  readonly origins: ReadonlySet<string>
}

/** Validates the `corsOrigins` option; undefined (no CORS) when absent or empty. */
export function resolveCorsOrigins(origins: readonly string[] | undefined): CorsPolicy | undefined {
  if (origins === undefined) return undefined
  if (!Array.isArray(origins)) throw new TypeError(`corsOrigins: expected a list of origins, got ${JSON.stringify(origins)}`)
  if (origins.length === 0) return undefined
  const allowed = new Set<string>()
  let any = false
  for (const entry of origins) {
    const origin = typeof entry === 'string' ? entry.trim().replace(/\/+$/, '') : ''
    if (origin === '*') {
      any = true
      continue
    }
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {
      parsed = undefined
    }
    if (parsed === undefined || parsed.origin !== origin || parsed.origin === 'null') {
      throw new TypeError(`corsOrigins: ${JSON.stringify(entry)} is not an origin (expected e.g. http://localhost:3000 or https://app.example.org, no path; or *)`)
    }
    allowed.add(origin)
  }
  return { any, origins: allowed }
}

/** The request's `Origin` when the policy allows it. */
function allowedOrigin(policy: CorsPolicy, headers: HeaderLookup): string | undefined {
  const origin = headers.get('origin')
  if (origin === null) return undefined
  return policy.any || policy.origins.has(origin) ? origin : undefined
}

/** True for a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`). */
export function isPreflight(method: string, headers: HeaderLookup): boolean {
  return method === 'OPTIONS' && headers.get('access-control-request-method') !== null && headers.get('origin') !== null
}

/** The answer to a preflight: 204 with what the page may send, or 403 for an origin not listed. */
export function preflightResponse(policy: CorsPolicy, headers: HeaderLookup): Response {
  const origin = allowedOrigin(policy, headers)
  if (origin === undefined) {
    throw new QueuegateError(`Origin ${JSON.stringify(headers.get('origin')?.slice(0, 100))} may not call this gateway from a browser (corsOrigins, --cors-origin).`, {
      status: 403,
      type: 'invalid_request_error',
      code: 'origin_not_allowed',
    })
  }
  const response: Record<string, string> = {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-max-age': '600',
    vary: 'Origin, Access-Control-Request-Headers',
  }
  const requested = headers.get('access-control-request-headers')
  if (requested !== null) response['access-control-allow-headers'] = requested
  return lightResponse(null, 204, response)
}

/** Adds the CORS headers to an answer for an allowed origin (nothing for others). */
export function addCorsHeaders(policy: CorsPolicy, headers: HeaderLookup, response: Response): void {
  const origin = allowedOrigin(policy, headers)
  if (origin === undefined) return
  setResponseHeader(response, 'access-control-allow-origin', origin)
  setResponseHeader(response, 'access-control-expose-headers', 'x-queuegate-job-id, retry-after')
  setResponseHeader(response, 'vary', 'Origin')
}
