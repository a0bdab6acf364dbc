import { describe, expect, it, vi } from 'vitest'
import { createLocalMemory, StringMemoryStorage } from 'queuegate'
import type { Embedder } from 'queuegate'

/** A clock for notes' `ts`: one ms per note. */
function ticking(start = 1_000): () => number {
  let now = start
  return () => now++
}

describe('LocalMemory ranking', () => {
  it('finds the note that shares the query words, best first, and ignores other namespaces', async () => {
    const memory = createLocalMemory({ now: ticking() })
    await memory.upsert('chat-a', [
      { text: 'My dog is called Biscuit and he loves the beach.', role: 'user' },
      { text: 'The capital of France is Paris.', role: 'assistant' },
      { text: 'I work as a nurse in Lyon.', role: 'user' },
    ])
    await memory.upsert('chat-b', [{ text: 'My dog is called Rex.', role: 'user' }])
    const items = await memory.query('chat-a', "What is my dog's name?", { k: 8 })
    expect(items.map((item) => item.text)).toEqual(['My dog is called Biscuit and he loves the beach.'])
    expect(items[0]).toMatchObject({ role: 'user', ts: 1000 })
    expect(items[0]?.score).toBeGreaterThan(0)
    expect(await memory.query('chat-c', 'dog')).toEqual([])
    expect(await memory.query('chat-a', 'the of is')).toEqual([])
  })

  it('returns at most k notes, ordered by score', async () => {
    const memory = createLocalMemory()
    await memory.upsert('n', Array.from({ length: 20 }, (_, index) => ({ text: `note ${index} about apples${' apples'.repeat(index % 3)}` })))
    const items = await memory.query('n', 'apples', { k: 5 })
    expect(items).toHaveLength(5)
    for (let index = 1; index < items.length; index++) expect(items[index - 1]!.score).toBeGreaterThanOrEqual(items[index]!.score)
  })

  it('with equal text scores, the newer note ranks first (the recency boost), and only slightly', async () => {
    const memory = createLocalMemory()
    await memory.upsert('n', [{ text: 'the meeting is on tuesday' }, { text: 'filler one' }, { text: 'filler two' }, { text: 'the meeting is on friday' }])
    const items = await memory.query('n', 'meeting')
    expect(items.map((item) => item.text)).toEqual(['the meeting is on friday', 'the meeting is on tuesday'])
    expect(items[0]!.score / items[1]!.score).toBeCloseTo(1.1, 5)
    // A much better text match still wins over recency.
    await memory.upsert('n', [{ text: 'budget budget budget review' }, { text: 'budget' }])
    const budget = await memory.query('n', 'budget review')
    expect(budget[0]?.text).toBe('budget budget budget review')
  })

  it('stores a text once per namespace (trimmed), but the same text in two namespaces', async () => {
    const memory = createLocalMemory()
    await memory.upsert('a', [{ text: 'hello world' }, { text: '  hello world  ' }])
    await memory.upsert('a', [{ text: 'hello world' }, { text: '' }, { text: '   ' }])
    await memory.upsert('b', [{ text: 'hello world' }])
    expect(memory.size).toBe(2)
    expect(await memory.list('a')).toHaveLength(1)
  })

  it('forget drops a namespace; list gives the newest first', async () => {
    const memory = createLocalMemory({ now: ticking() })
    await memory.upsert('a', [{ text: 'first' }, { text: 'second' }, { text: 'third' }])
    await memory.upsert('b', [{ text: 'other' }])
    expect((await memory.list('a', { limit: 2 })).map((item) => item.text)).toEqual(['third', 'second'])
    await memory.forget('a')
    expect(await memory.query('a', 'first')).toEqual([])
    expect(await memory.list('a')).toEqual([])
    expect(memory.size).toBe(1)
  })

  it('cuts a note longer than maxTextChars', async () => {
    const memory = createLocalMemory({ maxTextChars: 10 })
    await memory.upsert('a', [{ text: 'abcdefghijKLMNOP' }])
    expect((await memory.list('a'))[0]?.text).toBe('abcdefghij')
  })

  it('a query aborted before it runs rejects', async () => {
    const memory = createLocalMemory()
    await memory.upsert('a', [{ text: 'x y z' }])
    await expect(memory.query('a', 'x', { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone')
  })
})

describe('LocalMemory bounds', () => {
  it('keeps maxItems notes per namespace, dropping the oldest (index included)', async () => {
    const memory = createLocalMemory({ maxItems: 3 })
    await memory.upsert('a', [{ text: 'alpha one' }, { text: 'alpha two' }, { text: 'alpha three' }, { text: 'alpha four' }])
    await memory.upsert('a', [{ text: 'alpha five' }])
    expect((await memory.list('a')).map((item) => item.text)).toEqual(['alpha five', 'alpha four', 'alpha three'])
    expect((await memory.query('a', 'alpha')).map((item) => item.text).sort()).toEqual(['alpha five', 'alpha four', 'alpha three'])
    // A dropped text may come back.
    await memory.upsert('a', [{ text: 'alpha one' }])
    expect((await memory.list('a'))[0]?.text).toBe('alpha one')
  })

  it('keeps maxTotalItems over all namespaces, dropping the oldest anywhere', async () => {
    const memory = createLocalMemory({ maxTotalItems: 4 })
    await memory.upsert('a', [{ text: 'a1' }, { text: 'a2' }])
    await memory.upsert('b', [{ text: 'b1' }, { text: 'b2' }])
    await memory.upsert('c', [{ text: 'c1' }, { text: 'c2' }, { text: 'c3' }])
    expect(memory.size).toBe(4)
    expect(await memory.list('a')).toEqual([])
    expect((await memory.list('b')).map((item) => item.text)).toEqual(['b2'])
    expect((await memory.list('c')).map((item) => item.text)).toEqual(['c3', 'c2', 'c1'])
  })

  it('a namespace index built in slices stays right when notes arrive and leave during the build', async () => {
    const memory = createLocalMemory({ maxItems: 600 })
    await memory.upsert('a', Array.from({ length: 600 }, (_, index) => ({ text: `alpha${index} common` })))
    // The first query builds the index (several slices); meanwhile 100 notes arrive and push the 100 oldest out.
    const first = memory.query('a', 'alpha0 alpha599', { k: 8 })
    const arriving = memory.upsert('a', Array.from({ length: 100 }, (_, index) => ({ text: `beta${index} common` })))
    await Promise.all([first, arriving])
    expect((await memory.query('a', 'alpha0')).map((item) => item.text)).toEqual([])
    expect((await memory.query('a', 'alpha599')).map((item) => item.text)).toEqual(['alpha599 common'])
    expect((await memory.query('a', 'beta99')).map((item) => item.text)).toEqual(['beta99 common'])
    expect(await memory.query('a', 'common', { k: 1000 })).toHaveLength(600)
    // Later notes go straight into the built index.
    await memory.upsert('a', [{ text: 'gamma late' }])
    expect((await memory.query('a', 'gamma'))[0]?.text).toBe('gamma late')
  })

  it('rejects bad options by name', () => {
    expect(() => createLocalMemory({ maxItems: 0 })).toThrow(/maxItems/)
    expect(() => createLocalMemory({ maxTotalItems: 1.5 })).toThrow(/maxTotalItems/)
    expect(() => createLocalMemory({ semanticWeight: 2 })).toThrow(/semanticWeight/)
  })
})

describe('LocalMemory persistence', () => {
  it('round trip: notes, roles, times, forgets and bounds come back from the log', async () => {
    const storage = new StringMemoryStorage()
    const first = createLocalMemory({ storage, maxItems: 3, now: ticking(5_000) })
    await first.upsert('a', [{ text: 'one', role: 'user' }, { text: 'two', role: 'assistant' }, { text: 'three' }, { text: 'four' }])
    await first.upsert('b', [{ text: 'bee note' }])
    await first.upsert('gone', [{ text: 'forget me' }])
    await first.forget('gone')
    await first.close()
    expect(storage.text.split('\n').filter((line) => line !== '')).toHaveLength(7)
    const second = createLocalMemory({ storage, maxItems: 3 })
    await second.ready()
    expect(await second.list('a')).toEqual([
      { text: 'four', role: undefined, score: 0, ts: 5003 },
      { text: 'three', role: undefined, score: 0, ts: 5002 },
      { text: 'two', role: 'assistant', score: 0, ts: 5001 },
    ])
    expect((await second.query('b', 'bee'))[0]?.text).toBe('bee note')
    expect(await second.list('gone')).toEqual([])
    expect(second.size).toBe(4)
  })

  it('a torn last line (a crash mid-write) is skipped with a warning, and the log is rewritten clean', async () => {
    const storage = new StringMemoryStorage()
    const first = createLocalMemory({ storage })
    await first.upsert('a', [{ text: 'kept one' }, { text: 'kept two' }])
    await first.close()
    storage.text += '{"ns":"a","text":"torn in the mid'
    const onWarning = vi.fn()
    const second = createLocalMemory({ storage, onWarning })
    await second.ready()
    expect(onWarning).toHaveBeenCalledTimes(1)
    expect(onWarning.mock.calls[0]?.[0]).toMatch(/skipped 1 unreadable line .*torn/)
    expect((await second.list('a')).map((item) => item.text)).toEqual(['kept two', 'kept one'])
    // Rewritten: the next note is a line of its own, and a third start reads everything.
    await second.upsert('a', [{ text: 'after the crash' }])
    await second.close()
    expect(storage.text.endsWith('\n')).toBe(true)
    const third = createLocalMemory({ storage, onWarning })
    expect((await third.list('a')).map((item) => item.text)).toEqual(['after the crash', 'kept two', 'kept one'])
    expect(onWarning).toHaveBeenCalledTimes(1)
  })

  it('a whole last line without its newline is kept, and the next line does not run on from it', async () => {
    const storage = new StringMemoryStorage('{"ns":"a","text":"no newline","ts":1}')
    const memory = createLocalMemory({ storage })
    await memory.upsert('a', [{ text: 'next' }])
    await memory.close()
    const again = createLocalMemory({ storage })
    expect((await again.list('a')).map((item) => item.text)).toEqual(['next', 'no newline'])
  })

  it('garbage lines in the middle are skipped and counted', async () => {
    const storage = new StringMemoryStorage('{"ns":"a","text":"one","ts":1}\nnot json\n{"ns":"a"}\n[1]\n{"ns":"a","text":"two","ts":2}\n')
    const onWarning = vi.fn()
    const memory = createLocalMemory({ storage, onWarning })
    expect((await memory.list('a')).map((item) => item.text)).toEqual(['two', 'one'])
    expect(onWarning.mock.calls[0]?.[0]).toMatch(/skipped 3 unreadable lines/)
  })

  it('compacts the log when it holds much more than the live notes', async () => {
    const storage = new StringMemoryStorage()
    const memory = createLocalMemory({ storage, maxItems: 10 })
    for (let batch = 0; batch < 60; batch++) {
      await memory.upsert('a', Array.from({ length: 50 }, (_, index) => ({ text: `note ${batch}-${index}` })))
    }
    await memory.close()
    const lines = storage.text.split('\n').filter((line) => line !== '')
    // 3000 notes written, 10 live: without compaction the log would hold 3000 lines.
    expect(lines.length).toBeLessThanOrEqual(1100)
    const again = createLocalMemory({ storage, maxItems: 10 })
    expect((await again.list('a', { limit: 100 })).map((item) => item.text)).toEqual(Array.from({ length: 10 }, (_, index) => `note 59-${49 - index}`))
  })

  it('a log that cannot be read: a warning, and the notes live in memory only (the file is not overwritten)', async () => {
    const append = vi.fn(async () => {})
    const replace = vi.fn(async () => {})
    const storage = {
      // eslint-disable-next-line require-yield
      async *read(): AsyncIterable<string> {
        throw new Error('EACCES: permission denied')
      },
      append,
      replace,
    }
    const onWarning = vi.fn()
    const memory = createLocalMemory({ storage, onWarning })
    await memory.upsert('a', [{ text: 'still works' }])
    expect((await memory.query('a', 'works'))[0]?.text).toBe('still works')
    await memory.close()
    expect(onWarning.mock.calls[0]?.[0]).toMatch(/could not be read.*EACCES/)
    expect(append).not.toHaveBeenCalled()
    expect(replace).not.toHaveBeenCalled()
  })

  it('a failed write is warned about and later writes go on', async () => {
    const storage = new StringMemoryStorage()
    let fail = true
    const append = storage.append.bind(storage)
    storage.append = async (text: string) => {
      if (fail) {
        fail = false
        throw new Error('ENOSPC')
      }
      await append(text)
    }
    const onWarning = vi.fn()
    const memory = createLocalMemory({ storage, onWarning })
    await memory.upsert('a', [{ text: 'lost on disk' }])
    await memory.upsert('a', [{ text: 'written' }])
    await memory.close()
    expect(onWarning.mock.calls[0]?.[0]).toMatch(/writing the log failed: ENOSPC/)
    expect(storage.text).toContain('written')
  })
})

/** A deterministic embedder for tests: a bag of words hashed into 64 dimensions, synonyms folded. */
function wordEmbedder(model = 'test-embed', synonyms: Record<string, string> = {}): Embedder & { calls: string[][] } {
  const calls: string[][] = []
  return {
    model,
    calls,
    async embed(texts) {
      calls.push(texts)
      return texts.map((text) => {
        const vector = new Array<number>(64).fill(0)
        for (const raw of text.toLowerCase().match(/[a-z]+/g) ?? []) {
          const word = synonyms[raw] ?? raw
          let hash = 0
          for (const char of word) hash = (hash * 31 + char.charCodeAt(0)) % 64
          vector[hash] = (vector[hash] as number) + 1
        }
        return vector
      })
    },
  }
}

describe('LocalMemory with embeddings (hybrid)', () => {
  it('finds a note by meaning that shares no word with the query, and stores vectors so a reload does not re-embed', async () => {
    const storage = new StringMemoryStorage()
    const embedder = wordEmbedder('test-embed', { automobile: 'car', vehicle: 'car' })
    const memory = createLocalMemory({ storage, embedder })
    await memory.upsert('a', [{ text: 'I drive an automobile' }, { text: 'lunch was pasta' }])
    expect(embedder.calls).toEqual([['I drive an automobile', 'lunch was pasta']])
    const items = await memory.query('a', 'which vehicle')
    expect(items[0]?.text).toBe('I drive an automobile')
    // Full text alone finds nothing for it.
    const plain = createLocalMemory()
    await plain.upsert('a', [{ text: 'I drive an automobile' }])
    expect(await plain.query('a', 'which vehicle')).toEqual([])
    await memory.close()
    expect(storage.text).toContain('"vecModel":"test-embed"')
    const reloadEmbedder = wordEmbedder('test-embed', { automobile: 'car', vehicle: 'car' })
    const reloaded = createLocalMemory({ storage, embedder: reloadEmbedder })
    expect((await reloaded.query('a', 'which vehicle'))[0]?.text).toBe('I drive an automobile')
    expect(reloadEmbedder.calls).toEqual([['which vehicle']])
  })

  it('when the query embedding fails, ranks by full text and warns', async () => {
    const embedder = wordEmbedder()
    const onWarning = vi.fn()
    const memory = createLocalMemory({ embedder, onWarning })
    await memory.upsert('a', [{ text: 'the red bicycle' }])
    embedder.embed = async () => {
      throw new Error('upstream down')
    }
    expect((await memory.query('a', 'bicycle'))[0]?.text).toBe('the red bicycle')
    expect(onWarning.mock.calls[0]?.[0]).toMatch(/embedding the query failed.*upstream down/)
  })

  it('when embedding new notes fails, they are stored for full text', async () => {
    const onWarning = vi.fn()
    const memory = createLocalMemory({
      embedder: {
        model: 'm',
        embed: async () => {
          throw new Error('no embeddings')
        },
      },
      onWarning,
    })
    await memory.upsert('a', [{ text: 'green apple' }])
    expect((await memory.query('a', 'apple'))[0]?.text).toBe('green apple')
    expect(onWarning.mock.calls[0]?.[0]).toMatch(/embedding new notes failed/)
  })

  it('vectors of another model are not compared (full text only for those notes)', async () => {
    const storage = new StringMemoryStorage()
    const memory = createLocalMemory({ storage, embedder: wordEmbedder('model-a', { automobile: 'car', vehicle: 'car' }) })
    await memory.upsert('a', [{ text: 'I drive an automobile' }])
    await memory.close()
    const other = createLocalMemory({ storage, embedder: wordEmbedder('model-b', { automobile: 'car', vehicle: 'car' }) })
    expect(await other.query('a', 'which vehicle')).toEqual([])
  })
})
