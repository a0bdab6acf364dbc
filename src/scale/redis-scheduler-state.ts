/**
 * A {@link SchedulerState} shared by several gateway replicas through Redis (or Valkey): slot leases, the
 * global order of waiting jobs, the sticky map. The scheduler reads a local mirror (synchronous, on the
 * dispatch path) kept by the state's pub/sub messages, and asks the {@link SlotAuthority} (one Lua script,
 * one round trip) before it starts a job. When Redis cannot be reached the replica serves on a local share
 * of each upstream's slots, and rejoins when Redis is back. ioredis is loaded only here, on first use.
 * @module
 */
import { randomUUID } from 'node:crypto'
import type { Redis, RedisOptions } from 'ioredis'
import { InMemoryStickyStore } from '../queue/in-memory-scheduler-state.js'
import { PrefixIndex } from '../queue/prefix-index.js'
import type { LoadView, PrefixPlace, PrefixStore, SchedulerState, SharedJob, SharedStateStatus, SlotAuthority, SlotTable, StickyEntry, StickyStore } from '../queue/scheduler-state.js'
import { redactUrl } from '../gateway/upstream.js'
import { ADOPT, CONFIRM, DEQUEUE, HEARTBEAT, LOOKUP, REGISTER, RELEASE, REQUEUE } from './redis-scripts.js'

/** Options of {@link createRedisSchedulerState}. */
export interface RedisSchedulerStateOptions {
  /** Redis URL, e.g. `redis://:password@10.0.0.5:6379/0` (`rediss://` for TLS). */
  url: string
  /** Prefix of every key and of the channel; replicas that share slots use the same one. @default 'queuegate:' */
  keyPrefix?: string | undefined
  /** A slot lease lasts this long unless its replica renews it (every third of it), in ms. @default 15_000 */
  leaseTtlMs?: number | undefined
  /** As the scheduler's option of that name (the shared order ages batch jobs the same way). @default 30_000 */
  batchMaxWaitMs?: number | undefined
  /** How long a thread key remembers its upstream, in ms; 0 disables stickiness. @default 600_000 */
  stickyTtlMs?: number | undefined
  /** Most thread keys each replica's mirror remembers (LRU). @default 100_000 */
  maxStickyKeys?: number | undefined
  /** This replica's id (unique among the replicas). @default a random UUID */
  replicaId?: string | undefined
  /** Mode changes and failures, for the log (`shared` / `local` / `rejoining`). */
  onEvent?: ((event: SharedStateEvent) => void) | undefined
  /** Test seams. */
  _internal?: { rejoinMs?: number | undefined; maxRetryMs?: number | undefined } | undefined
}

/** What the shared state reports. */
export interface SharedStateEvent {
  type: 'shared-state'
  mode: SharedStateMode
  message: string
}

/** See {@link SharedStateStatus}. */
export type SharedStateMode = SharedStateStatus['mode']

/** Counts of Redis calls, for the bench (round trips per job). */
export interface RedisCallCounts {
  confirm: number
  register: number
  dequeue: number
  release: number
  heartbeat: number
}

interface UpstreamMirror {
  readonly id: string
  readonly slots: number
  /** Slots held by any replica, as the mirror knows (slot → `{replica}|{job}`). */
  readonly busy: Map<number, string>
  /** Last use per slot in Redis time (-Infinity: never). */
  readonly lastUsed: Float64Array
  /** This replica's running jobs here: job → slot. */
  readonly own: Map<string, number>
  /** This replica's jobs started on the local share (no lease in Redis yet). */
  readonly local: Set<string>
  /** Backoff of the re-check after a refusal with slots free (0: none pending); see `#recheck`. */
  recheckMs: number
  recheck: ReturnType<typeof setTimeout> | undefined
  /** Slots each replica held when Redis was lost (see `#allowance`). */
  readonly heldAtLoss: Map<string, number>
  /** Other replicas' waiting jobs here: member → [class, time]. */
  readonly waiting: Map<string, readonly [string, number]>
  /** This replica's waiting jobs here (the scheduler's count). */
  localWaiting: number
}

type Script = (...args: Array<string | number>) => Promise<unknown>

/** The mirror's slot table: the scheduler reads it; the authority changes it (see {@link SlotAuthority}). */
class MirrorSlotTable implements SlotTable {
  constructor(readonly state: RedisSchedulerState) {}
  define(upstream: string, slots: number): void {
    this.state.define(upstream, slots)
  }
  claim(): number | undefined {
    throw new Error('A shared scheduler state grants slots through its authority.')
  }
  free(): void {
    throw new Error('A shared scheduler state frees slots through its authority.')
  }
  running(upstream: string): number {
    return this.state.running(upstream)
  }
  coldestFree(upstream: string): number | undefined {
    return this.state.coldestFree(upstream)
  }
}

