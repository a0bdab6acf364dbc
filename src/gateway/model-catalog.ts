/**
 * Which models the gateway offers and which upstream serves each: the configured lists (an
 * upstream's `models` wins), the lists the upstreams advertise on their own `/v1/models`
 * (discovered at start, refreshed every `modelRefreshMs` and when an upstream answers 404), and
 * aliases (a public id for an upstream id). An upstream whose list is not known yet (it could
 * not be asked) serves any model until it answers. The scheduler routes on these lists: every
 * change is pushed to it through `onChange`.
 * @module
 */
import { UpstreamError } from '../errors.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'
import type { Clock, TimerHandle } from './clock.js'
import { callUpstream, upstreamFailure } from './upstream.js'
import type { Upstream } from './upstream.js'

/** A model as `/v1/models` lists it (`id` plus whatever the upstream said of it). */
export type ModelObject = Record<string, unknown> & { id: string }

/** Options of {@link ModelCatalog}. */
export interface ModelCatalogOptions {
  upstreams: readonly Upstream[]
  /** The gateway's own list of public ids (`models` option); empty: the upstreams' lists. */
  models: readonly string[]
  /** Public id → upstream model id. */
  aliases: ReadonlyMap<string, string>
  /** Route on the lists the upstreams advertise (off: only configured lists restrict routing). */
  discover: boolean
  /** Interval between two refreshes of the discovered lists, in ms. */
  refreshMs: number
  /** Time to wait for an upstream's `/v1/models`, in ms. */
  timeoutMs: number
  /** Longest time requests wait for the first round of discovery, in ms. @default 3000 */
  firstRoundWaitMs?: number | undefined
  clock: Clock
  /** An upstream's routing list changed (undefined: it serves any model). */
  onChange: (upstream: string, models: string[] | undefined) => void
  /** An upstream's list was read, or could not be (for logs). */
  onDiscover?: ((upstream: string, models: string[] | undefined, error: Error | undefined) => void) | undefined
  /** Reads an upstream's `/v1/models` (test seam). @default GET {apiRoot}/models */
  fetchModels?: ((upstream: Upstream, timeoutMs: number) => Promise<ModelObject[]>) | undefined
}

interface UpstreamModels {
  readonly upstream: Upstream
  /** The upstream's configured `models`: they win over anything discovered. */
  readonly configured: readonly string[] | undefined
  discovered: ModelObject[] | undefined
  inflight: Promise<void> | undefined
  /** The list last pushed to the scheduler. */
  routed: string[] | undefined
}

/** The models of the gateway and its upstreams; see the module doc. */
export class ModelCatalog {
  readonly #options: ModelCatalogOptions
  readonly #entries: UpstreamModels[]
  readonly #byId = new Map<string, UpstreamModels>()
  readonly #fetch: (upstream: Upstream, timeoutMs: number) => Promise<ModelObject[]>
  /** Ids some upstream's routing list holds, while every upstream's list is known; else undefined. */
  #served: Set<string> | undefined
  #firstRound: Promise<void> | undefined
  #timer: TimerHandle | undefined
  #closed = false

