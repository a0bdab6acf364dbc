import { describe, expect, it } from 'vitest'
import { chainTransforms } from '../../src/gateway/chunk-pipeline.js'
import type { ChunkTransformFactory } from '../../src/gateway/chunk-pipeline.js'
import type { ChatCompletionChunk } from 'queuegate'

const chunk = (content: string): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })
const text = (c: ChatCompletionChunk): string => String(c.choices[0]?.delta.content)

describe('chainTransforms', () => {
  it('feeds each transform into the next and flushes them in order, so held output still passes the later ones', () => {
    // Holds everything until flush, then releases it.
    const holder: ChunkTransformFactory = (onChunk) => {
      const held: ChatCompletionChunk[] = []
      return { feed: (c) => held.push(c), flush: () => held.splice(0).forEach(onChunk) }
    }
    const upper: ChunkTransformFactory = (onChunk) => ({ feed: (c) => onChunk(chunk(text(c).toUpperCase())), flush: () => onChunk(chunk('!')) })
    const out: string[] = []
    const chain = chainTransforms([holder, upper], (c) => out.push(text(c)))
    chain.feed(chunk('a'))
    chain.feed(chunk('b'))
    expect(out).toEqual([])
    chain.flush()
    expect(out).toEqual(['A', 'B', '!'])
  })

  it('with no transforms passes chunks straight through', () => {
    const out: string[] = []
    const chain = chainTransforms([], (c) => out.push(text(c)))
    chain.feed(chunk('x'))
    chain.flush()
    expect(out).toEqual(['x'])
  })
})
