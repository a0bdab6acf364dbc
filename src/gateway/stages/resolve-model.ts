/**
 * Stage: the model. Sets `model` (the id the client asked for, which answers carry) and
 * `upstreamModel` (the id routed on and sent): a request without `model` gets the gateway's
 * first listed model, else none (any upstream, each sending its own default); an alias becomes
 * its upstream id in the body, and its answers are renamed back; an id no upstream serves gets
 * 404 `model_not_found` naming the available ones. While the first discovery of the upstreams'
 * models runs, it waits for it (once, at start). Variants and agents resolve here too.
 * @module
 */
import { InvalidRequestError, NotFoundError } from '../../errors.js'
import { isJsonObject } from '../../openai/parse-json.js'
import { addTransform } from '../call-plan.js'
import type { AnswerTransform, CallPlan, CallStage } from '../call-plan.js'
import type { ModelCatalog } from '../model-catalog.js'
import { applyVariant } from '../variants.js'
import type { Variant } from '../variants.js'
import type { Agent } from '../../agents/types.js'

/** The model stage over a catalog. */
export function createResolveModelStage(catalog: ModelCatalog, variants: ReadonlyMap<string, Variant> = new Map(), agents: ReadonlyMap<string, Agent> = new Map()): CallStage {
  function resolve(plan: CallPlan, requested: string | undefined): void {
    const agent = requested === undefined ? undefined : agents.get(requested)
    if (agent !== undefined) {
      // The agent answers; the models it calls are resolved by their own plans.
      plan.agent = agent
      plan.model = requested
      return
    }
    const variant = requested === undefined ? undefined : variants.get(requested)
    if (variant !== undefined) {
      if (!catalog.accepts(variant.model) && variants.get(variant.model) === undefined) {
        throw new NotFoundError(`The model ${JSON.stringify(variant.id)} runs on ${JSON.stringify(variant.model)}, which no upstream serves.`, 'model_not_found', 'model')
      }
      plan.body = applyVariant(variant, plan.body)
      plan.bodyChanged = true
      if (variant.reasoning !== undefined) plan.reasoning = variant.reasoning
      if (variant.reasoningStartsInThink !== undefined) plan.reasoningStartsInThink = variant.reasoningStartsInThink
      resolve(plan, variant.model)
      // Answers name the variant (after any alias's renaming).
      plan.model = variant.id
      addTransform(plan, renameModel(variant.id))
      return
    }
    let model = requested
    if (model === undefined) {
      model = catalog.defaultModel
      if (model === undefined) return
      plan.body.model = model
      plan.bodyChanged = true
    }
    if (!catalog.accepts(model)) {
      const available = catalog.available() ?? []
      throw new NotFoundError(`The model ${JSON.stringify(model)} does not exist here. Available: ${available.length > 0 ? available.join(', ') : 'none'}.`, 'model_not_found', 'model')
    }
    plan.model = model
    const target = catalog.aliasTarget(model)
    if (target === undefined) {
      plan.upstreamModel = model
      return
    }
    plan.upstreamModel = target
    plan.body.model = target
    plan.bodyChanged = true
    addTransform(plan, renameModel(model))
  }
  return {
    name: 'resolve-model',
    prepare(plan: CallPlan): void | Promise<void> {
      let raw = plan.body.model
      if (isJsonObject(raw) && typeof raw.id === 'string') {
        // Some clients send the model object from /v1/models: its id is meant.
        raw = raw.id
        plan.body.model = raw
        plan.bodyChanged = true
      }
      if (raw !== undefined && typeof raw !== 'string') throw new InvalidRequestError('`model` must be a string (or an object with an `id`).', { param: 'model', code: 'invalid_model' })
      const requested = raw !== undefined && raw.trim() !== '' ? raw : undefined
      if (requested !== undefined && agents.has(requested)) return resolve(plan, requested)
      const discovering = catalog.ready()
      if (discovering !== undefined) return discovering.then(() => resolve(plan, requested))
      resolve(plan, requested)
    },
  }
}

/** Answers name the public id the client asked for, not the upstream's. */
function renameModel(model: string): AnswerTransform {
  return {
    stream: (onChunk) => ({
      feed: (chunk) => onChunk(chunk.model === model ? chunk : { ...chunk, model }),
      flush: () => {},
    }),
    completion: (completion) => ({ ...completion, model }),
  }
}