/** The scheduler state on Redis: create it with {@link createRedisSchedulerState}. */
export class RedisSchedulerState implements SchedulerState, SlotAuthority {
  readonly sticky: StickyStore
  readonly slots: SlotTable
  readonly load: LoadView
  readonly prefixes: PrefixStore
  readonly authority: SlotAuthority = this
  readonly replica: string
  /** Redis calls made, by kind (the bench's round trips). */
  readonly calls: RedisCallCounts = { confirm: 0, register: 0, dequeue: 0, release: 0, heartbeat: 0 }
  readonly #client: Redis
  readonly #subscriber: Redis
  readonly #prefix: string
  readonly #channel: string
  readonly #leaseTtlMs: number
  readonly #batchMaxWaitMs: number
  readonly #stickyTtlMs: number
  readonly #maxStickyKeys: number
  readonly #url: string
  readonly #onEvent: ((event: SharedStateEvent) => void) | undefined
  readonly #lostListeners: Array<(jobId: string) => void> = []
  readonly #rejoinMs: number
  readonly #maxRetryMs: number
  /** In local mode: checks whether Redis answers again (a call can fail on a connection that stays up). */
  #probe: ReturnType<typeof setInterval> | undefined
  readonly #upstreams = new Map<string, UpstreamMirror>()
  /** Registered jobs' time in the global order (Redis time). */
  readonly #stamps = new Map<string, number>()
  readonly #listeners: Array<(upstream: string | undefined) => void> = []
  readonly #scripts: Record<'confirm' | 'release' | 'register' | 'dequeue' | 'heartbeat' | 'adopt' | 'requeue' | 'lookup', Script>
  /** This replica's waiting jobs, in its own order (registered, or to be when Redis is back). */
  readonly #waiting = new Map<string, SharedJob>()
  #mode: SharedStateMode = 'shared'
  #replicas: string[] = []
  /** Redis time minus performance.now(), from the last reply. */
  #offset = 0
  #heartbeat: ReturnType<typeof setInterval> | undefined
  #rejoin: ReturnType<typeof setTimeout> | undefined
  #wake: ReturnType<typeof setTimeout> | undefined
  #shareTimer: ReturnType<typeof setTimeout> | undefined
  /** When Redis was lost last (performance.now()). */
  #lostAt: number | undefined
  /** Redis calls on their way (see {@link RedisSchedulerState.settled}). */
  #pending = 0
  #settledWaiters: Array<() => void> = []
  #started = false
  #closed = false

