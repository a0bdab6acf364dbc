/**
 * Upstream health (issue 12): what the gateway knows of each upstream, and who is in rotation.
 *
 * - **Active probes**: every `intervalMs` (0: none) each upstream is probed (upstream-probe.ts:
 *   `GET /health`, else `GET {apiRoot}/models`), one probe at a time per upstream, each with a
 *   deadline on the clock. The gateway runs the first round at `start()` (`probeAtStart`), so that
 *   `/healthz` does not say `ok` for an upstream that is down; until an upstream was probed or
 *   answered a call its state is `unknown`, and it is in rotation.
 *   A failed probe ejects the upstream at once, a 503 marks it `loading` (out of rotation too),
 *   and a good probe brings it back. Probes may find every upstream down: `/healthz` then says
 *   `ok: false` and `/readyz` 503.
 * - **Passive signals**: model calls report their outcome ({@link UpstreamHealth.report}):
 *   `ejectAfterFailures` failures in a row (connect errors, resets, timeouts, 5xx) eject the
 *   upstream, a 2xx answer resets the count; 4xx answers and aborts say nothing. Passive signals
 *   never eject the last healthy upstream serving the failing call's model (its clients would get
 *   no better answer elsewhere). An upstream back from an ejection is on probation: its next
 *   failure ejects it again. Without probes an ejection lasts `cooldownMs`.
 * - **Unreachable upstreams** ({@link UpstreamHealth.markDown}, the model call's failover): out
 *   of rotation for `cooldownMs` while another healthy upstream serves the model, whatever the
 *   failure count says; a good probe ends the cooldown early. An upstream is in rotation when it
 *   is neither ejected, loading, nor cooling down.
 *
 * Out of rotation means `scheduler.setHealthy(id, false)`: no new jobs, and waiting jobs move to
 * upstreams that serve their model. The gateway never takes every upstream out of rotation: when
 * none serves, all stay in (requests try them and get a 502 at once, as they did before health
 * checks, rather than wait in the queue with no end), while `/healthz` and `/readyz` say the truth.
 * @module
 */
import { AbortError, UpstreamTimeoutError } from '../errors.js'
import type { QueueScheduler } from '../queue/queue-scheduler.js'
import { systemClock } from './clock.js'
import type { Clock, TimerHandle } from './clock.js'
import type { Upstream } from './upstream.js'
import type { ProbeResult, UpstreamProbe } from './upstream-probe.js'

/** An upstream's state on `/healthz`. */
export type UpstreamState = 'unknown' | 'healthy' | 'ejected' | 'loading'

/** What {@link UpstreamHealth.status} tells of one upstream. */
export interface UpstreamHealthStatus {
  state: UpstreamState
  /** The last failure seen (probe or call), kept after a recovery. */
  lastError: string | undefined
  /** Wall-clock time (ms since the epoch) of the last finished probe. */
  lastCheck: number | undefined
  /** Failures in a row. */
  failures: number
}

/** What a model call tells of its upstream ({@link UpstreamHealth.report}). */
export interface CallOutcome {
  /** The upstream's status code, when it answered (2xx: a success; 5xx: a failure; others say nothing). */
  status?: number | undefined
  /** The call's failure when the upstream did not answer (an abort says nothing). */
  error?: Error | undefined
  /** The model the call was routed on (passive ejection keeps the last upstream serving it). */
  model?: string | undefined
}

/** Options of {@link UpstreamHealth}. */
export interface UpstreamHealthOptions {
  /** How long an unreachable upstream stays out of rotation (and an ejection lasts without probes). */
  cooldownMs: number
  /** Called when an unreachable upstream's cooldown starts, or ends with it back in rotation. */
  onChange?: ((upstream: string, healthy: boolean) => void) | undefined
  /** Called when an upstream is ejected, starts loading, or comes back (`error`: why it went out). */
  onState?: ((upstream: string, state: 'healthy' | 'ejected' | 'loading', error: string | undefined) => void) | undefined
  /** Time and timers. @default the real clock */
  clock?: Clock | undefined
  /** Whether an upstream serves a model (undefined model: any upstream does). @default every upstream serves every model */
  serves?: ((upstream: string, model: string | undefined) => boolean) | undefined
  /** The upstreams to probe. @default none (no probes) */
  upstreams?: readonly Upstream[] | undefined
  /** Interval between two probes of an upstream, in ms; 0: no probes. @default 0 */
  intervalMs?: number | undefined
  /**
   * Run the first round of probes at `start()` rather than one interval later, so that `/healthz` and
   * `/readyz` tell the truth from the start (the gateway does; model discovery asks the upstreams at
   * once anyway). @default false
   */
  probeAtStart?: boolean | undefined
  /** A probe's deadline, in ms. @default 5000 */
  probeTimeoutMs?: number | undefined
  /** Failed calls in a row that eject an upstream. @default 3 */
  ejectAfterFailures?: number | undefined
  /** Probes one upstream. @default none: probes need one when `intervalMs` > 0 */
  probe?: UpstreamProbe | undefined
}

