/**
 * A minimal synchronous event emitter with typed event names and payloads.
 * @module
 */

/** A listener for one event. */
export type EventListener<T> = (event: T) => void

/**
 * Calls listeners synchronously in subscription order. A throwing listener does not interrupt the emitter's
 * caller or the other listeners: its error is rethrown in a microtask (an uncaught error, as with Node's
 * EventEmitter, but after the emitter's own state is consistent).
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<EventListener<never>>>()

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof Events>(name: K, listener: EventListener<Events[K]>): () => void {
    let set = this.#listeners.get(name)
    if (set === undefined) this.#listeners.set(name, (set = new Set()))
    set.add(listener as EventListener<never>)
    return () => this.off(name, listener)
  }

  /** Unsubscribes. */
  off<K extends keyof Events>(name: K, listener: EventListener<Events[K]>): void {
    const set = this.#listeners.get(name)
    if (set === undefined) return
    set.delete(listener as EventListener<never>)
    if (set.size === 0) this.#listeners.delete(name)
  }

  /** True when someone listens to `name` (lets callers skip building the payload). */
  has(name: keyof Events): boolean {
    return this.#listeners.has(name)
  }

  /** Calls every listener of `name` with `event`. */
  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    const set = this.#listeners.get(name)
    if (set === undefined) return
    for (const listener of [...set]) {
      try {
        ;(listener as EventListener<Events[K]>)(event)
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }
}
