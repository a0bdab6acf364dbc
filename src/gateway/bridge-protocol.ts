/**
 * The one private interface between queuegate's own node:http bridge (src/server/) and its core
 * (this folder). It exists for speed alone: for a request, building the WHATWG `Headers`, `URL`
 * and body `ReadableStream` over a node request costs several microseconds, and for an answer,
 * building a real `Response` (its `Headers` validated on the way in, again on every `set`, and
 * read back out by the bridge) costs as much again; the gateway's own work per request is a few
 * microseconds. So the two sides hand each other plain values through two `Symbol.for` keys,
 * one on requests and one on responses, and nothing else.
 *
 * The rule both sides keep: the fast path is only a faster way to the same values. Every core
 * function takes any standard `Request` and gives any consumer a standard `Response`, with the
 * same behaviour; the core never asks which adapter built a request, it asks
 * {@link bridgeRequestOf} for the faster way to read it. As in `honojs/node-server`'s light
 * Request and Response.
 *
 * Requests ({@link BRIDGE_REQUEST}, a {@link BridgeRequest}): the bridge's `Request` carries an
 * accessor answering exactly what its standard members would (see each member), from node's own
 * objects. Through it, the client going away reaches the core on one channel: the core watches
 * the client with `watch` (request-access.ts's `watchClient`, which uses `request.signal` for any
 * other request), and the bridge tells that watcher, then aborts `request.signal` for anyone
 * else holding it.
 *
 * Responses ({@link BRIDGE_RESPONSE}, {@link ResponseParts}): the core's light `Response`
 * (light-response.ts) carries its status, a plain header object and its body until someone
 * builds the real one. The bridge takes the parts as they are and then owns the body: it writes
 * it to the end, or cancels it (client gone, a failed `writeHead`, an unrouted answer handed to
 * Express's `next()`); it never reads the `Response`'s own members after taking them.
 *
 * The keys are versioned: a bridge and a core from two installed copies that disagree on this
 * interface simply do not see each other's key, and meet through the standard members.
 * @module
 */
import type { ByteSource } from './byte-source.js'

/** The one method of `Headers` the gateway uses. */
export type HeaderLookup = Pick<Headers, 'get'>

/** Where a bridge request keeps its {@link BridgeRequest}. */
export const BRIDGE_REQUEST: unique symbol = Symbol.for('queuegate.bridge-request/1') as never

/**
 * What a request from queuegate's node bridge answers, beyond `Request`. Each member gives what
 * the request's standard members would give; only the cost differs.
 */
export interface BridgeRequest extends HeaderLookup {
  /** As `request.headers.get(name)`. */
  get(name: string): string | null
  /**
   * The request target as sent, undecoded (`/v1/chat/completions?x=1`): the path and query of
   * `request.url` before URL parsing, so relative to where the gateway is mounted.
   */
  readonly target: string
  /**
   * The whole body, or undefined past `maxBytes` (as soon as it passes; the rest is left to
   * drain). What `request.body` would yield, read once: afterwards the body is used. Rejects as
   * reading `request.body` would fail (a `QueuegateError` when the body cannot be had, such as
   * one a body parser consumed before the gateway).
   */
  readBody(maxBytes: number): Promise<Uint8Array | undefined>
  /**
   * Calls `listener.handleEvent()` once when the client goes away (at once, synchronously, if it
   * already has): the event `request.signal`'s abort would fire. One watcher at a time; a second
   * call replaces the first.
   */
  watch(listener: EventListenerObject): void
  /** Stops `listener`'s watch (nothing if another listener watches now). */
  unwatch(listener: EventListenerObject): void
}

/** The request's {@link BridgeRequest} when it came through queuegate's node bridge; otherwise undefined. */
export function bridgeRequestOf(request: Request): BridgeRequest | undefined {
  return (request as { [BRIDGE_REQUEST]?: BridgeRequest })[BRIDGE_REQUEST]
}

/** Where a light response keeps its {@link ResponseParts} (until its real `Response` is built). */
export const BRIDGE_RESPONSE: unique symbol = Symbol.for('queuegate.bridge-response/1') as never

/** What a light response can carry. */
export type LightBody = Uint8Array | string | ByteSource | ReadableStream<Uint8Array> | null

/** A light response's parts, which the bridge writes directly. */
export interface ResponseParts {
  status: number
  /** Header names are lower-case. */
  headers: Record<string, string>
  body: LightBody
  /**
   * The gateway has no route for the request (see {@link markUnrouted}): inside Express, the
   * bridge hands the request to `next()` instead of writing this answer.
   */
  unrouted?: true | undefined
}

/** The parts of a light response nobody has turned into a real one yet; otherwise undefined. */
export function responseParts(response: Response): ResponseParts | undefined {
  return (response as { [BRIDGE_RESPONSE]?: ResponseParts })[BRIDGE_RESPONSE]
}

/**
 * Marks the gateway's answer to a request it has no route for, so that a bridge mounted as
 * middleware passes the request on (Express: `next()`, writing nothing) and a server of its own
 * writes the answer as it is. Only a light response can carry the mark (a real `Response` is
 * returned unmarked); any other consumer sees the same `Response` either way.
 * @example return markUnrouted(json(new NotFoundError(`No route for ${path}.`, 'route_not_found').toJSON(), 404))
 */
export function markUnrouted(response: Response): Response {
  const parts = responseParts(response)
  if (parts !== undefined) parts.unrouted = true
  return response
}
