/**
 * How the gateway reads a request: its path, a few headers, and whether its client is still
 * there (the body: request-body.ts). Any `Request` works, with the same answers; a request from
 * queuegate's node bridge gives them faster through its accessor (bridge-protocol.ts), without
 * building a `Headers`, a `URL` or an `AbortSignal` listener.
 * @module
 */
import { bridgeRequestOf } from './bridge-protocol.js'
import type { HeaderLookup } from './bridge-protocol.js'

export type { HeaderLookup }

/**
 * Calls `listener.handleEvent()` once when the request's client goes away (the abort of
 * `request.signal`), or at once if it already has; see {@link unwatchClient}. The one channel
 * through which the core learns of a disconnect. One listener per request at a time.
 */
export function watchClient(request: Request, listener: EventListenerObject): void {
  const bridge = bridgeRequestOf(request)
  if (bridge !== undefined) {
    bridge.watch(listener)
    return
  }
  const signal = request.signal
  if (signal.aborted) listener.handleEvent(new Event('abort'))
  else signal.addEventListener('abort', listener, { once: true })
}

/** Stops {@link watchClient}'s watch. */
export function unwatchClient(request: Request, listener: EventListenerObject): void {
  const bridge = bridgeRequestOf(request)
  if (bridge !== undefined) bridge.unwatch(listener)
  else request.signal.removeEventListener('abort', listener)
}

/** The request's headers for lookups. */
export function headerLookup(request: Request): HeaderLookup {
  return bridgeRequestOf(request) ?? request.headers
}

/**
 * The request's path without query, trailing slashes removed (`/` stays). A raw target with
 * anything a URL parser would rewrite (dot segments, percent escapes, backslashes) goes
 * through `URL`, so both ways agree.
 */
export function requestPath(request: Request): string {
  const raw = bridgeRequestOf(request)?.target
  let path: string
  if (raw !== undefined && SIMPLE_PATH.test(raw)) {
    const query = raw.indexOf('?')
    path = query === -1 ? raw : raw.slice(0, query)
  } else {
    // From the request target alone: a bridge request's URL also holds the Host header, which
    // must not be able to change the path (`Host: x/healthz#` made `/v1/jobs/%41` read as `/healthz`).
    path = raw !== undefined ? new URL(raw, 'http://localhost').pathname : new URL(request.url).pathname
  }
  return path.replace(/\/+$/, '') || '/'
}

/** Paths `URL` leaves as they are: letters, digits, `-_/`, no `//`, optional query. */
const SIMPLE_PATH = /^(?:\/[\w-]+)*\/?(?:\?.*)?$/
