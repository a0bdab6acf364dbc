/**
 * Worker thread of the gateway benchmark, so the upstream, the proxy under test and the load
 * client each have their own event loop. `workerData.role`: `upstream` runs the fake upstream;
 * `proxy` starts targets on request.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import { startFakeUpstream } from '../test/e2e/fake-upstream.js'
import { benchUpstreamOptions, probeQueuegate, startTarget } from './bench-targets.js'
import type { ObserveMode, StartedTarget, TargetKind } from './bench-targets.js'

/** A request from the main thread; answered with `{ id, value }` or `{ id, error }`. */
export type WorkerRequest =
  | { id: number; op: 'reset' }
  | { id: number; op: 'probe' }
  | { id: number; op: 'start'; kind: TargetKind; upstreamUrl: string; slots: number; gateway?: Record<string, unknown> | undefined; observe?: ObserveMode | undefined }
  | { id: number; op: 'close' }

const port = parentPort
if (port === null) throw new Error('bench-worker.ts runs as a worker thread')
const { role, slots } = workerData as { role: 'upstream' | 'proxy'; slots?: number | undefined }

const upstream = role === 'upstream' ? await startFakeUpstream({ ...benchUpstreamOptions(), ...(slots === undefined ? {} : { slots }) }) : undefined
const targets: StartedTarget[] = []

port.on('message', (message: WorkerRequest) => {
  const answer = async (): Promise<unknown> => {
    switch (message.op) {
      case 'reset':
        upstream?.reset()
        return upstream?.maxConcurrency
      case 'probe':
        return probeQueuegate()
      case 'start': {
        const target = await startTarget(message.kind, message.upstreamUrl, { slots: message.slots, gateway: message.gateway, observe: message.observe })
        targets.push(target)
        return target.url
      }
      case 'close':
        await Promise.all(targets.splice(0).map((t) => t.close()))
        await upstream?.close()
        return undefined
    }
  }
  answer().then(
    (value) => port.postMessage({ id: message.id, value }),
    (error: unknown) => port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  )
})
port.postMessage({ ready: true, url: upstream?.url })
