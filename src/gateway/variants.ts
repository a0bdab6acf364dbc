/**
 * Model variants: virtual model ids that rewrite a request for a real model, such as
 * `qwen3-nothink` (the target `qwen3`, `/nothink` appended to the last user message, `<think>`
 * blocks stripped from the answer). Listed on `/v1/models`; resolved in the model stage.
 * @module
 */
import type { ReasoningMode } from '../reasoning/reasoning-transform.js'

/** A variant as configured. */
export interface VariantOptions {
  /** The public id clients ask for. */
  id: string
  /** The model (or alias) it runs on. */
  model: string
  /** Appended on a new line to the last user message (`/nothink`). */
  appendToUser?: string | undefined
  /** A system message: prepended to the first system message's text, or added first when there is none. */
  system?: string | undefined
  /** Request fields the client did not set (`{ temperature: 0.2 }`). */
  params?: Record<string, unknown> | undefined
  /** What happens to `<think>` blocks in this variant's answers (the gateway's `reasoning` otherwise). */
  reasoning?: ReasoningMode | undefined
  /** Replies of this variant start inside a think block the prompt opened, or never do (the gateway's `reasoningStartsInThink` otherwise). */
  reasoningStartsInThink?: boolean | undefined
}

/** A variant after validation. */
export type Variant = Readonly<Required<Pick<VariantOptions, 'id' | 'model'>> & Omit<VariantOptions, 'id' | 'model'>>

const REASONING_MODES: readonly ReasoningMode[] = ['split', 'strip', 'keep']
/** Fields a variant's `params` may not set: they are the request's own. */
const NOT_PARAMS = new Set(['model', 'messages', 'stream', 'tools'])

/** Validates the `variants` option into a map by id. */
export function resolveVariants(variants: readonly VariantOptions[]): Map<string, Variant> {
  if (!Array.isArray(variants)) throw new TypeError(`variants: expected a list of { id, model, … }, got ${JSON.stringify(variants)}`)
  const byId = new Map<string, Variant>()
  for (const [index, variant] of variants.entries()) {
    const where = `variants[${index}]`
    if (typeof variant !== 'object' || variant === null) throw new TypeError(`${where}: expected { id, model, … }, got ${JSON.stringify(variant)}`)
    if (typeof variant.id !== 'string' || variant.id.trim() === '') throw new TypeError(`${where}.id: expected a model id, got ${JSON.stringify(variant.id)}`)
    if (typeof variant.model !== 'string' || variant.model.trim() === '') throw new TypeError(`${where}.model: expected the model it runs on, got ${JSON.stringify(variant.model)}`)
    if (variant.id === variant.model) throw new TypeError(`${where}: a variant cannot run on itself (${JSON.stringify(variant.id)})`)
    if (byId.has(variant.id)) throw new TypeError(`${where}.id: ${JSON.stringify(variant.id)} is listed twice`)
    for (const field of ['appendToUser', 'system'] as const) {
      if (variant[field] !== undefined && typeof variant[field] !== 'string') throw new TypeError(`${where}.${field}: expected text, got ${JSON.stringify(variant[field])}`)
    }
    if (variant.params !== undefined) {
      if (typeof variant.params !== 'object' || variant.params === null || Array.isArray(variant.params)) throw new TypeError(`${where}.params: expected an object of request fields, got ${JSON.stringify(variant.params)}`)
      for (const key of Object.keys(variant.params)) if (NOT_PARAMS.has(key)) throw new TypeError(`${where}.params.${key}: a variant's params cannot set ${key}`)
    }
    if (variant.reasoning !== undefined && !REASONING_MODES.includes(variant.reasoning)) {
      throw new TypeError(`${where}.reasoning: expected one of ${REASONING_MODES.join(', ')}, got ${JSON.stringify(variant.reasoning)}`)
    }
    if (variant.reasoningStartsInThink !== undefined && typeof variant.reasoningStartsInThink !== 'boolean') {
      throw new TypeError(`${where}.reasoningStartsInThink: expected true or false, got ${JSON.stringify(variant.reasoningStartsInThink)}`)
    }
    byId.set(variant.id, { ...variant, id: variant.id.trim(), model: variant.model.trim() })
  }
  return byId
}

/** The request body for the variant's target: a new object (the client's is not changed). */
export function applyVariant(variant: Variant, body: Record<string, unknown>): Record<string, unknown> {
  const next: Record<string, unknown> = { ...variant.params, ...body, model: variant.model }
  let messages = Array.isArray(body.messages) ? [...(body.messages as Array<Record<string, unknown>>)] : []
  if (variant.appendToUser !== undefined) {
    const last = messages.findLastIndex((message) => message?.role === 'user')
    if (last !== -1) messages[last] = { ...messages[last], content: appendText(messages[last]?.content, variant.appendToUser) }
  }
  if (variant.system !== undefined) {
    const first = messages.findIndex((message) => message?.role === 'system')
    if (first === -1) messages = [{ role: 'system', content: variant.system }, ...messages]
    else messages[first] = { ...messages[first], content: prependText(variant.system, messages[first]?.content) }
  }
  next.messages = messages
  return next
}

function appendText(content: unknown, suffix: string): unknown {
  if (typeof content === 'string') return `${content}\n${suffix}`
  if (Array.isArray(content)) return [...content, { type: 'text', text: suffix }]
  return suffix
}

function prependText(prefix: string, content: unknown): unknown {
  if (typeof content === 'string') return `${prefix}\n\n${content}`
  if (Array.isArray(content)) return [{ type: 'text', text: prefix }, ...content]
  return prefix
}
