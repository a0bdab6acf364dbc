/**
 * What every request's call plan and model call share: the options, the clock, the upstreams,
 * the scheduler, health, the model catalog, job records and the stages. Built once by
 * `createGateway()`.
 * @module
 */
import type { QueueScheduler } from '../queue/queue-scheduler.js'
import type { CallStage } from './call-plan.js'
import type { Clock } from './clock.js'
import type { ResolvedGatewayOptions } from './gateway-options.js'
import type { JobRegistry } from './job-registry.js'
import type { ModelCatalog } from './model-catalog.js'
import type { RunningJobs } from './running-jobs.js'
import type { Upstream } from './upstream.js'
import type { UpstreamHealth } from './upstream-health.js'

/** The gateway's shared pieces. */
export interface GatewayServices {
  readonly options: ResolvedGatewayOptions
  readonly clock: Clock
  readonly upstreams: ReadonlyMap<string, Upstream>
  readonly scheduler: QueueScheduler
  readonly health: UpstreamHealth
  readonly catalog: ModelCatalog
  readonly jobs: JobRegistry
  readonly running: RunningJobs
  /** The call plan's stages, in order. */
  readonly stages: readonly CallStage[]
}
