/**
 * How the gateway reads a request: its path, a few headers and the body. Any `Request` works;
 * one from the node bridge also answers three `Symbol.for` keys that give the same values
 * without building the WHATWG objects behind them (a `Headers` from the raw header list, a
 * `ReadableStream` over the node stream, a parsed `URL`): several microseconds per request.
 * @module
 */

/** The one method of `Headers` the gateway uses. */
export type HeaderLookup = Pick<Headers, 'get'>

/** A request's headers, read without building `Headers` where the request allows it. */
export const HEADER_LOOKUP: unique symbol = Symbol.for('queuegate.header-lookup') as never
/** `(maxBytes) => Promise<Uint8Array | undefined>`: the whole body, or undefined past `maxBytes`. */
export const READ_BODY: unique symbol = Symbol.for('queuegate.read-body') as never
/** The request target as sent (`/v1/chat/completions?x=1`), undecoded. */
export const RAW_PATH: unique symbol = Symbol.for('queuegate.raw-path') as never

/**
 * The one listener told when the client goes away, set and cleared by assignment: a job watches
 * its client without an `AbortSignal` listener per request (the signal still aborts too).
 */
export const DISCONNECT_LISTENER: unique symbol = Symbol.for('queuegate.disconnect-listener') as never

/** What a node bridge request answers to, beyond `Request`. */
export interface FastRequest {
  [HEADER_LOOKUP]: HeaderLookup
  [READ_BODY](maxBytes: number): Promise<Uint8Array | undefined>
  [RAW_PATH]: string
  [DISCONNECT_LISTENER]: EventListenerObject | undefined
}

/** Calls `listener.handleEvent()` when the request's client goes away (once); see {@link unwatchClient}. */
export function watchClient(request: Request, listener: EventListenerObject): void {
  if (isBridgeRequest(request)) (request as unknown as FastRequest)[DISCONNECT_LISTENER] = listener
  else request.signal.addEventListener('abort', listener, { once: true })
}

/** Stops {@link watchClient}'s watch. */
export function unwatchClient(request: Request, listener: EventListenerObject): void {
  if (isBridgeRequest(request)) {
    const fast = request as unknown as FastRequest
    if (fast[DISCONNECT_LISTENER] === listener) fast[DISCONNECT_LISTENER] = undefined
  } else {
    request.signal.removeEventListener('abort', listener)
  }
}

/**
 * True for a request from queuegate's node bridge, which writes (or cancels) every response it
 * gets: a job may then leave its bookkeeping until its answer is written.
 */
export function isBridgeRequest(request: Request): boolean {
  return (request as Partial<FastRequest>)[RAW_PATH] !== undefined
}

/** The request's headers for lookups. */
export function headerLookup(request: Request): HeaderLookup {
  return (request as Partial<FastRequest>)[HEADER_LOOKUP] ?? request.headers
}

/**
 * The request's path without query, trailing slashes removed (`/` stays). A raw path with
 * anything a URL parser would rewrite (dot segments, percent escapes, backslashes) goes
 * through `URL`, so both ways agree.
 */
export function requestPath(request: Request): string {
  const raw = (request as Partial<FastRequest>)[RAW_PATH]
  let path: string
  if (raw !== undefined && SIMPLE_PATH.test(raw)) {
    const query = raw.indexOf('?')
    path = query === -1 ? raw : raw.slice(0, query)
  } else {
    path = new URL(request.url).pathname
  }
  return path.replace(/\/+$/, '') || '/'
}

/** Paths `URL` leaves as they are: letters, digits, `-_/`, no `//`, optional query. */
const SIMPLE_PATH = /^(?:\/[\w-]+)*\/?(?:\?.*)?$/