  constructor(options: ModelCatalogOptions) {
    this.#options = options
    this.#fetch = options.fetchModels ?? fetchUpstreamModels
    this.#entries = options.upstreams.map((upstream) => ({ upstream, configured: upstream.models, discovered: undefined, inflight: undefined, routed: upstream.models === undefined ? undefined : [...upstream.models] }))
    for (const entry of this.#entries) this.#byId.set(entry.upstream.id, entry)
    this.#updateServed()
  }

  /** Starts discovery (the first round, then a refresh every `refreshMs`). */
  start(): void {
    if (!this.#options.discover || this.#closed) return
    const asked = this.#entries.filter((entry) => entry.configured === undefined)
    if (asked.length === 0) return
    // Requests wait for the first round, but not for an upstream that hangs: after
    // `firstRoundWaitMs` they go on (that upstream then serves any model until it answers).
    let timer: TimerHandle | undefined
    const waited = new Promise<void>((resolve) => {
      timer = this.#options.clock.setTimeout(resolve, this.#options.firstRoundWaitMs ?? 3000)
    })
    const round: Promise<void> = Promise.race([Promise.all(asked.map((entry) => this.#refresh(entry))), waited]).then(() => {
      this.#options.clock.clearTimeout(timer)
      if (this.#firstRound === round) this.#firstRound = undefined
    })
    this.#firstRound = round
    this.#timer = this.#options.clock.setInterval(() => {
      for (const entry of asked) void this.#refresh(entry)
    }, this.#options.refreshMs)
  }

  /** While the first round of discovery runs: a promise of its end (it never rejects). Afterwards undefined. */
  ready(): Promise<void> | undefined {
    return this.#firstRound
  }

  /** The model a request without `model` is given: the first of the gateway's own list, else none (each upstream then sends its own). */
  get defaultModel(): string | undefined {
    return this.#options.models[0]
  }

  /** The upstream id an alias stands for, or undefined. */
  aliasTarget(model: string): string | undefined {
    return this.#options.aliases.get(model)
  }

  /** Whether a request may name `model`: listed by the gateway, an alias, or served (any model while some upstream's list is unknown). */
  accepts(model: string): boolean {
    const { models, aliases } = this.#options
    if (aliases.has(model)) return true
    if (models.length > 0) return models.includes(model)
    return this.#served === undefined || this.#served.has(model)
  }

  /** The ids a request may name, for a 404's message; undefined when any id is accepted. */
  available(): string[] | undefined {
    const { models, aliases } = this.#options
    if (models.length > 0) return [...new Set([...models, ...aliases.keys()])]
    if (this.#served === undefined) return undefined
    return [...new Set([...this.#served, ...aliases.keys()])]
  }

  /**
   * Every model id known so far: the gateway's list, the aliases, and each upstream's configured
   * or discovered list (a bounded set, for metric labels; unlike {@link available} it names what is
   * known even while some upstream's list is not).
   */
  knownIds(): string[] {
    const ids = new Set<string>([...this.#options.models, ...this.#options.aliases.keys()])
    for (const entry of this.#entries) for (const id of entry.routed ?? []) ids.add(id)
    return [...ids]
  }

  /** The model id sent to `upstream` for a request that named none: the first of its list, if known. */
  defaultFor(upstream: string): string | undefined {
    return this.#byId.get(upstream)?.routed?.[0]
  }

  /**
   * The model a job is routed on: `model`, unless every upstream's list is known and none holds
   * it (an id the gateway's own list or an alias names, that no upstream advertises): then
   * undefined, and any upstream may take it, as the operator said it exists.
   */
  routingModel(model: string | undefined): string | undefined {
    return model === undefined || this.#served === undefined || this.#served.has(model) ? model : undefined
  }

  /** Whether `upstream` may be sent `model` (its list holds it, or its list is not known). */
  serves(upstream: string, model: string): boolean {
    const routed = this.#byId.get(upstream)?.routed
    return routed === undefined || routed.includes(model)
  }

  /** An upstream answered 404 to a model call: its list may have changed (a model was unloaded): read it again. */
  missed(upstream: string): void {
    const entry = this.#byId.get(upstream)
    if (entry !== undefined && entry.configured === undefined && this.#options.discover) void this.#refresh(entry)
  }

  /**
   * `GET /v1/models`: the gateway's own list when it has one, else every upstream's (configured
   * ids, and what each advertises, in upstream order), then the aliases. Upstreams not asked
   * yet are asked now. Rejects only when no upstream's list could be read at all.
   */
  async list(): Promise<ModelObject[]> {
    const created = Math.floor(this.#options.clock.now() / 1000)
    const own = (id: string): ModelObject => ({ id, object: 'model', created, owned_by: 'queuegate' })
    const { models, aliases } = this.#options
    const seen = new Map<string, ModelObject>()
    if (models.length > 0) {
      for (const id of models) seen.set(id, own(id))
    } else {
      const unknown = this.#entries.filter((entry) => entry.configured === undefined && entry.discovered === undefined)
      const failures = await Promise.all(unknown.map((entry) => this.#refresh(entry)))
      for (const entry of this.#entries) {
        const objects = entry.discovered ?? []
        for (const id of entry.configured ?? []) if (!seen.has(id)) seen.set(id, objects.find((object) => object.id === id) ?? own(id))
        if (entry.configured === undefined) for (const object of objects) if (!seen.has(object.id)) seen.set(object.id, object)
      }
      const failure = failures.find((error) => error !== undefined)
      if (seen.size === 0 && failure !== undefined) throw failure
    }
    for (const [id, target] of aliases) if (!seen.has(id)) seen.set(id, { ...own(id), parent: target })
    return [...seen.values()]
  }

  /** Stops refreshing. */
  close(): void {
    this.#closed = true
    if (this.#timer !== undefined) this.#options.clock.clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Reads one upstream's list (one read at a time per upstream); resolves with the error when it failed, never rejects. */
  #refresh(entry: UpstreamModels): Promise<Error | undefined> {
    if (entry.inflight !== undefined) return entry.inflight.then(() => undefined)
    let failure: Error | undefined
    const read = this.#fetch(entry.upstream, this.#options.timeoutMs).then(
      (objects) => {
        entry.discovered = objects.length > 0 ? objects : undefined
        this.#options.onDiscover?.(entry.upstream.id, entry.discovered?.map((object) => object.id), undefined)
      },
      (error: unknown) => {
        // A failed read keeps what was known: an upstream that is down for a moment still serves its models.
        failure = error instanceof Error ? error : new Error(String(error))
        this.#options.onDiscover?.(entry.upstream.id, undefined, failure)
      },
    )
    entry.inflight = read.then(() => {
      entry.inflight = undefined
      if (!this.#closed) this.#route(entry)
    })
    return entry.inflight.then(() => failure)
  }

  /** Pushes an upstream's routing list to the scheduler when it changed. */
  #route(entry: UpstreamModels): void {
    const next = entry.configured !== undefined ? [...entry.configured] : this.#options.discover ? withUntagged(entry.discovered?.map((object) => object.id)) : undefined
    if (sameList(next, entry.routed)) return
    entry.routed = next
    this.#updateServed()
    this.#options.onChange(entry.upstream.id, next)
  }

  #updateServed(): void {
    if (this.#entries.some((entry) => entry.routed === undefined)) {
      this.#served = undefined
      return
    }
    this.#served = new Set(this.#entries.flatMap((entry) => entry.routed ?? []))
  }
}

/**
 * Ollama lists `qwen3:latest` and answers to `qwen3` too (clients send either): a discovered
 * `name:latest` also routes `name`.
 */
function withUntagged(ids: string[] | undefined): string[] | undefined {
  if (ids === undefined) return undefined
  const out = [...ids]
  for (const id of ids) {
    if (!id.endsWith(':latest')) continue
    const bare = id.slice(0, -':latest'.length)
    if (bare !== '' && !out.includes(bare)) out.push(bare)
  }
  return out
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.length === b.length && a.every((id, index) => id === b[index])
}

/** `GET {apiRoot}/models` of an upstream: the listed models (objects with a string `id`). */
export async function fetchUpstreamModels(upstream: Upstream, timeoutMs: number): Promise<ModelObject[]> {
  try {
    const response = await callUpstream(upstream, { path: '/models', method: 'GET', timeoutMs })
    const text = await response.body.text(4 * 1024 * 1024)
    if (response.status >= 400) throw new UpstreamError(`Upstream ${upstream.id} answered ${response.status} to /models.`)
    const parsed = safeParseJson(text)
    const data = parsed.success && isJsonObject(parsed.value) && Array.isArray(parsed.value.data) ? parsed.value.data : []
    return data.filter((item): item is ModelObject => isJsonObject(item) && typeof item.id === 'string' && item.id !== '')
  } catch (error) {
    throw upstreamFailure(upstream, error)
  }
}
