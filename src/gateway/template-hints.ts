/**
 * llama.cpp's `GET {origin}/props` read once per upstream after its models were discovered: when
 * its `chat_template` opens a think block in the generation prompt (`templateOpensThink`), the
 * reasoning stage is told that replies of its models start inside one (`reasoningStartsInThink:
 * 'auto'`). Other servers answer 404 or no `chat_template`: nothing is learnt. Never rejects.
 * @module
 */
import { safeParseJson } from '../openai/parse-json.js'
import { templateOpensThink } from '../reasoning/chat-template.js'
import { startUpstreamCall } from './upstream.js'
import type { Upstream } from './upstream.js'

/** Longest `/props` answer read (llama.cpp's holds the template: a few KB). */
const MAX_PROPS_BYTES = 1024 * 1024

/** Whether the upstream's chat template opens a think block (false when it cannot tell). */
export async function templateOpensThinkAt(upstream: Upstream, timeoutMs: number): Promise<boolean> {
  try {
    const response = await startUpstreamCall({ ...upstream, apiRoot: '' }, { path: '/props', method: 'GET', timeoutMs }).response
    const text = await response.body.text(MAX_PROPS_BYTES)
    if (response.status < 200 || response.status >= 300) return false
    const parsed = safeParseJson(text)
    if (!parsed.success || typeof parsed.value !== 'object' || parsed.value === null) return false
    const template = (parsed.value as { chat_template?: unknown }).chat_template
    return typeof template === 'string' && templateOpensThink(template)
  } catch {
    return false
  }
}