interface Entry {
  readonly id: string
  readonly upstream: Upstream | undefined
  failures: number
  /** Why it is out of rotation on its health (the cooldown is apart). */
  out: 'ejected' | 'loading' | undefined
  /** A probe or a call succeeded once. */
  seen: boolean
  lastError: string | undefined
  lastCheck: number | undefined
  /** The unreachable cooldown's timer. */
  cooldown: TimerHandle | undefined
  /** Without probes: the timer that ends an ejection. */
  ejection: TimerHandle | undefined
  /** The probe running now. */
  probing: AbortController | undefined
}

/** Tracks upstream health and keeps the scheduler's rotation in line with it; see the module doc. */
export class UpstreamHealth {
  readonly #scheduler: QueueScheduler
  readonly #cooldownMs: number
  readonly #onChange: ((upstream: string, healthy: boolean) => void) | undefined
  readonly #onState: UpstreamHealthOptions['onState']
  readonly #clock: Clock
  readonly #serves: (upstream: string, model: string | undefined) => boolean
  readonly #intervalMs: number
  readonly #probeAtStart: boolean
  readonly #probeTimeoutMs: number
  readonly #ejectAfter: number
  readonly #probe: UpstreamProbe | undefined
  readonly #entries = new Map<string, Entry>()
  #interval: TimerHandle | undefined
  #closed = false

  constructor(scheduler: QueueScheduler, options: UpstreamHealthOptions) {
    this.#scheduler = scheduler
    this.#cooldownMs = options.cooldownMs
    this.#onChange = options.onChange
    this.#onState = options.onState
    this.#serves = options.serves ?? (() => true)
    this.#clock = options.clock ?? systemClock
    this.#intervalMs = options.intervalMs ?? 0
    this.#probeAtStart = options.probeAtStart ?? false
    this.#probeTimeoutMs = options.probeTimeoutMs ?? 5000
    this.#ejectAfter = options.ejectAfterFailures ?? 3
    this.#probe = options.probe
    const upstreams = new Map((options.upstreams ?? []).map((upstream) => [upstream.id, upstream]))
    for (const state of scheduler.snapshot().upstreams) {
      this.#entries.set(state.id, { id: state.id, upstream: upstreams.get(state.id), failures: 0, out: undefined, seen: false, lastError: undefined, lastCheck: undefined, cooldown: undefined, ejection: undefined, probing: undefined })
    }
  }

