/**
 * `queuegate --demo`: two simulated llama.cpp servers on loopback for the gateway to serve, so
 * the queue, sticky routing, tool-call recovery and the dashboard can be tried on a machine with
 * no GPU server. `sim-gpu-a` is the faster one and calls tools natively; `sim-gpu-b` is slower,
 * also serves `sim-qwen-14b` (which only it has), and writes every other tool call as text.
 * @module
 */
import type { UpstreamOptions } from '../gateway/upstream.js'
import { startSimulatedUpstream } from './simulated-upstream.js'
import type { SimulatedUpstream } from './simulated-upstream.js'

/** The model both simulated servers serve. */
export const DEMO_MODEL = 'sim-llama-8b'
/** The model only `sim-gpu-b` serves. */
export const DEMO_MODEL_B_ONLY = 'sim-qwen-14b'

/** Running simulated servers. */
export interface Demo {
  /** The gateway's upstreams (two slots each, slot affinity on, as for llama.cpp). */
  upstreams: UpstreamOptions[]
  servers: SimulatedUpstream[]
  close(): Promise<void>
}

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /**
   * Time runs this many times faster (token and prompt rates multiplied, the fixed latency
   * divided): tests run the demo's own setup in milliseconds. @default 1 (the demo's realistic pace)
   */
  speed?: number | undefined
}

/** Starts the demo's two servers. */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const speed = options.speed ?? 1
  if (!(speed > 0) || !Number.isFinite(speed)) throw new TypeError(`speed: expected a positive number, got ${String(speed)}`)
  const paced = (tokensPerSecond: number, promptTokensPerSecond: number): { tokensPerSecond: number; promptTokensPerSecond: number; baseLatencyMs: number } => ({
    tokensPerSecond: tokensPerSecond * speed,
    promptTokensPerSecond: promptTokensPerSecond * speed,
    baseLatencyMs: 80 / speed,
  })
  const servers = await Promise.all([
    startSimulatedUpstream({ name: 'sim-gpu-a', models: [DEMO_MODEL], slots: 2, ...paced(45, 2500) }),
    startSimulatedUpstream({ name: 'sim-gpu-b', models: [DEMO_MODEL, DEMO_MODEL_B_ONLY], slots: 2, ...paced(28, 1500), textToolCalls: 'sometimes' }),
  ])
  const [a, b] = servers as [SimulatedUpstream, SimulatedUpstream]
  return {
    upstreams: [
      { url: `${a.url}/v1`, id: 'sim-gpu-a', slots: 2, slotAffinity: true },
      { url: `${b.url}/v1`, id: 'sim-gpu-b', slots: 2, slotAffinity: true },
    ],
    servers,
    async close() {
      await Promise.all(servers.map((server) => server.close()))
    },
  }
}
