/**
 * queuegate/queue: the scheduler (priorities, sticky routing, slot affinity), its state interfaces with the
 * in-memory default, and the thread key. Pure: no undici, nothing from `node:*`, so it also runs in browsers,
 * edge workers and Node versions older than the gateway's floor.
 * @module
 */
export { QueueScheduler } from './queue-scheduler.js'
export type {
  JobClass,
  JobDroppedEvent,
  JobEndEvent,
  JobPosition,
  JobQueuedEvent,
  JobRequest,
  JobStartEvent,
  Lease,
  QueueSchedulerEvents,
  QueueSchedulerOptions,
  SchedulerSnapshot,
  SchedulerTimers,
  SchedulerUpstream,
  StickyRoute,
  UpstreamSnapshot,
} from './queue-scheduler.js'
export { threadKeyFor } from './thread-key.js'
export { conversationIdOf } from './conversation-id.js'
export type { ConversationIdInput } from './conversation-id.js'
export type { ThreadKeyInput } from './thread-key.js'
export { createInMemorySchedulerState, InMemoryLoadView, InMemorySlotTable, InMemoryStickyStore } from './in-memory-scheduler-state.js'
export type { InMemorySchedulerStateOptions } from './in-memory-scheduler-state.js'
export type { LoadView, PrefixPlace, PrefixStore, SchedulerState, SharedJob, SharedStateStatus, SlotAuthority, SlotTable, StickyEntry, StickyStore } from './scheduler-state.js'
export { CacheAwareRouter } from './cache-aware-router.js'
export type { CacheAwareRouterOptions } from './cache-aware-router.js'
export { PrefixIndex } from './prefix-index.js'
export type { PrefixIndexOptions } from './prefix-index.js'
export { prefixHashesOf } from './prefix-hashes.js'
export type { PrefixHashOptions, PrefixHint } from './prefix-hashes.js'
export type { RouteCandidate, RouteChoice, UpstreamRouter } from './upstream-router.js'
