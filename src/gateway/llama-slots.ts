/**
 * What llama.cpp's `GET /slots` tells cache-aware routing (issue 15). With slot affinity the gateway names each job's
 * slot (`id_slot`) and its prefix index notes what each slot holds; the server may still reuse or clear a slot
 * behind the gateway's back (another client or gateway, `POST /slots/{id}?action=erase`, a restart). After each good
 * health probe of a slot-affinity upstream, {@link LlamaSlotsWatch} reads its `/slots` and corrects the index:
 * - a slot whose task (`id_task`) or cache size (`n_prompt_tokens`, else `n_past`) changed, or that started
 *   processing, while the gateway neither ran nor started nor ended a job there since the read before: the server
 *   used it for someone else, and what the index says it holds is forgotten (`forgetSlot`). When the gateway did
 *   run a job there in between, a read that caught that job processing tells its task, and a later task there is
 *   someone else's; without one the change is taken for the gateway's own;
 * - a server whose task ids went back (or whose slots lost their task), or whose slot count changed, restarted:
 *   everything it held is forgotten (`forgetUpstream`).
 * A server without the endpoint (404; 501 from a llama.cpp started with `--no-slots`; an answer of another shape) is
 * asked once, and again only after it was down or loading (it may come back as another server). A read that fails
 * says nothing. Used only with `routing: 'cache-aware'` and slot affinity: nothing is read otherwise.
 * @module
 */
import type { PrefixStore } from '../queue/scheduler-state.js'
import { isJsonObject, safeParseJson } from '../openai/parse-json.js'
import { startUpstreamCall } from './upstream.js'
import type { Upstream, UpstreamResponse } from './upstream.js'
import type { UpstreamProbe } from './upstream-probe.js'

/** One slot of a `/slots` answer: the fields the watch reads. */
export interface LlamaSlot {
  readonly id: number
  readonly processing: boolean
  /** The server's id of the slot's current or last task (`id_task`; older servers: `task_id`), undefined before its first. */
  readonly task: number | undefined
  /** Tokens its cache holds (`n_prompt_tokens`, else `n_past`), when the server says. */
  readonly tokens: number | undefined
}

/** Why the watch forgot what slots held: reused behind the gateway's back (those slots), or the server restarted (all). */
export type SlotsCorrection = { readonly reason: 'reused'; readonly slots: readonly number[] } | { readonly reason: 'restarted' }

/** Options of {@link LlamaSlotsWatch}. */
export interface LlamaSlotsWatchOptions {
  /** The prefix index to correct (the scheduler's). */
  prefixes: PrefixStore
  /** Told of each correction (for the gateway's `upstream-slots` event). */
  onCorrection?: ((upstream: string, correction: SlotsCorrection) => void) | undefined
  /** Longest `/slots` answer read (a bigger one is not read: the upstream counts as without the endpoint). @default 1 MiB */
  maxBytes?: number | undefined
  /**
   * Deadline of a read's headers, and between two pieces of its body, in ms. llama.cpp answers `/slots` between two
   * batches (its `/health` at once), so a server busy prefilling a long prompt may be slow: the read is then dropped,
   * and the probe's result stands (a read never delays a probe by much, nor fails it). @default 1000
   */
  timeoutMs?: number | undefined
}

interface View {
  /** `/slots` is absent there: not asked again until the upstream was down or loading. */
  unsupported: boolean
  /** What the last read showed. */
  last: LlamaSlot[] | undefined
  /** The watch's `#seq` when the last read was sent. */
  sentAt: number
  /** Per slot index: the gateway's jobs running there. */
  readonly running: number[]
  /** Per slot index: the `#seq` of the gateway's last start or end of a job there. */
  readonly touched: number[]
  /** Per slot index: the `#seq` of the gateway's last start of a job there. */
  readonly startedAt: number[]
  /** Per slot index: the server's task of the gateway's last job there, when a read caught it processing. */
  readonly ownTask: Array<{ task: number | undefined; seq: number } | undefined>
}

