/**
 * A request's priority class: `X-Job-Kind`, else its endpoint's class (endpoints.ts).
 * @module
 */
import type { JobClass } from '../queue/queue-scheduler.js'
import { endpointFor } from './endpoints.js'
import type { HeaderLookup } from './request-access.js'

const BATCH_KINDS = new Set(['agent', 'agent_call', 'repo_agent', 'batch'])

/** True when `X-Job-Kind` is `agent`, `agent_call`, `repo_agent` or `batch` (case-insensitive): the job is batch work whatever its endpoint. */
export function isBatchKind(headers: HeaderLookup): boolean {
  const kind = headers.get('x-job-kind')
  return kind !== null && BATCH_KINDS.has(kind.trim().toLowerCase())
}

/** Input of {@link jobClassFor}. */
export interface JobClassInput {
  headers: HeaderLookup
  /** URL path of the request, e.g. `/v1/agent/chat/completions` (a prefix before `/v1/` and a trailing slash are ignored). */
  path: string
}

/**
 * `batch` for header `X-Job-Kind` `agent`, `agent_call`, `repo_agent` or `batch` (case-insensitive), or
 * for an endpoint whose class is batch (`POST /v1/agent/chat/completions`); else `interactive`.
 */
export function jobClassFor({ headers, path }: JobClassInput): JobClass {
  if (isBatchKind(headers)) return 'batch'
  const trimmed = path.replace(/\/+$/, '')
  const api = trimmed.indexOf('/v1/')
  return endpointFor(api === -1 ? trimmed : trimmed.slice(api))?.jobClass ?? 'interactive'
}
