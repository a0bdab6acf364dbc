/**
 * Chat memory's embedder: an upstream's `/v1/embeddings` (llama.cpp, vLLM and Ollama all serve
 * it), called through the gateway's own queue as a batch job, so chats go first. A consumer of
 * `callModel`, like the tool loop and agents.
 * @module
 */
import { UpstreamError } from '../errors.js'
import type { Embedder } from '../memory/embedder.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'
import { callModel } from './call-model.js'
import { createCallPlan } from './call-plan.js'
import { endpointFor } from './endpoints.js'
import type { Endpoint } from './endpoints.js'
import type { GatewayServices } from './gateway-services.js'

/** Largest embeddings answer read (a batch of a few notes' vectors). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024

/** The embedder for `model`, over the gateway's services (looked up on each call: they are built after it). */
export function createMemoryEmbedder(services: () => GatewayServices, model: string): Embedder {
  const endpoint = endpointFor('/v1/embeddings') as Endpoint
  return {
    model,
    async embed(texts: string[], options: { signal?: AbortSignal | undefined } = {}): Promise<number[][]> {
      const gateway = services()
      const upstreamModel = gateway.catalog.aliasTarget(model) ?? model
      const body = { model: upstreamModel, input: texts }
      const text = JSON.stringify(body)
      const plan = createCallPlan({
        jobId: gateway.options.generateId(),
        // The plan's own request: no client stands behind this call (callModel reads only the plan's fields).
        request: new Request('http://queuegate.internal/v1/embeddings', { method: 'POST' }),
        headers: new Headers(),
        path: '/v1/embeddings',
        endpoint,
        text,
        body,
        toolMode: gateway.options.toolMode,
      })
      plan.jobClass = 'batch'
      plan.model = model
      plan.upstreamModel = upstreamModel
      const answer = await callModel(gateway, plan, { signal: options.signal })
      try {
        const raw = await answer.response.body.text(MAX_ANSWER_BYTES)
        return vectorsOf(raw, texts.length, answer.upstream.id)
      } finally {
        answer.lease.release()
      }
    },
  }
}

/** The vectors of an embeddings answer, in input order. */
function vectorsOf(raw: string, count: number, upstream: string): number[][] {
  const parsed = safeParseJson(raw)
  const data = parsed.success && isJsonObject(parsed.value) ? parsed.value.data : undefined
  if (!Array.isArray(data)) throw new UpstreamError(`Upstream ${upstream} answered /v1/embeddings without a data list.`, { code: 'upstream_bad_response' })
  const vectors: number[][] = new Array<number[]>(count)
  for (const [position, item] of data.entries()) {
    if (!isJsonObject(item)) continue
    const index = typeof item.index === 'number' ? item.index : position
    const { embedding } = item
    if (index >= 0 && index < count && Array.isArray(embedding) && embedding.every((x) => typeof x === 'number')) vectors[index] = embedding as number[]
  }
  for (let index = 0; index < count; index++) {
    if (vectors[index] === undefined) throw new UpstreamError(`Upstream ${upstream} answered /v1/embeddings without a vector for input ${index}.`, { code: 'upstream_bad_response' })
  }
  return vectors
}
