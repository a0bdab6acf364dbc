/**
 * A bug, reported: a request that failed on something neither an upstream nor the client did
 * (a `TypeError` in a transform, in routing) becomes a 500 `internal_error` for the client, and an
 * `internal-error` event with its stack, which the CLI logs at `error`.
 * @module
 */
import type { GatewayEvent } from './gateway-events.js'

/** Reports a failure that is no QueuegateError, with its stack. */
export function reportInternalError(onEvent: ((event: GatewayEvent) => void) | undefined, jobId: string, error: unknown): void {
  onEvent?.({ type: 'internal-error', jobId, message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined })
}
