/**
 * The `model` label of the gateway's metrics, bounded: an id the gateway knows (configured,
 * discovered, an alias or a variant) is its own label, any other name a client sends is `other`,
 * no model at all is `none`. A client naming a thousand models makes one label, not a thousand.
 * @module
 */

/** How long an unknown name waits before the known set is read again (a model discovered since). */
const REFRESH_MS = 5000

/** See the module doc. */
export class ModelLabels {
  #known = new Set<string>()
  #read: (() => string[] | undefined) | undefined
  #readAt = Number.NEGATIVE_INFINITY
  #stale = true

  /** Where the known ids come from (read now, after a discovery, and at most every few seconds on a miss). */
  source(read: () => string[] | undefined): void {
    this.#read = read
    this.#refresh()
  }

  /** The upstreams' model lists may have changed. */
  changed(): void {
    this.#stale = true
  }

  /** The label of a requested model. */
  label(model: string | undefined): string {
    if (model === undefined) return 'none'
    if (this.#known.has(model)) return model
    if (this.#stale || performance.now() - this.#readAt > REFRESH_MS) {
      this.#refresh()
      if (this.#known.has(model)) return model
    }
    return 'other'
  }

  #refresh(): void {
    if (this.#read === undefined) return
    this.#known = new Set(this.#read() ?? [])
    this.#readAt = performance.now()
    this.#stale = false
  }
}
