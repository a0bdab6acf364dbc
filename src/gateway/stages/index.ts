/**
 * The order of the call plan's stages, written once. Each stage is a file of this folder; what
 * each may change is in ARCHITECTURE.md. A new request-side piece (gateway keys, memory, server-side
 * tools, variants, agents) is a new stage placed here, not an edit of the model call.
 * @module
 */
import type { CallStage } from '../call-plan.js'
import type { ResolvedGatewayOptions } from '../gateway-options.js'
import type { ModelCatalog } from '../model-catalog.js'
import type { ChatMemory } from '../chat-memory.js'
import { createMemoryStage } from './memory.js'
import { createReasoningStage } from './reasoning.js'
import type { StartMemory } from './reasoning.js'
import { createResolveModelStage } from './resolve-model.js'
import { createRouteJobStage } from './route-job.js'
import { createToolCallStage } from './tool-call-detection.js'
import { validateChatBodyStage } from './validate-chat-body.js'
import { createServerToolsStage } from './server-tools.js'
import type { ToolRegistry } from '../../tools/types.js'

/** What the default stages are made from. */
export interface StageInputs {
  options: ResolvedGatewayOptions
  catalog: ModelCatalog
  /** False when there is no routing choice (one upstream, no slot affinity). */
  routesByKey: boolean
  /** Server-side tools, when configured (execute mode). */
  tools?: ToolRegistry | undefined
  /** Chat memory, when configured (its stage is left out otherwise). */
  memory?: ChatMemory | undefined
  /** What the reasoning stage knows of replies that start inside a think block (shared with the template reader). */
  reasoningStarts?: StartMemory | undefined
}

/** The gateway's stages, in order. */
export function defaultStages({ options, catalog, routesByKey, tools, memory, reasoningStarts }: StageInputs): CallStage[] {
  return [
    // 1. Is it a request we can serve at all? (400s)
    validateChatBodyStage,
    // 2. Class and sticky key, from the client's own request (before anything rewrites it).
    //    Memory's namespace is the same key, so with memory on it is always computed.
    createRouteJobStage({ stickyHeader: options.stickyHeader, routesByKey: routesByKey || memory !== undefined, prefixHashes: routesByKey && options.routing === 'cache-aware' }),
    // 3. Which model: alias, the gateway's default, 404 for an unknown one.
    createResolveModelStage(catalog, options.variants, options.agents),
    // 3b. Chat memory (when configured): notes injected, history trimmed, the turn stored after.
    ...(memory === undefined ? [] : [createMemoryStage(memory)]),
    // 4. Answer transforms: the reasoning split (`<think>` → reasoning_content), before the detector.
    createReasoningStage({ ...options, starts: reasoningStarts }),
    // 5. The tool mode; the tool-call detector (not in execute mode: the tool loop runs one per round).
    createToolCallStage(options, { execute: tools !== undefined }),
    // 6. Execute mode: the registry's tools merged into the request, the plan marked for the tool loop
    //    (only with a registry: without one the stage is not there at all).
    ...(tools === undefined ? [] : [createServerToolsStage(options, tools)]),
  ]
}
