import { describe, expect, it } from 'vitest'
import { PrefixIndex } from '../../src/queue/prefix-index.js'
import { prefixHashesOf } from '../../src/queue/prefix-hashes.js'

const blocks = (matches: ReturnType<PrefixIndex['matches']>) => Object.fromEntries([...matches.values()].map(({ place, blocks }) => [`${place.upstream}/${place.slot}`, blocks]))

describe('PrefixIndex', () => {
  it('finds the longest recorded prefix per place', () => {
    const index = new PrefixIndex()
    index.record(['s', 's-a1', 's-a1-a2'], 'gpu0', 0)
    index.record(['s', 's-b1'], 'gpu1', 1)
    expect(blocks(index.matches(['s', 's-a1', 's-a1-a2', 's-a1-a2-a3']))).toEqual({ 'gpu0/0': 3, 'gpu1/1': 1 })
    expect(blocks(index.matches(['s', 's-b1', 's-b1-b2']))).toEqual({ 'gpu0/0': 1, 'gpu1/1': 2 })
    expect(blocks(index.matches(['t', 't-x']))).toEqual({})
  })

  it('forgets what a slot held once another prompt is recorded on it, except the prefix they share', () => {
    const index = new PrefixIndex()
    index.record(['s', 's-a1', 's-a1-a2'], 'gpu0', 0)
    index.record(['s', 's-b1'], 'gpu0', 0)
    expect(blocks(index.matches(['s', 's-a1', 's-a1-a2']))).toEqual({ 'gpu0/0': 1 })
    expect(blocks(index.matches(['s', 's-b1']))).toEqual({ 'gpu0/0': 2 })
    index.record(['s', 's-a1'], 'gpu0', 1)
    expect(blocks(index.matches(['s', 's-a1']))).toEqual({ 'gpu0/0': 1, 'gpu0/1': 2 })
    index.forgetUpstream('gpu0')
    expect(blocks(index.matches(['s', 's-a1']))).toEqual({})
  })

  it("forgets one slot (reused behind the gateway's back), the other slots keep theirs, and the slot records anew", () => {
    const index = new PrefixIndex()
    index.record(['s', 's-a1'], 'gpu0', 0)
    index.record(['s', 's-b1'], 'gpu0', 1)
    index.record(['s', 's-c1'], 'gpu1', 0)
    index.forgetSlot('gpu0', 0)
    index.forgetSlot('gpu0', 7) // never recorded: nothing to forget
    expect(blocks(index.matches(['s', 's-a1']))).toEqual({ 'gpu0/1': 1, 'gpu1/0': 1 })
    index.record(['s', 's-a1'], 'gpu0', 0)
    expect(blocks(index.matches(['s', 's-a1']))).toEqual({ 'gpu0/0': 2, 'gpu0/1': 1, 'gpu1/0': 1 })
  })

  it('stays within maxEntries, evicting the least recently recorded deepest blocks first', () => {
    const index = new PrefixIndex({ maxEntries: 4 })
    index.record(['s', 's-a1', 's-a1-a2'], 'gpu0', 0)
    index.record(['t', 't-b1'], 'gpu1', 0)
    expect(index.size).toBe(4)
    // 's-a1-a2' (deepest of the oldest record) went first; the shorter prefixes of that prompt remain.
    expect(blocks(index.matches(['s', 's-a1', 's-a1-a2']))).toEqual({ 'gpu0/0': 2 })
    for (let round = 0; round < 100; round++) index.record([`u${round}`, `u${round}-x`], 'gpu2', round % 2)
    expect(index.size).toBe(4)
    expect(blocks(index.matches(['s', 's-a1']))).toEqual({})
  })

  it('keeps at most maxPlaces places per prefix, the most recent', () => {
    const index = new PrefixIndex({ maxPlaces: 2 })
    for (const upstream of ['a', 'b', 'c']) index.record(['s'], upstream, 0)
    expect(blocks(index.matches(['s']))).toEqual({ 'c/0': 1, 'b/0': 1 })
  })

  it('rejects bad bounds', () => {
    expect(() => new PrefixIndex({ maxEntries: 0 })).toThrow(TypeError)
    expect(() => new PrefixIndex({ maxPlaces: 1.5 })).toThrow(TypeError)
  })
})

describe('prefixHashesOf', () => {
  const system = { role: 'system', content: 'You are a careful agent.' }
  it('gives cumulative block hashes: requests share exactly their common leading messages', () => {
    const turn1 = prefixHashesOf([system, { role: 'user', content: 'hi' }])
    const turn2 = prefixHashesOf([system, { role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'more' }])
    const other = prefixHashesOf([system, { role: 'user', content: 'ho' }])
    expect(turn2.hashes.slice(0, 2)).toEqual(turn1.hashes)
    expect(other.hashes[0]).toBe(turn1.hashes[0])
    expect(other.hashes[1]).not.toBe(turn1.hashes[1])
    expect(turn2.ends).toHaveLength(4)
    expect(turn2.chars).toBe(turn2.ends[3])
    // Moving text across a message boundary changes the hash.
    expect(prefixHashesOf([{ role: 'user', content: 'ab' }, { role: 'user', content: 'c' }]).hashes[1]).not.toBe(prefixHashesOf([{ role: 'user', content: 'a' }, { role: 'user', content: 'bc' }]).hashes[1])
  })

  it('chunks long messages and caps the blocks', () => {
    const long = prefixHashesOf([{ role: 'user', content: 'x'.repeat(10_000) }], { chunkChars: 4096 })
    expect(long.hashes).toHaveLength(3)
    expect(long.ends).toEqual([4096, 8192, 10_005])
    expect(prefixHashesOf(Array.from({ length: 50 }, () => system), { maxBlocks: 8 }).hashes).toHaveLength(8)
    expect(prefixHashesOf('nope')).toEqual({ hashes: [], ends: [], chars: 0 })
  })

  it('counts the conversation depth: its user and tool messages', () => {
    expect(prefixHashesOf([system, { role: 'user', content: 'hi' }]).turns).toBe(1)
    const agentTurn = [system, { role: 'user', content: 'weather?' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'sunny' }]
    expect(prefixHashesOf(agentTurn).turns).toBe(2)
    expect(prefixHashesOf([system, null, 'x', { role: 'assistant', content: 'a' }]).turns).toBe(0)
  })
})
