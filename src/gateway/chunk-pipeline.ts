/**
 * The place where chat answers are transformed on their way to the client: per request, a
 * chain of chunk transforms for streams and the same logic for whole completions.
 *
 * Stream transforms are parser-style (`feed`/`flush` with an `onChunk` callback, as STYLE.md's
 * parser ⟂ stream), so the gateway runs a whole chain inside one TransformStream, a batch of
 * upstream events at a time: a web-stream hop per chunk and per transform costs more than the
 * transforms themselves.
 * @module
 */
import type { ChatCompletionChunk } from '../openai/types.js'

/**
 * One stream transform: chunks in through `feed`, out through the `onChunk` it was made with.
 * A transform never changes a chunk it receives (it emits a new object instead); it may pass a
 * chunk on as the same object when it has nothing to change, and the relay then sends the
 * upstream's own text for it rather than serializing it again.
 */
export interface ChunkTransform {
  feed(chunk: ChatCompletionChunk): void
  /** The stream ended: emit whatever is held. */
  flush(): void
}

/** Makes a transform that sends its output to `onChunk`. */
export type ChunkTransformFactory = (onChunk: (chunk: ChatCompletionChunk) => void) => ChunkTransform

/** Chains transforms: the first one's output feeds the second, and so on, the last one's goes to `onChunk`. */
export function chainTransforms(factories: readonly ChunkTransformFactory[], onChunk: (chunk: ChatCompletionChunk) => void): ChunkTransform {
  let next: ChunkTransform = { feed: onChunk, flush: () => {} }
  const chain: ChunkTransform[] = []
  for (let index = factories.length - 1; index >= 0; index -= 1) {
    const downstream = next
    next = (factories[index] as ChunkTransformFactory)((chunk) => downstream.feed(chunk))
    chain.unshift(next)
  }
  return {
    feed: (chunk) => next.feed(chunk),
    // Flush in order, so what a transform releases at the end still goes through the ones after it.
    flush: () => {
      for (const transform of chain) transform.flush()
    },
  }
}
