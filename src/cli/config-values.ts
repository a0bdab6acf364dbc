/**
 * How one setting's value is read and checked, from a flag, an environment variable or the
 * config file: the parsers `load-config.ts` composes. Each throws a {@link ConfigError} whose
 * message is the one line the CLI prints.
 * @module
 */
import type { QueueNotifyMode, ToolMode, UnknownToolPolicy } from '../gateway/gateway-options.js'
import type { UpstreamOptions } from '../gateway/upstream.js'
import type { VariantOptions } from '../gateway/variants.js'
import type { McpServerOptions } from '../tools/mcp-source.js'
import type { OpenApiServerOptions } from '../tools/openapi-source.js'
import type { ReasoningMode } from '../reasoning/reasoning-transform.js'

/** A bad setting; `message` is the one line the CLI prints. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export const list = (raw: string): string[] => raw.split(',').map((item) => item.trim()).filter((item) => item !== '')

export function integer(min: number) {
  return (raw: string, name: string): number => {
    const value = Number(raw.trim())
    if (raw.trim() === '' || !Number.isInteger(value) || value < min) throw new ConfigError(`${name}: expected a whole number >= ${min}, got ${JSON.stringify(raw)}`)
    return value
  }
}

export function seconds(raw: string, name: string): number {
  const value = Number(raw.trim())
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) throw new ConfigError(`${name}: expected a number of seconds > 0, got ${JSON.stringify(raw)}`)
  return value
}

/** Seconds, where 0 turns the thing off. */
export function secondsOrZero(raw: string, name: string): number {
  const value = Number(raw.trim())
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0) throw new ConfigError(`${name}: expected a number of seconds >= 0 (0 = off), got ${JSON.stringify(raw)}`)
  return value
}

export function boolean(raw: string, name: string): boolean {
  const value = raw.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(value)) return true
  if (['0', 'false', 'no', 'off'].includes(value)) return false
  throw new ConfigError(`${name}: expected true or false, got ${JSON.stringify(raw)}`)
}

export function oneOf<T extends string>(values: readonly T[], aliases: Record<string, T> = {}) {
  return (raw: string, name: string): T => {
    const value = raw.trim().toLowerCase()
    const aliased = aliases[value]
    if (aliased !== undefined) return aliased
    if ((values as readonly string[]).includes(value)) return value as T
    throw new ConfigError(`${name}: expected one of ${[...values, ...Object.keys(aliases)].join(', ')}, got ${JSON.stringify(raw)}`)
  }
}

export function nonEmpty(raw: string, name: string): string {
  if (raw.trim() === '') throw new ConfigError(`${name}: must not be empty`)
  return raw.trim()
}

export const QUEUE_NOTIFY = oneOf<QueueNotifyMode>(['reasoning', 'content', 'comment', 'never'], { auto: 'reasoning', always: 'reasoning' })
export const TOOL_MODE = oneOf<ToolMode>(['execute', 'passthrough', 'suppress'])
export const UNKNOWN_TOOL_POLICY = oneOf<UnknownToolPolicy>(['error', 'passthrough', 'ignore'])
export const REASONING_MODE = oneOf<ReasoningMode>(['split', 'strip', 'keep'])

/** `--reasoning-starts-in-think`: `auto`, or on/off (true/false, yes/no, 1/0). */
export function STARTS_IN_THINK(raw: string, name: string): 'auto' | boolean {
  if (raw.trim().toLowerCase() === 'auto') return 'auto'
  try {
    return boolean(raw, name)
  } catch {
    throw new ConfigError(`${name}: expected auto, on or off, got ${JSON.stringify(raw)}`)
  }
}

/** `public=upstream` pairs, comma-separated. */
export function aliasPairs(raw: string, name: string): Record<string, string> {
  const aliases: Record<string, string> = {}
  for (const pair of list(raw)) {
    const at = pair.indexOf('=')
    const id = pair.slice(0, at).trim()
    const target = pair.slice(at + 1).trim()
    if (at === -1 || id === '' || target === '') throw new ConfigError(`${name}: expected public=upstream-id pairs, got ${JSON.stringify(pair)}`)
    aliases[id] = target
  }
  return aliases
}

