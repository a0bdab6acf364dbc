/**
 * queuegate/observe: the gateway's Prometheus metrics (prom-client) and its events as log lines
 * (text, or JSON through pino). Node.js only; the core does not load it unless asked.
 * @module
 */
export { createGatewayMetrics } from './gateway-metrics.js'
export type { GatewayMetrics, GatewayMetricsOptions } from './gateway-metrics.js'
export { createEventLogger, describeEvent, LOG_LEVELS } from './event-log.js'
export type { EventLogger, EventLoggerOptions, LogFields, LogFormat, LogLevel } from './event-log.js'
