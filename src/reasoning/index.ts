/**
 * The reasoning split: `<think>` blocks in content and the upstreams' reasoning fields, as
 * `reasoning_content`. Pure (no `node:*`), as `toolcalls/`.
 * @module
 */
export { createThinkSplitter, DEFAULT_START_WINDOW, THINK_CLOSE_TAGS, THINK_OPEN_TAGS } from './think-splitter.js'
export type { ThinkSplit, ThinkSplitter, ThinkSplitterOptions } from './think-splitter.js'
export { createReasoningChunkTransform, splitReasoningInCompletion, UPSTREAM_REASONING_FIELDS } from './reasoning-transform.js'
export type { ReasoningChunkTransform, ReasoningChunkTransformOptions, ReasoningMode, ReasoningOptions } from './reasoning-transform.js'
export { createReasoningTrigger, wholeAnswerCouldChange } from './reasoning-trigger.js'
export type { ReasoningResume, ReasoningTrigger } from './reasoning-trigger.js'