/**
 * Reads llama.cpp's `/slots` after good health probes and corrects the prefix index (see the module doc). The
 * gateway tells it where its own jobs start and end ({@link started}, {@link ended}: the scheduler's `job-start` and
 * `job-end`), which is how it tells the gateway's doing from the server's.
 */
export class LlamaSlotsWatch {
  readonly #prefixes: PrefixStore
  readonly #onCorrection: LlamaSlotsWatchOptions['onCorrection']
  readonly #maxBytes: number
  readonly #timeoutMs: number
  readonly #views = new Map<string, View>()
  /** Rebased copies of the upstreams (API root ''): `/slots` lives at the origin. */
  readonly #atOrigin = new WeakMap<Upstream, Upstream>()
  /** Counts the gateway's starts and ends, to order them against reads. */
  #seq = 0

  constructor(options: LlamaSlotsWatchOptions) {
    this.#prefixes = options.prefixes
    this.#onCorrection = options.onCorrection
    this.#maxBytes = options.maxBytes ?? 1024 * 1024
    this.#timeoutMs = options.timeoutMs ?? 1000
  }

  /** The gateway started a job on `upstream`, slot `slot` (undefined without slot affinity: nothing to note). */
  started(upstream: string, slot: number | undefined): void {
    if (slot === undefined) return
    const view = this.#view(upstream)
    view.running[slot] = (view.running[slot] ?? 0) + 1
    view.touched[slot] = ++this.#seq
    view.startedAt[slot] = this.#seq
  }

  /** The gateway's job on `upstream`, slot `slot`, ended. */
  ended(upstream: string, slot: number | undefined): void {
    if (slot === undefined) return
    const view = this.#view(upstream)
    view.running[slot] = Math.max(0, (view.running[slot] ?? 0) - 1)
    view.touched[slot] = ++this.#seq
  }

  /**
   * `probe`, followed after a good probe of a slot-affinity upstream by a read of its `/slots` (ended with the probe's
   * signal, else at its own deadline, `timeoutMs`; the probe's result stands whatever the read finds).
   */
  wrap(probe: UpstreamProbe): UpstreamProbe {
    return async (upstream, signal) => {
      const result = await probe(upstream, signal)
      if (!upstream.slotAffinity) return result
      if (result.state === 'healthy') await this.read(upstream, signal)
      // Down or loading: it may come back as another server; ask it again then.
      else this.#view(upstream.id).unsupported = false
      return result
    }
  }

  /** Reads `upstream`'s `/slots` and corrects the prefix index. Never rejects; `signal` ends the read. */
  async read(upstream: Upstream, signal: AbortSignal): Promise<void> {
    const view = this.#view(upstream.id)
    if (view.unsupported || signal.aborted) return
    const sentAt = this.#seq
    let answer: { status: number; text: string | undefined }
    try {
      answer = await this.#get(upstream, signal)
    } catch {
      return // unreachable or aborted: the health probe says what matters
    }
    if (answer.status >= 500 && answer.status !== 501) return // busy or failing: ask again next round
    const parsed = answer.status >= 200 && answer.status < 300 && answer.text !== undefined ? safeParseJson(answer.text) : undefined
    const slots = parsed?.success === true ? parseLlamaSlots(parsed.value) : undefined
    if (slots === undefined) {
      view.unsupported = true
      return
    }
    this.#compare(upstream, view, slots, sentAt)
  }

