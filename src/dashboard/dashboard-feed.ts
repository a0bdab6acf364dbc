/**
 * The dashboard's live feed: one SSE stream per open page, each event a whole snapshot. A change
 * schedules one snapshot at most every `minIntervalMs`, serialized once and sent to every page;
 * a quiet gateway still sends one every `heartbeatMs` (the rates move on, and proxies see
 * traffic). With no page open nothing is computed or scheduled.
 * @module
 */
import type { Clock, TimerHandle } from '../gateway/clock.js'

const encoder = new TextEncoder()

/** Options of {@link DashboardFeed}. */
export interface DashboardFeedOptions {
  /** The snapshot to send, as JSON text. */
  snapshot: () => string
  clock: Clock
  /** Shortest time between two snapshots. @default 250 */
  minIntervalMs?: number | undefined
  /** Longest time without one while a page is open. @default 2000 */
  heartbeatMs?: number | undefined
  /** Pages open at once; more get 503 (each costs a little on every push). @default 50 */
  maxStreams?: number | undefined
  /** Snapshots queued for a page that does not read them before it skips some (a later one has everything). @default 4 */
  maxQueued?: number | undefined
}

/** Pushes snapshots to open pages; see the module doc. */
export class DashboardFeed {
  readonly #snapshot: () => string
  readonly #clock: Clock
  readonly #minIntervalMs: number
  readonly #heartbeatMs: number
  readonly #maxStreams: number
  readonly #maxQueued: number
  readonly #streams = new Set<ReadableStreamDefaultController<Uint8Array>>()
  #timer: TimerHandle | undefined
  #heartbeat: TimerHandle | undefined
  #lastPush = Number.NEGATIVE_INFINITY
  #closed = false

  constructor(options: DashboardFeedOptions) {
    const { snapshot, clock, minIntervalMs = 250, heartbeatMs = 2000, maxStreams = 50, maxQueued = 4 } = options
    this.#snapshot = snapshot
    this.#clock = clock
    this.#minIntervalMs = minIntervalMs
    this.#heartbeatMs = heartbeatMs
    this.#maxStreams = maxStreams
    this.#maxQueued = maxQueued
  }

  /** Pages open now. */
  get size(): number {
    return this.#streams.size
  }

  /** Whether another page may open a stream. */
  get full(): boolean {
    return this.#closed || this.#streams.size >= this.#maxStreams
  }

  /** A new page's stream: the current snapshot at once, then one per change (throttled). */
  open(): ReadableStream<Uint8Array> {
    let self: ReadableStreamDefaultController<Uint8Array> | undefined
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = controller
        if (this.#closed) {
          controller.close()
          return
        }
        this.#streams.add(controller)
        controller.enqueue(encoder.encode(`retry: 2000\ndata: ${this.#snapshot()}\n\n`))
        this.#heartbeat ??= this.#clock.setInterval(() => this.#push(), this.#heartbeatMs)
      },
      cancel: () => {
        if (self !== undefined) this.#remove(self)
      },
    })
  }

  /** Something changed: a snapshot goes out soon (at most one per `minIntervalMs`). */
  changed(): void {
    if (this.#streams.size === 0 || this.#timer !== undefined) return
    const wait = Math.max(0, this.#lastPush + this.#minIntervalMs - this.#clock.monotonic())
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined
      this.#push()
    }, wait)
  }

  /** Ends every stream and stops the timers. */
  close(): void {
    this.#closed = true
    for (const controller of [...this.#streams]) {
      this.#remove(controller)
      try {
        controller.close()
      } catch {
        // Already closed or errored by its reader.
      }
    }
  }

  #push(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer)
      this.#timer = undefined
    }
    if (this.#streams.size === 0) return
    this.#lastPush = this.#clock.monotonic()
    const bytes = encoder.encode(`data: ${this.#snapshot()}\n\n`)
    for (const controller of this.#streams) {
      // A page that does not read skips snapshots (each one is whole) instead of piling them up.
      if ((controller.desiredSize ?? 0) <= -this.#maxQueued) continue
      try {
        controller.enqueue(bytes)
      } catch {
        this.#remove(controller)
      }
    }
  }

  #remove(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#streams.delete(controller)
    if (this.#streams.size > 0) return
    if (this.#heartbeat !== undefined) this.#clock.clearInterval(this.#heartbeat)
    this.#heartbeat = undefined
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
