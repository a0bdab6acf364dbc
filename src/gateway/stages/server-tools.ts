/**
 * Stage: server-side tools (execute mode). Adds the registry's tool definitions to the upstream
 * request's `tools`, after the client's own (a client tool of the same name wins: its calls go
 * to the client), unless injection is off, and marks the plan for the tool loop
 * (`plan.toolLoop`), which answers the client instead of the plain relay. Plans in other modes
 * pass untouched.
 * @module
 */
import type { ToolDefinition } from '../../openai/types.js'
import type { ToolRegistry } from '../../tools/types.js'
import type { CallPlan, CallStage } from '../call-plan.js'
import type { ResolvedGatewayOptions } from '../gateway-options.js'

/** The server-tools stage; a no-op without a registry. */
export function createServerToolsStage(options: Pick<ResolvedGatewayOptions, 'injectTools'>, registry: ToolRegistry | undefined): CallStage {
  // The first requests wait for the registry's first listing (once); later ones take the list as it is.
  let ready: Promise<void> | undefined
  let listed = false
  const mark = (plan: CallPlan): void => {
    const own = Array.isArray(plan.body.tools) ? (plan.body.tools as unknown[]).filter(isToolDefinition) : []
    const clientTools = new Set(own.map((tool) => tool.function.name))
    const added = (registry as ToolRegistry).definitions().filter((tool) => !clientTools.has(tool.function.name))
    if (options.injectTools && added.length > 0) {
      plan.body = { ...plan.body, tools: [...own, ...added] }
      plan.bodyChanged = true
    }
    plan.toolLoop = { clientTools, detectTools: [...own, ...added] }
  }
  return {
    name: 'server-tools',
    prepare(plan: CallPlan): void | Promise<void> {
      if (registry === undefined || plan.toolMode !== 'execute' || !plan.endpoint.chat) return
      if (listed) return mark(plan)
      ready ??= registry.ready().then(
        () => {
          listed = true
        },
        () => {
          listed = true
        },
      )
      return ready.then(() => mark(plan))
    },
  }
}

function isToolDefinition(value: unknown): value is ToolDefinition {
  if (typeof value !== 'object' || value === null) return false
  const fn = (value as { function?: { name?: unknown } }).function
  return typeof fn === 'object' && fn !== null && typeof fn.name === 'string' && fn.name !== ''
}