  #compare(upstream: Upstream, view: View, slots: LlamaSlot[], sentAt: number): void {
    const before = view.last
    const since = view.sentAt
    view.last = slots
    view.sentAt = sentAt
    if (before === undefined) return
    if (restarted(before, slots)) {
      this.#prefixes.forgetUpstream(upstream.id)
      this.#onCorrection?.(upstream.id, { reason: 'restarted' })
      return
    }
    const forgot: number[] = []
    for (const slot of slots) {
      if (slot.id >= upstream.slots) continue // not a slot the gateway routes to
      const startedAt = view.startedAt[slot.id] ?? 0
      if ((view.running[slot.id] ?? 0) > 0) {
        // The gateway's job runs there: what the slot runs now (the read went out after the job started) is its task.
        if (slot.processing && startedAt <= sentAt) view.ownTask[slot.id] = { task: slot.task, seq: sentAt }
        continue
      }
      let reused: boolean
      if ((view.touched[slot.id] ?? 0) > since) {
        // The gateway's job ran there since the read before: only a task after its own (when known) is someone else's.
        const own = view.ownTask[slot.id]
        reused = own !== undefined && own.seq >= startedAt && own.task !== undefined && slot.task !== undefined && slot.task !== own.task
      } else {
        const old = before.find((candidate) => candidate.id === slot.id)
        reused = old === undefined || old.task !== slot.task || old.tokens !== slot.tokens || (slot.processing && !old.processing)
      }
      if (!reused) continue
      this.#prefixes.forgetSlot(upstream.id, slot.id)
      forgot.push(slot.id)
    }
    if (forgot.length > 0) this.#onCorrection?.(upstream.id, { reason: 'reused', slots: forgot })
  }

  #view(upstream: string): View {
    let view = this.#views.get(upstream)
    if (view === undefined) {
      view = { unsupported: false, last: undefined, sentAt: 0, running: [], touched: [], startedAt: [], ownTask: [] }
      this.#views.set(upstream, view)
    }
    return view
  }

  /** `GET {origin}/slots`, its body read whole (undefined when longer than `maxBytes`). */
  async #get(upstream: Upstream, signal: AbortSignal): Promise<{ status: number; text: string | undefined }> {
    let rebased = this.#atOrigin.get(upstream)
    if (rebased === undefined) {
      rebased = { ...upstream, apiRoot: '' }
      this.#atOrigin.set(upstream, rebased)
    }
    const handle = startUpstreamCall(rebased, { path: '/slots', method: 'GET', timeoutMs: this.#timeoutMs })
    const onAbort = (): void => handle.abort(signal.reason instanceof Error ? signal.reason : new Error('The read of /slots was aborted.'))
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const response: UpstreamResponse = await handle.response
      const text = await response.body.text(this.#maxBytes).catch(() => undefined)
      return { status: response.status, text }
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }
}

/**
 * The slots of a `GET /slots` answer (llama.cpp's array of slot objects: `id`, `is_processing`, `id_task`,
 * `n_prompt_tokens` or `n_past`; older servers: `task_id`, `state`), or undefined when it is not that shape.
 * @example parseLlamaSlots([{ id: 0, is_processing: false, id_task: 12, n_prompt_tokens: 900 }]) // [{ id: 0, processing: false, task: 12, tokens: 900 }]
 */
export function parseLlamaSlots(value: unknown): LlamaSlot[] | undefined {
  if (!Array.isArray(value)) return undefined
  const slots: LlamaSlot[] = []
  for (const item of value) {
    if (!isJsonObject(item)) return undefined
    const id = count(item.id)
    if (id === undefined) return undefined
    const processing = typeof item.is_processing === 'boolean' ? item.is_processing : typeof item.state === 'number' ? item.state !== 0 : undefined
    if (processing === undefined) return undefined
    slots.push({ id, processing, task: count(item.id_task) ?? count(item.task_id), tokens: count(item.n_prompt_tokens) ?? count(item.n_past) })
  }
  return slots
}

/** The server restarted between two reads: its slot count changed, or a slot's task id went back or vanished (ids only grow). */
function restarted(before: readonly LlamaSlot[], now: readonly LlamaSlot[]): boolean {
  if (before.length !== now.length) return true
  for (const slot of now) {
    const old = before.find((candidate) => candidate.id === slot.id)
    if (old === undefined) return true
    if (old.task !== undefined && (slot.task === undefined || slot.task < old.task)) return true
  }
  return false
}

/** A non-negative integer, else undefined (llama.cpp writes -1 for "none"). */
function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined
}
