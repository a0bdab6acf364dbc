/**
 * Stage: the job's priority class (the gateway key's class, else `X-Job-Kind`, else the endpoint's
 * class) and its sticky thread
 * key, and with `routing: 'cache-aware'` its prompt's prefix hashes. Sets `jobClass`, `threadKey` and `prefix`; reads the client's body before any stage rewrites it, so
 * a conversation keeps its key whatever later stages inject.
 * @module
 */
import { prefixHashesOf } from '../../queue/prefix-hashes.js'
import { threadKeyFor } from '../../queue/thread-key.js'
import type { CallPlan, CallStage } from '../call-plan.js'
import { isBatchKind } from '../job-class.js'

/** Options of {@link createRouteJobStage}. */
export interface RouteJobStageOptions {
  /** Header checked first for a conversation id. */
  stickyHeader: string
  /**
   * False when there is no routing choice (one upstream, no slot affinity): the key is then
   * left empty and no hash is computed.
   */
  routesByKey: boolean
  /** `routing: 'cache-aware'` (with a routing choice): hash the prompt's prefix blocks into `plan.prefix`. @default false */
  prefixHashes?: boolean | undefined
}

/** The job-routing stage. */
export function createRouteJobStage(options: RouteJobStageOptions): CallStage {
  const { stickyHeader, routesByKey, prefixHashes = false } = options
  return {
    name: 'route-job',
    prepare(plan: CallPlan): void {
      plan.jobClass = plan.key?.class ?? (isBatchKind(plan.headers) ? 'batch' : plan.endpoint.jobClass)
      if (routesByKey) plan.threadKey = threadKeyFor({ headers: plan.headers, body: plan.body, stickyHeader })
      if (prefixHashes) plan.prefix = prefixHashesOf(plan.body['messages'])
    },
  }
}