  constructor(RedisClass: typeof Redis, options: RedisSchedulerStateOptions) {
    const { url, keyPrefix = 'queuegate:', leaseTtlMs = 15_000, batchMaxWaitMs = 30_000, stickyTtlMs = 600_000, maxStickyKeys = 100_000, replicaId = randomUUID(), onEvent, _internal = {} } = options
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) throw new TypeError(`redis.url must be a redis:// or rediss:// URL, got ${JSON.stringify(typeof url === 'string' ? redactUrl(url) : url)}`)
    if (!Number.isInteger(leaseTtlMs) || leaseTtlMs < 300) throw new TypeError(`leaseTtlMs must be an integer >= 300, got ${JSON.stringify(leaseTtlMs)}`)
    if (typeof keyPrefix !== 'string') throw new TypeError(`redis.keyPrefix must be a string, got ${JSON.stringify(keyPrefix)}`)
    this.replica = replicaId
    this.#prefix = keyPrefix
    this.#channel = `${keyPrefix}events`
    this.#leaseTtlMs = leaseTtlMs
    this.#batchMaxWaitMs = batchMaxWaitMs
    this.#stickyTtlMs = stickyTtlMs
    this.#maxStickyKeys = maxStickyKeys
    this.#url = redactUrl(url)
    this.#onEvent = onEvent
    const maxRetryMs = _internal.maxRetryMs ?? 500
    this.#maxRetryMs = maxRetryMs
    // Every replica retries at least every maxRetryMs, so after twice that all have adopted their local jobs.
    this.#rejoinMs = _internal.rejoinMs ?? 2 * maxRetryMs + 200
    const clientOptions: RedisOptions = {
      // A command never waits for a connection: without Redis the replica decides on its local share.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: Math.max(1000, Math.floor(leaseTtlMs / 3)),
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 100, maxRetryMs),
      lazyConnect: true,
    }
    this.#client = new RedisClass(url, clientOptions)
    this.#subscriber = new RedisClass(url, { ...clientOptions, enableOfflineQueue: true, commandTimeout: undefined })
    const scripts = { confirm: CONFIRM, release: RELEASE, register: REGISTER, dequeue: DEQUEUE, heartbeat: HEARTBEAT, adopt: ADOPT, requeue: REQUEUE, lookup: LOOKUP }
    const bound: Partial<Record<keyof typeof scripts, Script>> = {}
    for (const [name, lua] of Object.entries(scripts) as Array<[keyof typeof scripts, string]>) {
      const command = `qg_${name}`
      this.#client.defineCommand(command, { numberOfKeys: 0, lua })
      const client = this.#client as unknown as Record<string, Script>
      bound[name] = (...args) => {
        this.#pending++
        return (client[command] as Script).call(this.#client, ...args).finally(() => {
          if (--this.#pending === 0) for (const resolve of this.#settledWaiters.splice(0)) resolve()
        })
      }
    }
    this.#scripts = bound as Record<keyof typeof scripts, Script>
    this.sticky = new MirrorStickyStore(new InMemoryStickyStore({ stickyTtlMs, maxStickyKeys }))
    this.slots = new MirrorSlotTable(this)
    // Cache-aware routing's prefix index: each replica keeps its own and tells the others what it records.
    this.prefixes = new MirrorPrefixStore(new PrefixIndex(), (message) => {
      if (this.#mode === 'local') return
      this.#client.publish(this.#channel, JSON.stringify({ ...message, r: this.replica })).catch(() => undefined)
    })
    this.load = {
      waiting: (upstream) => {
        const mirror = this.#upstreams.get(upstream)
        return mirror === undefined ? 0 : mirror.localWaiting + mirror.waiting.size
      },
      addWaiting: (upstream, delta) => {
        const mirror = this.#upstreams.get(upstream)
        if (mirror !== undefined) mirror.localWaiting += delta
      },
    }
    this.#client.on('error', () => {}) // failures surface as failed commands and 'close'
    this.#subscriber.on('error', () => {})
    this.#client.on('close', () => this.#lost('the connection to Redis closed'))
    this.#client.on('ready', () => this.#back())
    this.#subscriber.on('message', (_channel: string, message: string) => this.#message(message))
  }

  /** Connects both clients and subscribes; when Redis cannot be reached the replica starts on its local share. */
  async start(): Promise<void> {
    await this.#subscriber.connect().then(
      () => this.#subscriber.subscribe(this.#channel),
      () => undefined,
    )
    try {
      await this.#client.connect()
    } catch (error) {
      this.#lost(`Redis is unreachable at start (${(error as Error).message})`)
      return
    }
    await this.#loadSticky().catch(() => undefined)
  }

  /**
   * A replica that starts late learns the conversations the others placed (its mirror hears only what
   * happens from now on): the shared sticky map's entries, at most `maxStickyKeys`, read once at start.
   */
  async #loadSticky(): Promise<void> {
    const prefix = `${this.#prefix}sticky:`
    let cursor = '0'
    let loaded = 0
    for (let round = 0; round < 10_000 && loaded < this.#maxStickyKeys; round++) {
      const [next, keys] = await this.#client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      const wanted = keys.slice(0, this.#maxStickyKeys - loaded)
      const values = wanted.length === 0 ? [] : await this.#client.mget(...wanted)
      wanted.forEach((key, index) => {
        const value = values[index]
        if (value === null || value === undefined) return
        const [upstream, slot] = JSON.parse(value) as [string, number]
        if (this.#upstreams.size > 0 && !this.#upstreams.has(upstream)) return
        this.sticky.set(key.slice(prefix.length), { upstream, slot })
        loaded++
      })
      if (cursor === '0') break
    }
  }

  /** The mode, replica and replica count, for `/healthz`. */
  status(): SharedStateStatus {
    return { mode: this.#mode, replica: this.replica, replicas: Math.max(1, this.#replicas.length), store: this.#url }
  }

  /**
   * Resolves once no Redis call is on its way and none started in the turn after (tests compare decisions
   * with the in-memory state step by step); gives up after 1000 rounds.
   */
  async settled(): Promise<void> {
    for (let round = 0; round < 1000; round++) {
      if (this.#pending > 0) await new Promise<void>((resolve) => this.#settledWaiters.push(resolve))
      await new Promise<void>((resolve) => setImmediate(resolve))
      if (this.#pending === 0) return
    }
  }

  /** Stops the heartbeat and closes the connections; this replica's leases run out (or were released). */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#heartbeat)
    clearTimeout(this.#rejoin)
    clearTimeout(this.#wake)
    clearInterval(this.#probe)
    for (const mirror of this.#upstreams.values()) clearTimeout(mirror.recheck)
    clearTimeout(this.#shareTimer)
    this.#client.removeAllListeners('close')
    await Promise.allSettled([this.#client.quit(), this.#subscriber.quit()])
    this.#client.disconnect()
    this.#subscriber.disconnect()
  }

  // --- the mirror's slot table -------------------------------------------------------------------------

  /** @internal */
  define(upstream: string, slots: number): void {
    this.#upstreams.set(upstream, { id: upstream, slots, busy: new Map(), lastUsed: new Float64Array(slots).fill(Number.NEGATIVE_INFINITY), own: new Map(), local: new Set(), recheckMs: 0, recheck: undefined, heldAtLoss: new Map(), waiting: new Map(), localWaiting: 0 })
    if (!this.#started) {
      this.#started = true
      // After the scheduler defined its upstreams (same tick): the first heartbeat loads the mirror.
      queueMicrotask(() => void this.#beat())
      this.#heartbeat = setInterval(() => void this.#beat(), Math.floor(this.#leaseTtlMs / 3))
      this.#heartbeat.unref?.()
    }
  }

  /** @internal Slots taken: shared, every replica's (the mirror); on the local share, the part of the slots not ours plus our jobs. */
  running(upstream: string): number {
    const mirror = this.#mirror(upstream)
    if (this.#mode === 'shared') return Math.max(mirror.busy.size, mirror.own.size)
    return Math.min(mirror.slots, mirror.slots - this.#allowance(mirror) + mirror.own.size)
  }

  /** @internal */
  coldestFree(upstream: string): number | undefined {
    const mirror = this.#mirror(upstream)
    if (this.running(upstream) >= mirror.slots) return undefined
    let coldest: number | undefined
    for (let slot = 0; slot < mirror.slots; slot++) {
      if (mirror.busy.has(slot)) continue
      const used = mirror.lastUsed[slot] as number
      if (coldest === undefined || used < coldest) coldest = used
    }
    return coldest
  }

  // --- the authority -------------------------------------------------------------------------------------

  register(job: SharedJob): void {
    this.#waiting.set(job.id, job)
    if (this.#mode === 'local') return
    this.calls.register++
    this.#scripts.register(this.#prefix, this.#channel, this.replica, job.id, job.waitingOn, job.class === 'interactive' ? 'i' : 'b').then(
      (stamp) => this.#stamps.set(job.id, Number(stamp)),
      (error: unknown) => this.#failed(error),
    )
  }

  confirm(job: SharedJob, upstream: string, { preferred, register }: { preferred: number | undefined; register: boolean }): Promise<number | undefined> {
    const mirror = this.#mirror(upstream)
    if (register && !this.#waiting.has(job.id)) this.#waiting.set(job.id, job)
    if (this.#mode === 'local') return Promise.resolve(this.#granted(job.id, this.#grantLocally(mirror, job.id, preferred)))
    // Rejoining: Redis decides (the leases count), and the local share still bounds this replica, since replicas
    // not back yet run unleased jobs on theirs.
    if (this.#mode === 'rejoining' && mirror.own.size >= this.#allowance(mirror)) return Promise.resolve(undefined)
    const track = this.#waiting.get(job.id)
    this.calls.confirm++
    const args = [
      this.#prefix,
      this.#channel,
      this.replica,
      job.id,
      upstream,
      mirror.slots,
      preferred ?? -1,
      job.class === 'interactive' ? 'i' : 'b',
      register ? 1 : 0,
      job.waitingOn,
      this.#batchMaxWaitMs,
      this.#leaseTtlMs,
      job.threadKey ?? '',
      this.#stickyTtlMs,
    ]
    return this.#scripts.confirm(...args).then(
      (reply) => {
        const [granted, value, busy, now] = reply as [number, number, string, number]
        this.#offset = Number(now) - performance.now()
        if (granted === 1) {
          mirror.recheckMs = 0
          this.#stamps.delete(job.id)
          if (this.#waiting.get(job.id) === track) this.#waiting.delete(job.id)
          mirror.own.set(job.id, value)
          mirror.busy.set(value, `${this.replica}|${job.id}`)
          mirror.lastUsed[value] = Number(now)
          return value
        }
        this.#stamps.set(job.id, Number(value))
        // The reply knows which slots are held: correct the mirror (its messages may be behind).
        const held = new Set(busy === '' ? [] : busy.split(',').map(Number))
        for (const slot of mirror.busy.keys()) if (!held.has(slot)) mirror.busy.delete(slot)
        for (const slot of held) if (!mirror.busy.has(slot)) mirror.busy.set(slot, '?')
        // Refused with slots free: jobs of other replicas go first, and they should take them. Should they not
        // (a replica that died, a batch job aging by one clock and not the other), look again, backing off.
        if (held.size < mirror.slots) this.#recheck(mirror)
        return undefined
      },
      (error: unknown) => {
        this.#failed(error)
        return this.#granted(job.id, this.#grantLocally(mirror, job.id, preferred))
      },
    )
  }

  dequeue(job: SharedJob): void {
    this.#stamps.delete(job.id)
    this.#waiting.delete(job.id)
    if (this.#mode === 'local') return
    this.calls.dequeue++
    this.#scripts.dequeue(this.#prefix, this.#channel, this.replica, job.id).catch((error: unknown) => this.#failed(error))
  }

  release(jobId: string, upstream: string, slot: number): void {
    const mirror = this.#mirror(upstream)
    mirror.own.delete(jobId)
    if (mirror.busy.get(slot) === `${this.replica}|${jobId}`) mirror.busy.delete(slot)
    mirror.lastUsed[slot] = performance.now() + this.#offset
    if (mirror.local.delete(jobId) || this.#mode === 'local') return // no lease of its own in Redis (or none reachable: it runs out)
    this.calls.release++
    this.#scripts.release(this.#prefix, this.#channel, this.replica, jobId, upstream, slot).catch((error: unknown) => this.#failed(error))
  }

  waitingElsewhere(): { interactive: number; batch: number } {
    let interactive = 0
    let batch = 0
    for (const mirror of this.#upstreams.values()) {
      for (const [jobClass] of mirror.waiting.values()) {
        if (jobClass === 'i') interactive++
        else batch++
      }
    }
    return { interactive, batch }
  }

  ahead(jobId: string, upstream: string, jobClass: 'interactive' | 'batch'): number {
    const mirror = this.#upstreams.get(upstream)
    if (mirror === undefined || mirror.waiting.size === 0) return 0
    const stamp = this.#stamps.get(jobId)
    // Not registered yet (or its reply is on its way): nothing known ahead, the job may be proposed.
    if (stamp === undefined) return 0
    const now = performance.now() + this.#offset
    const aged = now - this.#batchMaxWaitMs
    const first = jobClass === 'interactive' || stamp <= aged
    let ahead = 0
    for (const [otherClass, at] of mirror.waiting.values()) {
      if (otherClass === 'i') ahead += first ? (at < stamp ? 1 : 0) : 1
      else ahead += first ? (at < stamp && at <= aged ? 1 : 0) : at < stamp ? 1 : 0
    }
    return ahead
  }

  onChange(listener: (upstream: string | undefined) => void): void {
    this.#listeners.push(listener)
  }

  async lookup(jobId: string): Promise<Record<string, unknown> | undefined> {
    if (this.#mode === 'local') return undefined
    let text: unknown
    try {
      text = await this.#scripts.lookup(this.#prefix, jobId, this.#batchMaxWaitMs)
    } catch {
      return undefined // the job is simply not found here; an outage shows on the next call that matters
    }
    if (typeof text !== 'string') return undefined
    const record = JSON.parse(text) as { replica?: string; status?: string; upstream?: string; slot?: number; class?: string; queued_at?: number; started_at?: number; ended_at?: number; position?: number; now: number }
    const created = record.queued_at ?? record.started_at ?? record.now
    return {
      id: jobId,
      object: 'queuegate.job',
      status: record.status ?? null,
      kind: record.class === 'b' ? 'batch' : 'interactive',
      upstream: record.upstream ?? null,
      slot: record.slot ?? null,
      position: record.position ?? null,
      created_at: created,
      started_at: record.started_at ?? null,
      ended_at: record.ended_at ?? null,
      wait_ms: (record.started_at ?? (record.status === 'queued' ? record.now : (record.ended_at ?? record.now))) - created,
      // Served by another replica: what this one knows of it comes from the shared state.
      replica: record.replica ?? null,
    }
  }

  onLeaseLost(listener: (jobId: string) => void): void {
    this.#lostListeners.push(listener)
  }

  // --- inside ------------------------------------------------------------------------------------------------

  #mirror(upstream: string): UpstreamMirror {
    const mirror = this.#upstreams.get(upstream)
    if (mirror === undefined) throw new TypeError(`Unknown upstream ${JSON.stringify(upstream)}`)
    return mirror
  }

  /** One look again at an upstream after a refusal that left slots free: 50 ms, doubling to 1 s while refused. */
  #recheck(mirror: UpstreamMirror): void {
    if (mirror.recheck !== undefined || this.#closed) return
    mirror.recheckMs = Math.min(1000, Math.max(50, mirror.recheckMs * 2))
    mirror.recheck = setTimeout(() => {
      mirror.recheck = undefined
      this.#changed(mirror.id)
    }, mirror.recheckMs)
    mirror.recheck.unref?.()
  }

  /** A job granted a slot (`slot` defined) waits no more. */
  #granted(jobId: string, slot: number | undefined): number | undefined {
    if (slot !== undefined) this.#waiting.delete(jobId)
    return slot
  }

  /** This replica's share of an upstream's slots while Redis is away: floor(slots / replicas), at least 1. */
  #share(mirror: UpstreamMirror): number {
    return Math.max(1, Math.floor(mirror.slots / Math.max(1, this.#replicas.length)))
  }

  /**
   * How many jobs this replica may run on the upstream without Redis: its share, less, until the leases they
   * held would have run out (leaseTtlMs after the loss), what other replicas ran beyond their own shares then.
   * Jobs running at the loss are not stopped: a replica above its share starts nothing until it is below.
   */
  #allowance(mirror: UpstreamMirror): number {
    const share = this.#share(mirror)
    if (this.#lostAt === undefined || performance.now() - this.#lostAt >= this.#leaseTtlMs) return share
    let others = 0
    for (const replica of this.#replicas) if (replica !== this.replica) others += Math.max(share, mirror.heldAtLoss.get(replica) ?? 0)
    for (const [replica, held] of mirror.heldAtLoss) if (replica !== this.replica && !this.#replicas.includes(replica)) others += held
    return Math.max(0, Math.min(share, mirror.slots - others))
  }

  /** On the local share: a slot in this replica's own range of indices (so replicas' llama.cpp slots do not meet). */
  #grantLocally(mirror: UpstreamMirror, jobId: string, preferred: number | undefined): number | undefined {
    const share = this.#share(mirror)
    if (mirror.own.size >= this.#allowance(mirror)) return undefined
    const ordinal = Math.max(0, [...this.#replicas].sort().indexOf(this.replica))
    const taken = new Set(mirror.own.values())
    let slot: number | undefined
    for (let k = 0; k < share && slot === undefined; k++) {
      const candidate = (ordinal * share + k) % mirror.slots
      if (!taken.has(candidate)) slot = candidate
    }
    if (preferred !== undefined && !taken.has(preferred) && preferred >= (ordinal * share) % mirror.slots && preferred < (ordinal * share) % mirror.slots + share) slot = preferred
    if (slot === undefined) return undefined
    mirror.own.set(jobId, slot)
    mirror.local.add(jobId)
    return slot
  }

  #failed(error: unknown): void {
    this.#lost(`a Redis call failed (${(error as Error)?.message ?? String(error)})`)
  }

  /** Redis is unreachable: serve on the local share (logged once per outage). */
  #lost(reason: string): void {
    if (this.#closed) return
    clearTimeout(this.#rejoin)
    this.#rejoin = undefined
    if (this.#mode === 'local') return
    if (this.#mode === 'shared') {
      // What each replica held when the picture was last known (rejoining, it was the share already).
      this.#lostAt = performance.now()
      // When those leases would have run out the share is whole again: look then (nothing else may wake a
      // replica whose allowance was 0 and that runs nothing).
      clearTimeout(this.#shareTimer)
      this.#shareTimer = setTimeout(() => this.#changed(undefined), this.#leaseTtlMs + 5)
      this.#shareTimer.unref?.()
      for (const mirror of this.#upstreams.values()) {
        mirror.heldAtLoss.clear()
        for (const member of mirror.busy.values()) {
          const replica = member.slice(0, Math.max(0, member.indexOf('|'))) || '?'
          mirror.heldAtLoss.set(replica, (mirror.heldAtLoss.get(replica) ?? 0) + 1)
        }
      }
    }
    this.#mode = 'local'
    clearInterval(this.#probe)
    this.#probe = setInterval(() => {
      if (this.#client.status !== 'ready') return // the client reconnects by itself, and says 'ready'
      this.#client.ping().then(
        () => this.#back(),
        () => undefined,
      )
    }, this.#maxRetryMs)
    this.#probe.unref?.()
    this.#onEvent?.({ type: 'shared-state', mode: 'local', message: `${reason}: serving on a local share of each upstream's slots (${Math.max(1, this.#replicas.length)} replicas) until Redis is back` })
    this.#changed(undefined)
  }

  /** Redis is back: lease the jobs started on the local share, then after every replica could do the same, share again. */
  #back(): void {
    if (this.#closed || this.#mode !== 'local') {
      if (this.#mode === 'shared') void this.#beat()
      return
    }
    this.#mode = 'rejoining'
    clearInterval(this.#probe)
    this.#probe = undefined
    void this.#adopt().then(() => this.#beat())
    this.#requeue()
    this.#rejoin = setTimeout(() => {
      this.#rejoin = undefined
      if (this.#mode !== 'rejoining') return
      this.#mode = 'shared'
      this.#onEvent?.({ type: 'shared-state', mode: 'shared', message: 'Redis is back: slots, queue and sticky map are shared again' })
      void this.#beat()
    }, this.#rejoinMs)
  }

  /** Puts this replica's waiting jobs back in the global order, in its own order (see the REQUEUE script). */
  #requeue(): void {
    const args: Array<string | number> = [this.#prefix, this.#channel, this.replica]
    for (const job of this.#waiting.values()) args.push(job.id, job.waitingOn, job.class === 'interactive' ? 'i' : 'b')
    this.#scripts.requeue(...args).catch((error: unknown) => this.#failed(error))
  }

  async #adopt(): Promise<void> {
    const args: Array<string | number> = [this.#prefix, this.#channel, this.replica, this.#leaseTtlMs]
    const jobs: Array<[UpstreamMirror, string]> = []
    for (const mirror of this.#upstreams.values()) {
      for (const [jobId, slot] of mirror.own) {
        args.push(mirror.id, mirror.slots, slot, jobId)
        jobs.push([mirror, jobId])
      }
    }
    if (jobs.length === 0) return
    try {
      const slots = (await this.#scripts.adopt(...args)) as number[]
      jobs.forEach(([mirror, jobId], index) => {
        const slot = Number(slots[index])
        if (slot < 0) return // no slot free: it runs to its end unleased (the share bounded it)
        if (!mirror.own.has(jobId)) {
          // It ended while its lease was being written: give the slot back, or it would be held forever.
          this.calls.release++
          this.#scripts.release(this.#prefix, this.#channel, this.replica, jobId, mirror.id, slot).catch((error: unknown) => this.#failed(error))
          return
        }
        mirror.local.delete(jobId)
        mirror.own.set(jobId, slot)
        mirror.busy.set(slot, `${this.replica}|${jobId}`)
      })
    } catch (error) {
      this.#failed(error)
    }
  }

  /** Renews this replica's leases, sweeps dead replicas, and reloads the mirror; a lease found gone aborts its job. */
  async #beat(): Promise<void> {
    if (this.#closed || this.#mode === 'local' || this.#upstreams.size === 0) return
    const args: Array<string | number> = [this.#prefix, this.#channel, this.replica, this.#leaseTtlMs, 10_000, this.#upstreams.size]
    for (const mirror of this.#upstreams.values()) args.push(mirror.id, mirror.slots)
    const leased: Array<[UpstreamMirror, string]> = []
    for (const mirror of this.#upstreams.values()) {
      for (const [jobId, slot] of mirror.own) {
        if (mirror.local.has(jobId)) continue
        args.push(mirror.id, slot, jobId)
        leased.push([mirror, jobId])
      }
    }
    this.calls.heartbeat++
    let reply: { now: number; wake: number; lost: string[] | Record<string, never>; replicas: string[] | Record<string, never>; up: Record<string, { busy: Array<[number, string, number]> | Record<string, never>; wait: Array<[string, string, number]> | Record<string, never> }> }
    try {
      reply = JSON.parse((await this.#scripts.heartbeat(...args)) as string)
    } catch (error) {
      this.#failed(error)
      return
    }
    this.#offset = reply.now - performance.now()
    const replicas = Array.isArray(reply.replicas) ? reply.replicas : []
    // Rejoining, the others may not have come back yet: their shares still count until this replica shares again.
    if (this.#mode === 'shared' || replicas.length >= this.#replicas.length) this.#replicas = replicas
    const lost = new Set(Array.isArray(reply.lost) ? reply.lost : [])
    for (const mirror of this.#upstreams.values()) {
      const up = reply.up[mirror.id]
      if (up === undefined) continue
      mirror.busy.clear()
      for (const [slot, member] of Array.isArray(up.busy) ? up.busy : []) mirror.busy.set(slot, member)
      mirror.waiting.clear()
      const mine = `${this.replica}|`
      for (const [member, jobClass, at] of Array.isArray(up.wait) ? up.wait : []) if (!member.startsWith(mine)) mirror.waiting.set(member, [jobClass, at])
      // Our running jobs stay ours in the mirror (their leases were renewed above).
      for (const [jobId, slot] of mirror.own) if (!lost.has(jobId) && !mirror.local.has(jobId)) mirror.busy.set(slot, `${this.replica}|${jobId}`)
    }
    for (const [mirror, jobId] of leased) {
      if (!lost.has(jobId)) continue
      // The lease ran out (this replica was away longer than its TTL) and the slot may run another job: stop this one.
      mirror.own.delete(jobId)
      this.#onEvent?.({ type: 'shared-state', mode: this.#mode, message: `the slot lease of job ${jobId} on ${mirror.id} was gone at renewal: the job is aborted` })
      for (const listener of this.#lostListeners) listener(jobId)
    }
    // A lease or mark of another replica runs out before the next beat (that replica stopped renewing: it
    // crashed): look again just after, so its slots come back within the lease TTL, not a beat later.
    clearTimeout(this.#wake)
    this.#wake = undefined
    if (reply.wake >= 0 && reply.wake < this.#leaseTtlMs / 3) {
      this.#wake = setTimeout(() => void this.#beat(), reply.wake + 5)
      this.#wake.unref?.()
    }
    // The safety re-check: a message lost on the way would otherwise leave a free slot unseen.
    this.#changed(undefined)
  }

  #message(text: string): void {
    let message: { t: string; u?: string; s?: number; at?: number; r?: string; j?: string; k?: string; w?: string; c?: string; f?: string; h?: string[] }
    try {
      message = JSON.parse(text)
    } catch {
      return
    }
    if (message.r === this.replica) return // our own changes are in the mirror already
    const mirror = message.u === undefined ? undefined : this.#upstreams.get(message.u)
    const member = `${message.r}|${message.j}`
    switch (message.t) {
      case 'S':
        if (mirror === undefined || message.s === undefined) return
        mirror.busy.set(message.s, member)
        if (message.at !== undefined) mirror.lastUsed[message.s] = message.at
        // A job that waited started: jobs that were behind it may go first now.
        if (message.w !== undefined && message.w !== '' && this.#upstreams.get(message.w)?.waiting.delete(member) === true && mirror.localWaiting > 0) this.#changed(mirror.id)
        if (message.k !== undefined && message.k !== '') (this.sticky as MirrorStickyStore).mirror(message.k, { upstream: mirror.id, slot: message.s })
        return
      case 'F':
        if (mirror === undefined || message.s === undefined) return
        mirror.busy.delete(message.s)
        if (message.at !== undefined) mirror.lastUsed[message.s] = message.at
        this.#changed(mirror.id)
        return
      case 'W':
        if (mirror === undefined) return
        if (message.f !== undefined && message.f !== '') this.#upstreams.get(message.f)?.waiting.delete(member)
        mirror.waiting.set(member, [message.c ?? 'i', message.at ?? 0])
        return
      case 'D':
        mirror?.waiting.delete(member)
        this.#changed(mirror?.id)
        return
      case 'P':
        if (Array.isArray(message.h) && message.u !== undefined) (this.prefixes as MirrorPrefixStore).apply(message.h, message.u, message.s ?? -1)
        return
      case 'X':
        if (message.u !== undefined) (this.prefixes as MirrorPrefixStore).forget(message.u, message.s)
        return
      case 'G':
        for (const up of this.#upstreams.values()) for (const key of up.waiting.keys()) if (key.startsWith(`${message.r}|`)) up.waiting.delete(key)
        this.#changed(undefined)
        return
    }
  }

  #changed(upstream: string | undefined): void {
    for (const listener of this.#listeners) listener(upstream)
  }
}

/** The sticky map's mirror: other replicas' starts arrive by message; ours are written by the confirm script. */
class MirrorStickyStore implements StickyStore {
  constructor(readonly store: InMemoryStickyStore) {}
  get size(): number {
    return this.store.size
  }
  get(key: string): StickyEntry | undefined {
    return this.store.get(key)
  }
  set(key: string, entry: StickyEntry): void {
    this.store.set(key, entry)
  }
  delete(key: string): void {
    this.store.delete(key)
  }
  /** A start announced by another replica (slot kept whatever the upstream's affinity: the scheduler ignores it there). */
  mirror(key: string, entry: StickyEntry): void {
    this.store.set(key, entry)
  }
}

/** A prefix record or forget, as published (`P`: record, `X`: forget an upstream, or one slot of it). */
type PrefixMessage = { t: 'P'; h: readonly string[]; u: string; s: number } | { t: 'X'; u: string; s?: number | undefined }

/**
 * The prefix index of cache-aware routing, shared by messages: what a replica records or forgets it also
 * publishes, and the others apply it to their own index (eventually the same; no round trip on the path).
 */
class MirrorPrefixStore implements PrefixStore {
  constructor(
    readonly index: PrefixIndex,
    readonly publish: (message: PrefixMessage) => void,
  ) {}
  get size(): number {
    return this.index.size
  }
  record(hashes: readonly string[], upstream: string, slot: number): void {
    this.index.record(hashes, upstream, slot)
    this.publish({ t: 'P', h: hashes, u: upstream, s: slot })
  }
  matches(hashes: readonly string[]): Map<string, { place: PrefixPlace; blocks: number }> {
    return this.index.matches(hashes)
  }
  forgetUpstream(upstream: string): void {
    this.index.forgetUpstream(upstream)
    this.publish({ t: 'X', u: upstream })
  }
  forgetSlot(upstream: string, slot: number): void {
    this.index.forgetSlot(upstream, slot)
    this.publish({ t: 'X', u: upstream, s: slot })
  }
  /** Another replica's record. */
  apply(hashes: readonly string[], upstream: string, slot: number): void {
    this.index.record(hashes, upstream, slot)
  }
  /** Another replica's forget. */
  forget(upstream: string, slot: number | undefined): void {
    if (slot === undefined) this.index.forgetUpstream(upstream)
    else this.index.forgetSlot(upstream, slot)
  }
}

/**
 * Connects to Redis (ioredis, imported here on first use) and returns the shared state; pass it as the
 * gateway's `schedulerState`. Redis unreachable at start: the replica starts on its local share (one replica
 * assumed until a heartbeat counts them) and joins when Redis appears.
 */
export async function createRedisSchedulerState(options: RedisSchedulerStateOptions): Promise<RedisSchedulerState> {
  const { Redis } = await import('ioredis')
  const state = new RedisSchedulerState(Redis, options)
  await state.start()
  return state
}
