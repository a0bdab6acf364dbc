/**
 * prom-client's default process metrics (CPU, memory, handles, event loop lag, GC), with a way to
 * stop them. Two of them keep something running from the moment they are registered: the event
 * loop lag reads a `monitorEventLoopDelay` histogram (a libuv timer every 10 ms), and the GC
 * durations come from a `PerformanceObserver` called after every collection. prom-client 15 keeps
 * neither where a caller can reach it and has no way to stop them, so each gateway's metrics would
 * leave both behind when it closes (and keep its registry alive through the observer's callback).
 *
 * {@link startProcessMetrics} registers them with `collectDefaultMetrics` while noting the
 * observers and histograms created during that one synchronous call (`perf_hooks` as prom-client
 * requires it: the module object, patched for the call and restored before it returns), and hands
 * back a `stop()` that disconnects and disables them. A test checks that exactly one of each was
 * caught, so a prom-client that builds them differently fails there rather than leaking quietly.
 * @module
 */
import perfHooks from 'node:perf_hooks'
import type { ELDHistogram, PerformanceObserver as Observer } from 'node:perf_hooks'
import { collectDefaultMetrics } from 'prom-client'
import type { Registry } from 'prom-client'

/** The process metrics of one registry. */
export interface ProcessMetrics {
  /** What was started for them: the GC observers and event-loop-delay histograms (for tests). */
  readonly started: { observers: number; histograms: number }
  /** Stops what runs for them (idempotent). The metrics stay registered; their values stop changing. */
  stop(): void
}

/** Registers the default process metrics in `registry`; see the module doc. */
export function startProcessMetrics(registry: Registry): ProcessMetrics {
  const observers: Observer[] = []
  const histograms: ELDHistogram[] = []
  const prototype = perfHooks.PerformanceObserver.prototype
  const observe = prototype.observe
  const monitor = perfHooks.monitorEventLoopDelay
  prototype.observe = function (this: Observer, ...args: Parameters<Observer['observe']>) {
    observers.push(this)
    return observe.apply(this, args)
  }
  perfHooks.monitorEventLoopDelay = (options) => {
    const histogram = monitor(options)
    histograms.push(histogram)
    return histogram
  }
  try {
    collectDefaultMetrics({ register: registry })
  } finally {
    prototype.observe = observe
    perfHooks.monitorEventLoopDelay = monitor
  }
  let stopped = false
  return {
    started: { observers: observers.length, histograms: histograms.length },
    stop() {
      if (stopped) return
      stopped = true
      for (const observer of observers) observer.disconnect()
      for (const histogram of histograms) histogram.disable()
    },
  }
}
