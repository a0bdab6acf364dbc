/**
 * Chat memory's settings: flags, environment variables (the first version's `CHAT_MEMORY_*`
 * names), and the config file's `memory` object, turned into the gateway's `memory` option.
 * `load-config.ts` reads them with its other settings.
 * @module
 */
import type { MemoryOptions } from '../gateway/memory-options.js'
import { boolean, ConfigError, integer, nonEmpty, oneOf, seconds } from './config-values.js'

/** Which store, or none. */
export type MemoryStoreSetting = 'off' | 'local' | 'toolserver'

const MEMORY_STORE = oneOf<MemoryStoreSetting>(['off', 'local', 'toolserver'], { none: 'off', false: 'off', true: 'local', on: 'local', embedded: 'local' })
const INJECT_ROLE = oneOf<'system' | 'user'>(['system', 'user'])

/** A memory setting: its flag (commander's camelCase key), its env names, its key in the file's `memory` object, and its parser. */
export interface MemorySetting {
  key: string
  flag: string
  env: string[]
  fileKey: string
  parse: (raw: string, name: string) => unknown
}

/** Every memory setting. */
export const MEMORY_SETTINGS: readonly MemorySetting[] = [
  { key: 'memory', flag: 'memory', env: ['QUEUEGATE_MEMORY'], fileKey: 'store', parse: MEMORY_STORE },
  { key: 'memoryEnable', flag: 'memoryEnable', env: ['CHAT_MEMORY_ENABLE'], fileKey: 'enable', parse: boolean },
  { key: 'memoryFile', flag: 'memoryFile', env: ['QUEUEGATE_MEMORY_FILE', 'CHAT_MEMORY_FILE'], fileKey: 'file', parse: nonEmpty },
  { key: 'memoryMaxItems', flag: 'memoryMaxItems', env: ['CHAT_MEMORY_MAX_ITEMS'], fileKey: 'maxItems', parse: integer(1) },
  { key: 'memoryMaxTotalItems', flag: 'memoryMaxTotalItems', env: ['CHAT_MEMORY_MAX_TOTAL_ITEMS'], fileKey: 'maxTotalItems', parse: integer(1) },
  { key: 'memoryEmbeddings', flag: 'memoryEmbeddings', env: ['CHAT_MEMORY_EMBEDDINGS'], fileKey: 'embeddings', parse: nonEmpty },
  { key: 'memoryTimeout', flag: 'memoryTimeout', env: ['CHAT_MEMORY_TIMEOUT_SEC'], fileKey: 'timeout', parse: seconds },
  { key: 'memoryTruncateHistory', flag: 'memoryTruncateHistory', env: ['CHAT_MEMORY_TRUNCATE_HISTORY'], fileKey: 'truncateHistory', parse: boolean },
  { key: 'memoryKeepLast', flag: 'memoryKeepLast', env: ['CHAT_MEMORY_KEEP_LAST'], fileKey: 'keepLast', parse: integer(1) },
  { key: 'memoryQueryK', flag: 'memoryQueryK', env: ['CHAT_MEMORY_QUERY_K'], fileKey: 'queryK', parse: integer(1) },
  { key: 'memoryUpsert', flag: 'memoryUpsert', env: ['CHAT_MEMORY_UPSERT'], fileKey: 'upsert', parse: boolean },
  { key: 'memoryInjectRole', flag: 'memoryInjectRole', env: ['CHAT_MEMORY_INJECT_ROLE'], fileKey: 'injectRole', parse: INJECT_ROLE },
  { key: 'memoryHint', flag: 'memoryHint', env: ['CHAT_MEMORY_HINT'], fileKey: 'hint', parse: boolean },
  { key: 'memoryMaxUpsertChars', flag: 'memoryMaxUpsertChars', env: ['CHAT_MEMORY_MAX_UPSERT_CHARS'], fileKey: 'maxUpsertChars', parse: integer(1) },
  { key: 'memoryForAgents', flag: 'memoryForAgents', env: ['CHAT_MEMORY_FOR_AGENTS'], fileKey: 'forAgents', parse: boolean },
]

/** Checks the config file's `memory` value: an object of the settings above (by `fileKey`), or a store name. */
export function fileMemory(value: unknown, name: string): Record<string, unknown> {
  if (typeof value === 'string' || typeof value === 'boolean') return { memory: MEMORY_STORE(String(value), name) }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${name}: expected an object of memory settings or a store (off, local, toolserver), got ${JSON.stringify(value)}`)
  const out: Record<string, unknown> = {}
  for (const [fileKey, item] of Object.entries(value)) {
    const setting = MEMORY_SETTINGS.find((candidate) => candidate.fileKey === fileKey)
    if (setting === undefined) throw new ConfigError(`${name}.${fileKey}: unknown memory setting (known: ${MEMORY_SETTINGS.map((candidate) => candidate.fileKey).join(', ')})`)
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') throw new ConfigError(`${name}.${fileKey}: expected a single value, got ${JSON.stringify(item)}`)
    out[setting.key] = setting.parse(String(item), `${name}.${fileKey}`)
  }
  return out
}

/** What the memory settings come to. */
export interface MemoryConfig {
  /** The gateway's `memory` option; undefined: memory off. */
  options: MemoryOptions | undefined
  /** The log file of the local store (the CLI opens it). */
  file: string | undefined
  /** Settings that were given but do not apply. */
  warnings: string[]
}

/**
 * The gateway's `memory` option from the merged settings (`values` by setting key). The store:
 * `--memory` when given, else `CHAT_MEMORY_ENABLE=true` turns memory on, as the tool server when
 * `TOOLSERVER_URL` is set, else local.
 */
export function memoryConfig(values: Record<string, unknown>, env: Record<string, string | undefined>): MemoryConfig {
  let store = values.memory as MemoryStoreSetting | undefined
  if (store === undefined && values.memoryEnable === true) store = env.TOOLSERVER_URL !== undefined && env.TOOLSERVER_URL.trim() !== '' ? 'toolserver' : 'local'
  if (store === undefined || store === 'off') return { options: undefined, file: undefined, warnings: [] }
  const timeout = values.memoryTimeout as number | undefined
  const options: MemoryOptions = {
    store,
    maxItems: values.memoryMaxItems as number | undefined,
    maxTotalItems: values.memoryMaxTotalItems as number | undefined,
    embeddings: values.memoryEmbeddings as string | undefined,
    timeoutMs: timeout === undefined ? undefined : Math.max(1, Math.round(timeout * 1000)),
    truncateHistory: values.memoryTruncateHistory as boolean | undefined,
    keepLast: values.memoryKeepLast as number | undefined,
    queryK: values.memoryQueryK as number | undefined,
    upsert: values.memoryUpsert as boolean | undefined,
    injectRole: values.memoryInjectRole as 'system' | 'user' | undefined,
    hint: values.memoryHint as boolean | undefined,
    maxUpsertChars: values.memoryMaxUpsertChars as number | undefined,
    forAgents: values.memoryForAgents as boolean | undefined,
  }
  for (const key of Object.keys(options) as Array<keyof MemoryOptions>) if (options[key] === undefined) delete options[key]
  const file = values.memoryFile as string | undefined
  if (file !== undefined && store !== 'local') return { options, file: undefined, warnings: ['--memory-file: ignored: only the local memory store keeps a file (the tool server keeps its own)'] }
  return { options, file, warnings: [] }
}
