/**
 * `--agent ./my-agent.mjs`: agents from modules. A module's default export is the agent (an async
 * generator function or a function, see `Agent`); its model id is the module's `id` export, else
 * the file name without its extension.
 * @module
 */
import { basename, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Agent } from '../agents/types.js'
import { ConfigError } from './config-values.js'

/** Imports each agent module; a module that cannot be loaded, or exports no agent, is a `ConfigError` naming it. */
export async function loadAgentModules(paths: readonly string[], cwd: string): Promise<Record<string, Agent>> {
  const agents: Record<string, Agent> = {}
  const sources = new Map<string, string>()
  for (const path of paths) {
    let module: Record<string, unknown>
    try {
      module = (await import(pathToFileURL(resolve(cwd, path)).href)) as Record<string, unknown>
    } catch (error) {
      throw new ConfigError(`--agent ${path}: the module could not be loaded: ${error instanceof Error ? error.message : String(error)}`)
    }
    const agent = module.default
    if (typeof agent !== 'function') throw new ConfigError(`--agent ${path}: the module's default export must be the agent (an async generator function or a function), got ${typeof agent}`)
    const id = typeof module.id === 'string' && module.id.trim() !== '' ? module.id.trim() : basename(path).replace(/\.[cm]?[jt]s$/, '')
    const earlier = sources.get(id)
    if (earlier !== undefined) throw new ConfigError(`--agent ${path}: the id ${JSON.stringify(id)} is taken by ${earlier}; give one of them an \`id\` export`)
    sources.set(id, path)
    agents[id] = agent as Agent
  }
  return agents
}