  /**
   * Starts the probes, when there is an interval and a probe: every interval, the first round at
   * once with `probeAtStart` (else one interval from now).
   */
  start(): void {
    if (this.#closed || this.#interval !== undefined || this.#intervalMs <= 0 || this.#probe === undefined) return
    const round = (): void => {
      for (const entry of this.#entries.values()) void this.#runProbe(entry)
    }
    this.#interval = this.#clock.setInterval(round, this.#intervalMs)
    if (this.#probeAtStart) round()
  }

  /** What is known of `upstream`. */
  status(upstream: string): UpstreamHealthStatus {
    const entry = this.#entry(upstream)
    const state: UpstreamState = entry.out ?? (entry.cooldown !== undefined ? 'ejected' : entry.seen ? 'healthy' : 'unknown')
    return { state, lastError: entry.lastError, lastCheck: entry.lastCheck, failures: entry.failures }
  }

  /** Whether `upstream` serves: neither ejected, loading, nor cooling down. */
  serving(upstream: string): boolean {
    return this.#serving(this.#entry(upstream))
  }

  /** Whether some upstream serves (else `/healthz` says `ok: false` and `/readyz` 503). */
  canServe(): boolean {
    return [...this.#entries.values()].some((entry) => this.#serving(entry))
  }

  /**
   * Whether an upstream outside `excluded` serves (is in rotation) and takes `model`: where a
   * call that failed on the excluded ones may be retried.
   */
  servesOutside(excluded: ReadonlySet<string>, model: string | undefined): boolean {
    for (const entry of this.#entries.values()) if (!excluded.has(entry.id) && this.#serving(entry) && this.#serves(entry.id, model)) return true
    return false
  }

  /** A model call on `upstream` got a 2xx answer: its run of failures ends (passive signals; see the module doc). */
  succeeded(upstream: string): void {
    const entry = this.#entries.get(upstream)
    if (entry === undefined || (entry.failures === 0 && entry.seen)) return
    entry.failures = 0
    entry.seen = true
  }

  /** A model call's outcome (see {@link UpstreamHealth.succeeded} for the common case, which allocates nothing). */
  report(upstream: string, outcome: CallOutcome): void {
    const entry = this.#entries.get(upstream)
    if (entry === undefined || this.#closed) return
    const { status, error } = outcome
    if (status !== undefined && status >= 200 && status < 300) {
      entry.failures = 0
      entry.seen = true
      return
    }
    const failed = status === undefined ? error !== undefined && !(error instanceof AbortError) : status >= 500
    if (!failed) return
    entry.failures += 1
    entry.lastError = error?.message ?? `HTTP ${status}`
    if (entry.out === undefined && entry.failures >= this.#ejectAfter && this.#othersServe(upstream, outcome.model)) this.#setOut(entry, 'ejected')
  }

  /**
   * Takes `upstream` out of rotation for the cooldown, unless no other healthy upstream serves
   * `model` (then the job's client gets the 502 at once rather than wait for the cooldown).
   * True when it did (the caller may then run the job elsewhere).
   */
  markDown(upstream: string, model?: string | undefined): boolean {
    if (!this.#othersServe(upstream, model)) return false
    const entry = this.#entry(upstream)
    if (entry.cooldown !== undefined) return true
    const wasServing = this.#serving(entry)
    // (The real clock's timers are unref'd: a pending cooldown does not keep the process alive.)
    entry.cooldown = this.#clock.setTimeout(() => this.#endCooldown(entry), this.#cooldownMs)
    this.#apply()
    if (wasServing) this.#onChange?.(upstream, false)
    return true
  }

  /** Stops the probes and cancels every timer. */
  close(): void {
    this.#closed = true
    if (this.#interval !== undefined) this.#clock.clearInterval(this.#interval)
    this.#interval = undefined
    for (const entry of this.#entries.values()) {
      if (entry.cooldown !== undefined) this.#clock.clearTimeout(entry.cooldown)
      if (entry.ejection !== undefined) this.#clock.clearTimeout(entry.ejection)
      entry.cooldown = undefined
      entry.ejection = undefined
      entry.probing?.abort(new AbortError('The gateway closed.'))
    }
  }

  #entry(upstream: string): Entry {
    const entry = this.#entries.get(upstream)
    if (entry === undefined) throw new TypeError(`Unknown upstream ${JSON.stringify(upstream)}`)
    return entry
  }

  /** Another upstream that serves (is neither out nor cooling down) takes `model`. */
  #othersServe(upstream: string, model: string | undefined): boolean {
    for (const entry of this.#entries.values()) if (entry.id !== upstream && this.#serving(entry) && this.#serves(entry.id, model)) return true
    return false
  }

  #serving(entry: Entry): boolean {
    return entry.out === undefined && entry.cooldown === undefined
  }

  /**
   * Puts the scheduler's rotation in line: the upstreams that serve, or every upstream when none
   * does (the gateway never takes them all out: requests then try them and get the upstream's
   * own failure at once, rather than wait in the queue for one to come back).
   */
  #apply(): void {
    const entries = [...this.#entries.values()]
    const none = !entries.some((entry) => this.#serving(entry))
    for (const entry of entries) this.#scheduler.setHealthy(entry.id, none || this.#serving(entry))
  }

  #endCooldown(entry: Entry): void {
    entry.cooldown = undefined
    this.#apply()
    if (this.#serving(entry)) this.#onChange?.(entry.id, true)
  }

  /** Ejects, marks loading, or (undefined) brings back an upstream, and says so. */
  #setOut(entry: Entry, out: Entry['out']): void {
    if (entry.out === out) return
    entry.out = out
    if (entry.ejection !== undefined) this.#clock.clearTimeout(entry.ejection)
    entry.ejection = undefined
    if (out === undefined) {
      // On probation: the next failure ejects it again.
      entry.failures = Math.max(0, this.#ejectAfter - 1)
    } else if (this.#interval === undefined) {
      // No probe will bring it back: the ejection lasts a cooldown.
      entry.ejection = this.#clock.setTimeout(() => {
        entry.ejection = undefined
        this.#setOut(entry, undefined)
      }, this.#cooldownMs)
    }
    this.#apply()
    this.#onState?.(entry.id, out ?? 'healthy', out === undefined ? undefined : entry.lastError)
  }

  async #runProbe(entry: Entry): Promise<void> {
    const probe = this.#probe
    if (this.#closed || entry.probing !== undefined || entry.upstream === undefined || probe === undefined) return
    const controller = new AbortController()
    entry.probing = controller
    const timer = this.#clock.setTimeout(() => controller.abort(new UpstreamTimeoutError(`Upstream ${entry.id} did not answer its health probe within ${this.#probeTimeoutMs} ms.`)), this.#probeTimeoutMs)
    let result: ProbeResult
    try {
      result = await Promise.race([probe(entry.upstream, controller.signal), aborted(controller.signal)])
    } catch (error) {
      result = { state: 'down', error: error instanceof Error ? error.message : String(error) }
    } finally {
      this.#clock.clearTimeout(timer)
      entry.probing = undefined
    }
    if (this.#closed) return
    entry.lastCheck = this.#clock.now()
    if (result.state === 'healthy') {
      entry.seen = true
      if (entry.cooldown !== undefined) {
        // Reachable again: the unreachable cooldown has no reason to go on.
        this.#clock.clearTimeout(entry.cooldown)
        entry.cooldown = undefined
        if (entry.out === undefined) this.#endCooldown(entry)
      }
      this.#setOut(entry, undefined)
      return
    }
    entry.lastError = result.error
    if (result.state === 'down') entry.failures += 1
    this.#setOut(entry, result.state === 'loading' ? 'loading' : 'ejected')
  }
}

/** Rejects with the signal's reason once it aborts (a probe that ignores its signal still ends on time). */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason))), { once: true })
  })
}
