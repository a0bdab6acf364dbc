/**
 * queuegate/server: the node:http bridge for `gateway.fetch` and a ready server.
 * @module
 */
import '../node-version-guard.js'
export { createRequestListener } from './request-listener.js'
export type { FetchHandler, RequestListener, RequestListenerOptions } from './request-listener.js'
export { serve } from './serve.js'
export type { RunningServer, ServeOptions } from './serve.js'
export { serveMetrics } from './serve-metrics.js'
export type { MetricsServer, ServeMetricsOptions } from './serve-metrics.js'
export { answerClientError } from './client-error.js'
export { createMemoryFile } from './memory-file.js'
export { createRedisSchedulerState, RedisSchedulerState } from '../scale/redis-scheduler-state.js'
export type { RedisCallCounts, RedisSchedulerStateOptions, SharedStateEvent, SharedStateMode } from '../scale/redis-scheduler-state.js'
