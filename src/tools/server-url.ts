/**
 * A tool server's configured URL, split into what is safe to show (`id`: no user, password or
 * query) and what is sent (the URL without credentials, and the credentials as an
 * `Authorization` header): fetch refuses URLs with credentials, and logs must never show them.
 * @module
 */

/** A parsed tool server URL. */
export interface ServerUrl {
  /** The URL without credentials (its query kept). */
  base: URL
  /** Its path without a trailing slash (`''` for the root). */
  basePath: string
  /** For messages and logs: origin and path only. */
  id: string
  /** `Basic …` from the URL's user and password, when it had them. */
  authorization: string | undefined
}

/** Parses and checks a tool server URL; the error names the option, never the credentials. */
export function parseServerUrl(url: unknown, option: string): ServerUrl {
  let parsed: URL
  try {
    if (typeof url !== 'string') throw new TypeError('not a string')
    parsed = new URL(url)
  } catch {
    throw new TypeError(`${option}: expected an http:// or https:// URL, got ${describe(url)}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`${option}: expected an http:// or https:// URL, got ${describe(url)}`)
  const authorization =
    parsed.username === '' && parsed.password === ''
      ? undefined
      : `Basic ${btoa(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`)}`
  parsed.username = ''
  parsed.password = ''
  parsed.hash = ''
  const basePath = parsed.pathname.replace(/\/+$/, '')
  return { base: parsed, basePath, id: `${parsed.origin}${basePath}`, authorization }
}

/** A value for an error message, with anything that looks like credentials in a URL masked. */
function describe(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value) ?? String(value)
  return JSON.stringify(value.replace(/\/\/[^/@]*@/, '//***@'))
}
