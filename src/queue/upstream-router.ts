/**
 * The interface between the scheduler and a routing policy that chooses an upstream per job from more than its
 * thread key (see cache-aware-router.ts). The scheduler keeps its own rules: eligibility, health, exclusions and
 * `stickyMaxImbalance` as a hard cap on the candidates it offers.
 * @module
 */
import type { PrefixHint } from './prefix-hashes.js'
import type { PrefixStore } from './scheduler-state.js'

/** An upstream the job may go to, as the scheduler sees it when routing. */
export interface RouteCandidate {
  readonly id: string
  readonly slots: number
  readonly running: number
  /** Jobs waiting for it. */
  readonly waiting: number
  /** Moving average of its service time (ms), undefined before its first finished job. */
  readonly serviceMs: number | undefined
  /** Whether the gateway names the slot (`id_slot`); false: the server picks it. Undefined counts as true. */
  readonly slotAffinity?: boolean | undefined
}

/** A routing decision, with what it was based on (for `/v1/jobs/{id}` and the debug log). */
export interface RouteChoice {
  readonly upstream: string
  /** Slot holding the longest cached prefix there (to name as `id_slot`), or undefined. */
  readonly slot: number | undefined
  /** Prompt characters cached at the chosen place. */
  readonly cachedChars: number
  /** Expected wait for a slot there, ms. */
  readonly expectedWaitMs: number
  /** Expected prefill of the uncached part there, ms. */
  readonly expectedPrefillMs: number
  /** Expected cost (ms of someone's prefill) of the cache the job writes over there, when the policy weighs it. */
  readonly expectedEvictionMs?: number | undefined
  /** The next best candidate and its expected time to first token (ms), when there was one. */
  readonly alternative: { readonly upstream: string; readonly expectedMs: number } | undefined
}

/**
 * A decision in words, for `/v1/jobs/{id}`.
 * @example routeReason(choice) // 'prefix hit 5400 chars on gpu0 (slot 1): expected wait 0 ms + prefill 120 ms; alternative gpu1: 3400 ms'
 */
export function routeReason(choice: RouteChoice): string {
  const where = `${choice.upstream}${choice.slot === undefined ? '' : ` (slot ${choice.slot})`}`
  const alternative = choice.alternative === undefined ? '' : `; alternative ${choice.alternative.upstream}: ${Math.round(choice.alternative.expectedMs)} ms`
  return `${choice.cachedChars > 0 ? `prefix hit ${choice.cachedChars} chars on` : 'nothing cached on'} ${where}: expected wait ${Math.round(choice.expectedWaitMs)} ms + prefill ${Math.round(choice.expectedPrefillMs)} ms${choice.expectedEvictionMs === undefined || choice.expectedEvictionMs < 0.5 ? '' : ` + eviction ${Math.round(choice.expectedEvictionMs)} ms`}${alternative}`
}

/**
 * A routing policy behind the scheduler. What upstream slots hold is shared state (the scheduler's
 * {@link SchedulerState.prefixes}, passed in); what the policy learns (rates, statistics) is its own.
 */
export interface UpstreamRouter {
  /** The candidate to bind the job to; undefined leaves the scheduler's own rule. */
  choose(prefix: PrefixHint, candidates: readonly RouteCandidate[], prefixes: PrefixStore): RouteChoice | undefined
  /**
   * The job started on `upstream`, slot `slot` (the scheduler's slot index: the `id_slot` sent with slot affinity;
   * without it the server picks its own slot and the index is an approximation): that slot will hold the prompt.
   */
  started(prefix: PrefixHint, upstream: string, slot: number, prefixes: PrefixStore): void
  /** The job that started there ended (its slot is free and holds its prompt and answer). */
  finished?(prefix: PrefixHint, upstream: string, slot: number): void
  /**
   * Called after `finished` while jobs wait (`queue.waiting`, the one next in line for the slot having waited
   * `queue.nextWaitedMs`): how long (ms) to keep that slot for the request that continues the job's prompt, when such
   * requests come back within milliseconds (a client's tool loop); 0: give it to the queue now. The scheduler gives
   * the held slot to the continuation, or to the queue when the time is up.
   */
  holdMs?(prefix: PrefixHint, upstream: string, slot: number, queue: { readonly waiting: number; readonly nextWaitedMs: number }): number
  /** The server reused these slots behind the gateway's back (all of the upstream's when undefined: it restarted). */
  forgotten?(upstream: string, slots?: readonly number[] | undefined): void
}
