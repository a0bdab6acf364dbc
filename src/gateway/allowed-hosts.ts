/**
 * The `Host` check against DNS rebinding: a web page whose own domain an attacker points at
 * 127.0.0.1 reaches a gateway on loopback as "same origin", with that domain in `Host`. With
 * `allowedHosts` set, a request naming any other host gets 403 `host_not_allowed`, whatever its
 * path. The CLI sets it when it listens on loopback (`localhost`, `127.0.0.1`, `[::1]` and
 * `--allowed-hosts`); library callers choose.
 * @module
 */
import { QueuegateError } from '../errors.js'
import type { HeaderLookup } from './bridge-protocol.js'

/** The names a loopback gateway answers to unless told more. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]']

/** The host names allowed: exact names, and `.example.org` entries for a domain and its subdomains. */
export interface AllowedHosts {
  readonly names: ReadonlySet<string>
  readonly suffixes: readonly string[]
}

/** Validates the `allowedHosts` option; undefined (no check) when absent or when it holds `*`. */
export function resolveAllowedHosts(hosts: readonly string[] | undefined): AllowedHosts | undefined {
  if (hosts === undefined) return undefined
  if (!Array.isArray(hosts)) throw new TypeError(`allowedHosts: expected a list of host names, got ${JSON.stringify(hosts)}`)
  const names = new Set<string>()
  const suffixes: string[] = []
  for (const entry of hosts) {
    if (typeof entry !== 'string') throw new TypeError(`allowedHosts: expected host names, got ${JSON.stringify(entry)}`)
    const host = entry.trim().toLowerCase()
    if (host === '*') return undefined
    const name = host === '::1' ? '[::1]' : host.replace(/\.$/, '')
    if (!/^(?:\.?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/.test(name)) {
      throw new TypeError(`allowedHosts: ${JSON.stringify(entry)} is not a host name (expected e.g. gpu-box.lan, 192.168.1.5, [::1] or .example.org; no scheme or port)`)
    }
    if (name.startsWith('.')) suffixes.push(name)
    else names.add(name)
  }
  return { names, suffixes }
}

/** Throws a 403 unless the request's `Host` (else its URL's host) is allowed; the port does not matter. */
export function checkHost(allowed: AllowedHosts, headers: HeaderLookup, url: string): void {
  const header = headers.get('host')
  const host = hostName(header ?? hostOfUrl(url))
  if (allowed.names.has(host)) return
  for (const suffix of allowed.suffixes) if (host.endsWith(suffix) || host === suffix.slice(1)) return
  throw new QueuegateError(
    `Host ${JSON.stringify((header ?? host).slice(0, 100))} is not allowed: this gateway answers only to the host names it was given (allowedHosts, --allowed-hosts), so that a web page cannot reach it by DNS rebinding.`,
    { status: 403, type: 'invalid_request_error', code: 'host_not_allowed' },
  )
}

/** `Host: Example.org:8080.` → `example.org`; `[::1]:80` → `[::1]`. */
function hostName(host: string): string {
  const value = host.trim().toLowerCase()
  if (value.startsWith('[')) {
    const end = value.indexOf(']')
    return end === -1 ? value : value.slice(0, end + 1)
  }
  const colon = value.indexOf(':')
  return (colon === -1 ? value : value.slice(0, colon)).replace(/\.$/, '')
}

function hostOfUrl(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return ''
  }
}
