/**
 * The declared tools of a request, in the form the detector and the formats use.
 * @module
 */
import type { ToolDefinition } from '../openai/types.js'
import type { DeclaredTools } from './formats/types.js'

/**
 * A declared tool: an OpenAI tool definition, a bare function definition (`{ name, parameters }`, as
 * some clients and the Responses API write it), or just its name.
 */
export type ToolSpec = ToolDefinition | { name: string; description?: string | undefined; parameters?: Record<string, unknown> | undefined } | string

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Builds the `DeclaredTools` view of `tools` (OpenAI definitions or names). Definitions without a
 * usable name are skipped.
 * Names resolve exactly, then case-insensitively (when unique), then without a `functions.` /
 * `default_api.` style namespace.
 * @example createDeclaredTools(['get_weather']).resolve('functions.Get_Weather') // 'get_weather'
 */
export function createDeclaredTools(tools: readonly ToolSpec[]): DeclaredTools {
  const schemas = new Map<string, Record<string, unknown> | undefined>()
  for (const tool of tools) {
    if (typeof tool === 'string') {
      if (tool !== '' && !schemas.has(tool)) schemas.set(tool, undefined)
      continue
    }
    const record: unknown = tool
    const fn: unknown = isRecord(record) ? (isRecord(record.function) ? record.function : record) : undefined
    if (!isRecord(fn) || typeof fn.name !== 'string' || fn.name === '') continue
    schemas.set(fn.name, isRecord(fn.parameters) ? fn.parameters : undefined)
  }
  const names = [...schemas.keys()]
  const lower = new Map<string, string | null>()
  for (const name of names) {
    const key = name.toLowerCase()
    lower.set(key, lower.has(key) ? null : name)
  }
  return {
    names,
    resolve(name) {
      if (schemas.has(name)) return name
      const found = lower.get(name.toLowerCase())
      if (found !== undefined && found !== null) return found
      // `functions.get_weather`, `default_api.get_weather` (harmony, Kimi, Gemma tool_code).
      const namespaced = /^(?:functions|function|default_api|tools|tool|api)[.:](.+)$/i.exec(name)
      return namespaced?.[1] === undefined ? undefined : this.resolve(namespaced[1])
    },
    schema(name) {
      return schemas.get(name)
    },
  }
}
