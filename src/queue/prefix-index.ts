/**
 * The in-memory {@link PrefixStore}: a bounded index from prompt prefix hashes to the upstream slots that last
 * computed them, for cache-aware routing. Pure, no I/O.
 * @module
 */

import { slotKey } from './scheduler-state.js'
import type { PrefixPlace, PrefixStore } from './scheduler-state.js'

export type { PrefixPlace } from './scheduler-state.js'

/** Options of {@link PrefixIndex}. */
export interface PrefixIndexOptions {
  /** Most prefix hashes remembered (LRU beyond it); each costs about 200 bytes. @default 50_000 */
  maxEntries?: number | undefined
  /** Most places remembered per prefix (the most recent ones). @default 4 */
  maxPlaces?: number | undefined
}

interface Place extends PrefixPlace {
  /** The slot's generation when it computed this prefix (see {@link PrefixIndex.record}). */
  readonly generation: number
}

/**
 * Prefix hash → the (upstream, slot) places that computed it, most recent first. A slot holds one prompt at a
 * time: {@link PrefixIndex.record} starts a new generation of the slot, and places of older generations are
 * stale (the slot has been overwritten) unless the new prompt shares them, which `record` writes again. Recording
 * and matching cost O(blocks); memory is capped by `maxEntries` (least recently recorded evicted first).
 */
export class PrefixIndex implements PrefixStore {
  readonly #maxEntries: number
  readonly #maxPlaces: number
  /** Insertion order = recency (a recorded hash is deleted and set again). */
  readonly #entries = new Map<string, Place[]>()
  /** Current generation of each `upstream\u0000slot`. */
  readonly #generations = new Map<string, number>()

  constructor(options: PrefixIndexOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 50_000
    this.#maxPlaces = options.maxPlaces ?? 4
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1) throw new TypeError(`maxEntries must be an integer >= 1, got ${JSON.stringify(options.maxEntries)}`)
    if (!Number.isInteger(this.#maxPlaces) || this.#maxPlaces < 1) throw new TypeError(`maxPlaces must be an integer >= 1, got ${JSON.stringify(options.maxPlaces)}`)
  }

  /** Prefix hashes remembered. */
  get size(): number {
    return this.#entries.size
  }

  /** Notes that `upstream` (slot `slot`, -1 when unknown) now holds the prompt of these prefix hashes. */
  record(hashes: readonly string[], upstream: string, slot: number): void {
    const placeKey = slotKey(upstream, slot)
    const generation = (this.#generations.get(placeKey) ?? 0) + 1
    this.#generations.set(placeKey, generation)
    const place: Place = { upstream, slot, generation }
    // Deepest block first, so the shortest prefixes (shared the most) are the most recent and evicted last.
    for (let index = hashes.length - 1; index >= 0; index--) {
      const hash = hashes[index] as string
      const old = this.#entries.get(hash)
      const places: Place[] = [place]
      if (old !== undefined) {
        this.#entries.delete(hash)
        for (const other of old) if (places.length < this.#maxPlaces && (other.upstream !== upstream || other.slot !== slot) && this.#live(other)) places.push(other)
      }
      this.#entries.set(hash, places)
    }
    while (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string)
  }

  /**
   * For each place holding a prefix of `hashes`: the number of leading blocks it holds (its longest match). A
   * place holding block i holds blocks 0..i too (the hashes are cumulative), so a place's match is the last block
   * it is listed under. O(blocks × maxPlaces).
   */
  matches(hashes: readonly string[]): Map<string, { place: PrefixPlace; blocks: number }> {
    const found = new Map<string, { place: PrefixPlace; blocks: number }>()
    for (let index = 0; index < hashes.length; index++) {
      const places = this.#entries.get(hashes[index] as string)
      if (places === undefined) break // no place holds a longer prefix either
      for (const place of places) {
        if (!this.#live(place)) continue
        const key = slotKey(place.upstream, place.slot)
        found.set(key, { place: { upstream: place.upstream, slot: place.slot }, blocks: index + 1 })
      }
    }
    return found
  }

  /** Forgets everything about an upstream's slots (it restarted or was removed). */
  forgetUpstream(upstream: string): void {
    for (const key of this.#generations.keys()) if (key.startsWith(slotKey(upstream, ''))) this.#generations.set(key, (this.#generations.get(key) as number) + 1)
  }

  /** Forgets what one slot holds (the server reused or cleared it behind the gateway's back). */
  forgetSlot(upstream: string, slot: number): void {
    const key = slotKey(upstream, slot)
    const generation = this.#generations.get(key)
    if (generation !== undefined) this.#generations.set(key, generation + 1)
  }

  #live(place: Place): boolean {
    return this.#generations.get(slotKey(place.upstream, place.slot)) === place.generation
  }
}
