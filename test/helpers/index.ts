/**
 * Test helpers: loopback servers, deadlines, stream and SSE collectors, recorded upstream chunks.
 * @module
 */
export { listen } from './listen.js'
export type { Listening } from './listen.js'
export { withTimeout } from './with-timeout.js'
export { arrayToStream, collectStream, readText } from './streams.js'
export { collectSse, collectChunks } from './sse.js'
export type { SseEvent, SseResult, ChunkResult } from './sse.js'
export { mergeChunks, chunkDelta } from './merge-chunks.js'
export type { MergedMessage } from './merge-chunks.js'
export { loadChunks } from './load-chunks.js'
