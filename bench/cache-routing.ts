/**
 * Cache-aware routing end to end (issue 15): the same multi-conversation workload through the real gateway with
 * `routing: 'sticky'` (today's rule) and `routing: 'cache-aware'`, against two simulated llama-servers with two
 * slots each that model a prompt cache per slot (a prompt sharing the start of what a slot holds is prefilled from
 * where they differ; time to first token = fixed latency + uncached tokens / prefill rate). Conversations open with
 * one of a few long shared system prompts (agents), run several turns each, a few at once; the figures are the time
 * to first token the `openai` client saw, and the share of prompt tokens the servers served from their caches.
 * The routing simulation (`bench/routing-sim.ts`) models the policies alone; this runs them through the gateway,
 * the HTTP hops and the slots' own queues, in real time (about a minute).
 *
 * Run: `node_modules/.bin/node --import tsx bench/cache-routing.ts` (wrap in `flock /tmp/qg-cpu.lock` on a shared machine).
 * @module
 */
import { pathToFileURL } from 'node:url'
import { createGateway } from '../src/index.js'
import { createRequestListener } from '../src/server/index.js'
import OpenAI from 'openai'
import { startSimulatedUpstream } from '../src/demo/simulated-upstream.js'
import { runConversations, summarize } from '../test/e2e/conversation-workload.js'
import type { WorkloadSummary } from '../test/e2e/conversation-workload.js'
import { listen } from '../test/helpers/listen.js'

interface Workload {
  name: string
  conversations: number
  turns: number
  concurrency: number
  systemChars: number
  userChars: number
}

/**
 * Busy: 12 conversations × 8 turns behind 3 system prompts of ~6 000 tokens, 6 at once on 4 slots. Light: 4
 * conversations, 2 at once (each could keep a slot of its own).
 */
const WORKLOADS: Workload[] = [
  { name: 'busy', conversations: 12, turns: 8, concurrency: 6, systemChars: 24_000, userChars: 800 },
  { name: 'light', conversations: 4, turns: 8, concurrency: 2, systemChars: 24_000, userChars: 800 },
]
/** The servers: 2 × 2 slots, prefill 8 000 tokens/s (a cold system prompt: ~750 ms), 20 ms fixed, 150 tokens/s. */
const SERVER = { slots: 2, promptTokensPerSecond: 8000, baseLatencyMs: 20, tokensPerSecond: 150, answerTokens: [20, 60] as [number, number] }

async function measure(workload: Workload, routing: 'sticky' | 'cache-aware'): Promise<WorkloadSummary & { wallMs: number }> {
  const servers = await Promise.all([0, 1].map(() => startSimulatedUpstream(SERVER)))
  const gateway = createGateway({ upstreams: servers.map((server) => ({ url: `${server.url}/v1`, slots: SERVER.slots, slotAffinity: true })), routing, discoverModels: false })
  const http = await listen(createRequestListener(gateway.fetch))
  try {
    const client = new OpenAI({ baseURL: `${http.url}/v1`, apiKey: 'bench', maxRetries: 0, timeout: 60_000 })
    const systemPrompts = ['release agent: check every change against the release notes. ', 'support agent: answer from the handbook, politely. ', 'research agent: cite the retrieved passages below. '].map((line) => `You are the ${line}`.repeat(Math.ceil(workload.systemChars / line.length)).slice(0, workload.systemChars))
    const started = performance.now()
    const results = await runConversations({ client, model: 'sim-model', conversations: workload.conversations, turns: workload.turns, concurrency: workload.concurrency, systemPrompts, userChars: workload.userChars })
    return { ...summarize(results), wallMs: performance.now() - started }
  } finally {
    await gateway.close({ graceMs: 0 })
    await http.close()
    await Promise.all(servers.map((server) => server.close()))
  }
}

export async function run(print: (line: string) => void = console.log): Promise<void> {
  print(`2 simulated llama-servers × ${SERVER.slots} slots, prefill ${SERVER.promptTokensPerSecond} tokens/s + ${SERVER.baseLatencyMs} ms, ${SERVER.tokensPerSecond} tokens/s; time to first token as the client saw it (queue wait included)`)
  for (const workload of WORKLOADS) {
    print(`\n${workload.name}: ${workload.conversations} conversations × ${workload.turns} turns, ${workload.concurrency} at once, 3 system prompts of ~${workload.systemChars / 4} tokens`)
    print('routing       ttft mean    p50      p95    cached    wall')
    for (const routing of ['sticky', 'cache-aware'] as const) {
      const figures = await measure(workload, routing)
      const ms = (value: number) => `${value.toFixed(0)} ms`.padStart(8)
      print(`${routing.padEnd(12)} ${ms(figures.meanTtftMs)} ${ms(figures.p50TtftMs)} ${ms(figures.p95TtftMs)}  ${`${(figures.cachedShare * 100).toFixed(1)}%`.padStart(6)}  ${`${(figures.wallMs / 1000).toFixed(1)} s`.padStart(6)}`)
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
