/**
 * Stage: the request's tool mode (`X-Tool-Mode` over the gateway's default, unless the endpoint
 * forces one), and the tool-call detector as an answer transform when the request declares tools
 * and text detection is on (calls written as text are recovered, native fragments merged), or in
 * `suppress` mode (calls dropped). Otherwise it adds nothing and the answer keeps the fast path.
 * @module
 */
import type { ToolDefinition } from '../../openai/types.js'
import { detectInCompletion } from '../../toolcalls/parse-tool-calls.js'
import { createToolCallParser } from '../../toolcalls/tool-call-parser.js'
import type { ToolCallDetectionOptions } from '../../toolcalls/tool-call-parser.js'
import { addTransform } from '../call-plan.js'
import type { CallPlan, CallStage } from '../call-plan.js'
import { endpointFor } from '../endpoints.js'
import type { ResolvedGatewayOptions, ToolMode } from '../gateway-options.js'
import type { HeaderLookup } from '../request-access.js'

/** The tool-call stage. */
export function createToolCallStage(options: Pick<ResolvedGatewayOptions, 'textToolCalls'> & Partial<Pick<ResolvedGatewayOptions, 'onEvent'>>, serverTools: { execute: boolean } = { execute: false }): CallStage {
  return {
    name: 'tool-calls',
    prepare(plan: CallPlan): void {
      if (!plan.endpoint.chat) return
      if (plan.endpoint.toolMode === undefined) plan.toolMode = headerToolMode(plan.headers) ?? plan.toolMode
      if (plan.toolMode === 'execute') {
        // The tool loop runs its own detector per round; with no tools to run, execute is passthrough.
        if (serverTools.execute) return
        plan.toolMode = 'passthrough'
      }
      const tools = Array.isArray(plan.body.tools) ? (plan.body.tools as ToolDefinition[]) : []
      const detectText = options.textToolCalls && tools.length > 0
      if (!detectText && plan.toolMode === 'passthrough') return
      const detection: ToolCallDetectionOptions = { tools: detectText ? tools : [], mode: plan.toolMode === 'suppress' ? 'suppress' : 'passthrough' }
      const onEvent = options.onEvent
      // Each call recovered from text is reported with its format (metrics, logs).
      if (detectText && onEvent !== undefined) detection.onRecovered = (call) => onEvent({ type: 'tool-calls-recovered', jobId: plan.jobId, format: call.format, count: 1 })
      addTransform(plan, {
        stream: (onChunk) => createToolCallParser({ ...detection, onChunk }),
        completion: (completion) => detectInCompletion(completion, detection),
      })
    },
  }
}

/** `X-Tool-Mode: execute|passthrough|suppress` (case-insensitive), else undefined. */
function headerToolMode(headers: HeaderLookup): ToolMode | undefined {
  const header = headers.get('x-tool-mode')?.trim().toLowerCase()
  return header === 'passthrough' || header === 'suppress' || header === 'execute' ? header : undefined
}

/** The tool mode of one request: the endpoint's forced mode, else `X-Tool-Mode`, else the default. */
export function toolModeFor(options: Pick<ResolvedGatewayOptions, 'toolMode'>, input: { path: string; headers: HeaderLookup }): ToolMode {
  return endpointFor(input.path)?.toolMode ?? headerToolMode(input.headers) ?? options.toolMode
}