export function aliasObject(value: unknown, name: string): Record<string, string> {
  if (typeof value === 'string') return aliasPairs(value, name)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${name}: expected an object of public id → upstream model id, got ${JSON.stringify(value)}`)
  const aliases: Record<string, string> = {}
  for (const [id, target] of Object.entries(value)) {
    if (id.trim() === '' || typeof target !== 'string' || target.trim() === '') throw new ConfigError(`${name}.${id}: expected an upstream model id, got ${JSON.stringify(target)}`)
    aliases[id.trim()] = target.trim()
  }
  return aliases
}

/** `--variant` specs, `;`-separated: `id=model,append=…,system=…,reasoning=split|strip|keep`. */
export function variantSpecs(raw: string, name: string): VariantOptions[] {
  return raw.split(';').map((spec) => spec.trim()).filter((spec) => spec !== '').map((spec) => {
    const [head = '', ...rest] = spec.split(',')
    const at = head.indexOf('=')
    const id = head.slice(0, at).trim()
    const model = head.slice(at + 1).trim()
    if (at === -1 || id === '' || model === '') throw new ConfigError(`${name}: expected id=model[,append=…][,system=…][,reasoning=…], got ${JSON.stringify(spec)}`)
    const variant: VariantOptions = { id, model }
    for (const part of rest) {
      const eq = part.indexOf('=')
      const key = part.slice(0, eq).trim()
      const value = part.slice(eq + 1).trim()
      if (eq === -1 || value === '') throw new ConfigError(`${name}: expected key=value in ${JSON.stringify(spec)}, got ${JSON.stringify(part)}`)
      if (key === 'append') variant.appendToUser = value
      else if (key === 'system') variant.system = value
      else if (key === 'reasoning') variant.reasoning = REASONING_MODE(value, name)
      else if (key === 'starts-in-think') variant.reasoningStartsInThink = boolean(value, name)
      else throw new ConfigError(`${name}: unknown variant setting ${JSON.stringify(key)} in ${JSON.stringify(spec)} (known: append, system, reasoning, starts-in-think; params go in the config file)`)
    }
    return variant
  })
}

export function fileVariants(value: unknown, name: string): VariantOptions[] {
  if (!Array.isArray(value)) throw new ConfigError(`${name}: expected a list of { id, model, appendToUser, system, params, reasoning }`)
  return value.map((item, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ConfigError(`${name}[${index}]: expected { id, model, … }, got ${JSON.stringify(item)}`)
    for (const key of Object.keys(item)) if (!['id', 'model', 'appendToUser', 'system', 'params', 'reasoning', 'reasoningStartsInThink'].includes(key)) throw new ConfigError(`${name}[${index}].${key}: unknown variant setting (known: id, model, appendToUser, system, params, reasoning, reasoningStartsInThink)`)
    return item as VariantOptions
  })
}

/** `apiKeys`: strings or `{ key, name, class }` objects (checked in full by the gateway). */
export function fileApiKeys(value: unknown, name: string): Array<string | { key: string; name?: string; class?: 'interactive' | 'batch'; maxRunning?: number }> {
  const items = typeof value === 'string' ? list(value) : value
  if (!Array.isArray(items)) throw new ConfigError(`${name}: expected a list of keys or { key, name, class, maxRunning } objects`)
  return items.map((item, index) => {
    if (typeof item === 'string') return item
    if (typeof item !== 'object' || item === null || typeof (item as { key?: unknown }).key !== 'string') throw new ConfigError(`${name}[${index}]: expected a key or { key, name, class, maxRunning }`)
    const record = item as Record<string, unknown>
    for (const key of Object.keys(record)) if (!['key', 'name', 'class', 'maxRunning'].includes(key)) throw new ConfigError(`${name}[${index}].${key}: unknown key setting (known: key, name, class, maxRunning)`)
    if (record.maxRunning !== undefined) record.maxRunning = fromString(integer(1))(record.maxRunning, `${name}[${index}].maxRunning`)
    if (record.class !== undefined && record.class !== 'interactive' && record.class !== 'batch') throw new ConfigError(`${name}[${index}].class: expected interactive or batch, got ${JSON.stringify(record.class)}`)
    return record as { key: string; name?: string; class?: 'interactive' | 'batch'; maxRunning?: number }
  })
}

export function nonEmptyList(raw: string, name: string): string[] {
  const items = list(raw)
  if (items.length === 0) throw new ConfigError(`${name}: expected one or more comma-separated URLs, got ${JSON.stringify(raw)}`)
  return items
}

export function port(raw: string, name: string): number {
  const value = integer(0)(raw, name)
  if (value > 65535) throw new ConfigError(`${name}: expected a port 0-65535, got ${JSON.stringify(raw)}`)
  return value
}

export function fromString(parse: (raw: string, name: string) => unknown) {
  return (value: unknown, name: string): unknown => {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return parse(String(value), name)
    throw new ConfigError(`${name}: expected a single value, got ${JSON.stringify(value)}`)
  }
}

export function stringList(value: unknown, name: string): string[] {
  if (typeof value === 'string') return list(value)
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.map((item) => item.trim()).filter((item) => item !== '')
  throw new ConfigError(`${name}: expected a list of strings, got ${JSON.stringify(value)}`)
}

export const UPSTREAM_KEYS = new Set(['url', 'slots', 'apiKey', 'models', 'slotAffinity', 'id'])

export function fileUpstreams(value: unknown, name: string): Array<UpstreamOptions | string> {
  const items = typeof value === 'string' ? list(value) : value
  if (!Array.isArray(items) || items.length === 0) throw new ConfigError(`${name}: expected a list of upstream URLs or { url, slots, apiKey, models } objects`)
  return items.map((item, index) => {
    const where = `${name}[${index}]`
    if (typeof item === 'string') return item
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ConfigError(`${where}: expected a URL or { url, slots, apiKey, models }, got ${JSON.stringify(item)}`)
    const record = item as Record<string, unknown>
    for (const key of Object.keys(record)) if (!UPSTREAM_KEYS.has(key)) throw new ConfigError(`${where}.${key}: unknown upstream setting (known: ${[...UPSTREAM_KEYS].join(', ')})`)
    if (typeof record.url !== 'string' || record.url.trim() === '') throw new ConfigError(`${where}.url: expected a URL, got ${JSON.stringify(record.url)}`)
    const upstream: UpstreamOptions = { url: record.url.trim() }
    if (record.slots !== undefined) upstream.slots = fromString(integer(1))(record.slots, `${where}.slots`) as number
    if (record.apiKey !== undefined) upstream.apiKey = fromString(nonEmpty)(record.apiKey, `${where}.apiKey`) as string
    if (record.models !== undefined) upstream.models = stringList(record.models, `${where}.models`)
    if (record.slotAffinity !== undefined) upstream.slotAffinity = fromString(boolean)(record.slotAffinity, `${where}.slotAffinity`) as boolean
    if (record.id !== undefined) upstream.id = fromString(nonEmpty)(record.id, `${where}.id`) as string
    return upstream
  })
}

export const TOOL_SERVER_KEYS = new Set(['url', 'prefix', 'apiKey', 'name', 'namePrefix'])
export const MCP_SERVER_KEYS = new Set(['url', 'headers', 'name', 'namePrefix'])

/** `toolServers` in the config file: URLs or `{ url, prefix, apiKey, name, namePrefix }` (no value is echoed: keys are secrets). */
export function fileToolServers(value: unknown, name: string): Array<OpenApiServerOptions | string> {
  return serverList(value, name, TOOL_SERVER_KEYS, (record, where) => {
    const server: OpenApiServerOptions = { url: record.url as string }
    for (const key of ['prefix', 'apiKey', 'name', 'namePrefix'] as const) {
      if (record[key] === undefined) continue
      if (typeof record[key] !== 'string' || record[key].trim() === '') throw new ConfigError(`${where}.${key}: expected a non-empty string`)
      server[key] = record[key].trim()
    }
    return server
  })
}

/** `mcpServers` in the config file: URLs or `{ url, headers, name, namePrefix }` (header values are never echoed). */
export function fileMcpServers(value: unknown, name: string): Array<McpServerOptions | string> {
  return serverList(value, name, MCP_SERVER_KEYS, (record, where) => {
    const server: McpServerOptions = { url: record.url as string }
    for (const key of ['name', 'namePrefix'] as const) {
      if (record[key] === undefined) continue
      if (typeof record[key] !== 'string' || record[key].trim() === '') throw new ConfigError(`${where}.${key}: expected a non-empty string`)
      server[key] = record[key].trim()
    }
    if (record.headers !== undefined) {
      const headers = record.headers
      if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) throw new ConfigError(`${where}.headers: expected an object of header name → value`)
      for (const [header, headerValue] of Object.entries(headers)) {
        if (typeof headerValue !== 'string') throw new ConfigError(`${where}.headers.${header}: expected a string`)
      }
      server.headers = headers as Record<string, string>
    }
    return server
  })
}

function serverList<T>(value: unknown, name: string, keys: Set<string>, build: (record: Record<string, unknown>, where: string) => T): Array<T | string> {
  const items = typeof value === 'string' ? list(value) : value
  if (!Array.isArray(items)) throw new ConfigError(`${name}: expected a list of URLs or { ${[...keys].join(', ')} } objects`)
  return items.map((item, index) => {
    const where = `${name}[${index}]`
    if (typeof item === 'string') {
      if (item.trim() === '') throw new ConfigError(`${where}: expected a URL`)
      return item.trim()
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ConfigError(`${where}: expected a URL or { ${[...keys].join(', ')} }`)
    const record = item as Record<string, unknown>
    for (const key of Object.keys(record)) if (!keys.has(key)) throw new ConfigError(`${where}.${key}: unknown setting (known: ${[...keys].join(', ')})`)
    if (typeof record.url !== 'string' || record.url.trim() === '') throw new ConfigError(`${where}.url: expected a URL`)
    return build({ ...record, url: record.url.trim() }, where)
  })
}
