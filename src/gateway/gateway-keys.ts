/**
 * Gateway keys: when any are configured, every `/v1/*` request must carry one, as
 * `Authorization: Bearer <key>` or `x-api-key: <key>` (401 `invalid_api_key` otherwise);
 * `/healthz` and `/readyz` stay open. Keys are compared in constant time and never appear in
 * errors, events or job records: a key is known by its `name`.
 * @module
 */
import { QueuegateError } from '../errors.js'
import type { JobClass } from '../queue/queue-scheduler.js'
import type { HeaderLookup } from './request-access.js'
import { KeyLimit } from './key-limit.js'

/** A gateway key as configured. */
export interface GatewayKeyOptions {
  key: string
  /** Shown in logs instead of the key. @default 'key-N' (its place in the list, from 1) */
  name?: string | undefined
  /** Puts every job of this key in this class, whatever its headers say (a key for agents: `batch`). */
  class?: JobClass | undefined
  /**
   * At most this many of the key's requests hold an upstream slot at once; beyond it its requests
   * wait (before the queue) and other clients' jobs go first. @default no cap
   */
  maxRunning?: number | undefined
}

/** A key after validation. */
export interface GatewayKey {
  readonly key: string
  readonly name: string
  readonly class: JobClass | undefined
  /** The key's `maxRunning` cap and its count (one per gateway), when it has one. */
  readonly limit: KeyLimit | undefined
}

/** Validates the `apiKeys` option. */
export function resolveGatewayKeys(keys: ReadonlyArray<GatewayKeyOptions | string>): GatewayKey[] {
  if (!Array.isArray(keys)) throw new TypeError(`apiKeys: expected a list of keys, got ${JSON.stringify(typeof keys)}`)
  return keys.map((entry, index) => {
    const option = typeof entry === 'string' ? { key: entry } : entry
    if (typeof option !== 'object' || option === null || typeof option.key !== 'string' || option.key.trim().length < 8) {
      throw new TypeError(`apiKeys[${index}]: expected a key of at least 8 characters (or { key, name, class, maxRunning })`)
    }
    if (option.class !== undefined && option.class !== 'interactive' && option.class !== 'batch') {
      throw new TypeError(`apiKeys[${index}].class: expected 'interactive' or 'batch', got ${JSON.stringify(option.class)}`)
    }
    if (option.maxRunning !== undefined && (!Number.isInteger(option.maxRunning) || option.maxRunning < 1)) {
      throw new TypeError(`apiKeys[${index}].maxRunning: expected a whole number >= 1, got ${JSON.stringify(option.maxRunning)}`)
    }
    return { key: option.key.trim(), name: option.name ?? `key-${index + 1}`, class: option.class, limit: option.maxRunning === undefined ? undefined : new KeyLimit(option.maxRunning) }
  })
}

/** The key a request presents, or undefined. */
function presented(headers: HeaderLookup): string | undefined {
  const authorization = headers.get('authorization')
  if (authorization !== null) {
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization)
    if (match !== null) return match[1]
  }
  return headers.get('x-api-key')?.trim() || undefined
}

/** Equal strings, in time that depends on the presented key's length only. */
function constantTimeEqual(presentedKey: string, key: string): boolean {
  let difference = presentedKey.length ^ key.length
  for (let index = 0; index < presentedKey.length; index++) difference |= presentedKey.charCodeAt(index) ^ key.charCodeAt(index % key.length)
  return difference === 0
}

/** The configured key the request carries; throws a 401 when it carries none or another. */
export function authenticate(keys: readonly GatewayKey[], headers: HeaderLookup): GatewayKey {
  const candidate = presented(headers)
  if (candidate !== undefined) {
    let found: GatewayKey | undefined
    // Every key is compared, whichever matches: the time does not tell which one did.
    for (const key of keys) if (constantTimeEqual(candidate, key.key)) found ??= key
    if (found !== undefined) return found
  }
  throw new QueuegateError(
    candidate === undefined ? 'This gateway needs a key: send Authorization: Bearer <key> (or x-api-key).' : 'The key sent is not one of this gateway\'s keys.',
    { status: 401, type: 'invalid_request_error', code: 'invalid_api_key', headers: { 'www-authenticate': 'Bearer' } },
  )
}
