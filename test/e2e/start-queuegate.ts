/**
 * Starts queuegate on 127.0.0.1:0 through the real node:http bridge, with the official
 * `openai` client pointed at it, and records the gateway's events so tests can await them.
 * @module
 */
import OpenAI from 'openai'
import { createGateway } from 'queuegate'
import type { Gateway, GatewayEvent, GatewayOptions } from 'queuegate'
import { createRequestListener } from 'queuegate/server'
import { listen } from '../helpers/listen.js'

/** A running gateway for a test. */
export interface TestGateway {
  url: string
  gateway: Gateway
  client: OpenAI
  events: GatewayEvent[]
  /** Resolves with the first (already seen or future) event matching `predicate`. */
  waitForEvent(predicate: (event: GatewayEvent) => boolean, timeoutMs?: number): Promise<GatewayEvent>
  close(): Promise<void>
}

/** Starts a gateway for a test; close it in afterEach. */
export async function startQueuegate(options: GatewayOptions): Promise<TestGateway> {
  const events: GatewayEvent[] = []
  const waiters = new Set<{ predicate: (event: GatewayEvent) => boolean; resolve: (event: GatewayEvent) => void }>()
  const gateway = createGateway({
    // These scenarios name models freely and count each upstream's requests from the first chat
    // call; model discovery (GET /v1/models at start) has its own tests, which turn it on.
    discoverModels: false,
    // Health probes (GET /health every healthIntervalMs) would land among the requests these
    // scenarios count, in order; the health tests turn them on.
    healthIntervalMs: 0,
    ...options,
    onEvent: (event) => {
      events.push(event)
      options.onEvent?.(event)
      for (const waiter of waiters) {
        if (waiter.predicate(event)) {
          waiters.delete(waiter)
          waiter.resolve(event)
        }
      }
    },
  })
  const server = await listen(createRequestListener(gateway.fetch))
  return {
    url: server.url,
    gateway,
    client: new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 15_000 }),
    events,
    waitForEvent(predicate, timeoutMs = 5000) {
      const seen = events.find(predicate)
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (event: GatewayEvent) => {
            clearTimeout(timer)
            resolve(event)
          },
        }
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`no matching gateway event within ${timeoutMs} ms; seen: ${JSON.stringify(events)}`))
        }, timeoutMs)
        waiters.add(waiter)
      })
    },
    async close() {
      await gateway.close({ graceMs: 0 })
      await server.close()
    },
  }
}

/** A one-message chat request body. */
export const hello = { model: 'fake-model', messages: [{ role: 'user' as const, content: 'hi' }] }
