import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createThinkSplitter } from '../../src/reasoning/think-splitter.js'
import type { ThinkSplitterOptions } from '../../src/reasoning/think-splitter.js'
import { seededRandom } from '../helpers/seeded-random.js'

interface Result {
  content: string
  reasoning: string
}

/** Feeds the pieces, then flushes; the concatenated output. */
function run(pieces: readonly string[], options: ThinkSplitterOptions = {}): Result {
  const splitter = createThinkSplitter(options)
  const out: Result = { content: '', reasoning: '' }
  for (const piece of pieces) {
    const part = splitter.feed(piece)
    out.content += part.content
    out.reasoning += part.reasoning
  }
  const rest = splitter.flush()
  return { content: out.content + rest.content, reasoning: out.reasoning + rest.reasoning }
}

const oneByOne = (text: string): string[] => [...text]

function randomSplits(text: string, seed: number): string[] {
  const random = seededRandom(seed)
  const pieces: string[] = []
  let at = 0
  while (at < text.length) {
    const length = 1 + Math.floor(random() * 8)
    pieces.push(text.slice(at, at + length))
    at += length
  }
  return pieces
}

interface Case {
  name: string
  chunks: string[]
  expected: Result
  options?: ThinkSplitterOptions
}

const CASES: Case[] = [
  { name: 'plain content', chunks: ['Hello ', 'world'], expected: { content: 'Hello world', reasoning: '' } },
  { name: 'a block, then the answer (whitespace after the close tag dropped)', chunks: ['<think>plan</think>\n\nAnswer'], expected: { content: 'Answer', reasoning: 'plan' } },
  { name: '<thinking>', chunks: ['<thinking>\nstep 1\n</thinking>Done.'], expected: { content: 'Done.', reasoning: '\nstep 1\n' } },
  { name: '<seed:think>', chunks: ['<seed:think>hmm</seed:think>OK'], expected: { content: 'OK', reasoning: 'hmm' } },
  { name: 'HTML-escaped tags', chunks: ['&lt;think&gt;escaped&lt;/think&gt; visible'], expected: { content: 'visible', reasoning: 'escaped' } },
  { name: 'whitespace before a first block is dropped', chunks: ['\n\n<think>a</think>b'], expected: { content: 'b', reasoning: 'a' } },
  { name: 'text before a block stays content', chunks: ['Intro <think>why</think> outro'], expected: { content: 'Intro outro', reasoning: 'why' } },
  { name: 'two blocks', chunks: ['<think>a</think>x <think>b</think>y'], expected: { content: 'x y', reasoning: 'ab' } },
  { name: 'an unclosed block ends as reasoning', chunks: ['<think>still thinking <'], expected: { content: '', reasoning: 'still thinking <' } },
  { name: 'an open tag inside a block is text', chunks: ['<think>a <think> b</think>c'], expected: { content: 'c', reasoning: 'a <think> b' } },
  { name: 'a partial tag at the end of content is content', chunks: ['x <thin'], expected: { content: 'x <thin', reasoning: '' } },
  { name: 'look-alikes are content', chunks: ['a <b>bold</b> &lt;p&gt; <thinker> &amp;'], expected: { content: 'a <b>bold</b> &lt;p&gt; <thinker> &amp;', reasoning: '' } },
  {
    name: 'the reply starts inside a block (Qwen3, DeepSeek-R1), within the start window',
    chunks: ['Let me see.\n</think>\n\nThe answer.'],
    options: { startWindow: 512 },
    expected: { content: 'The answer.', reasoning: 'Let me see.\n' },
  },
  { name: 'no start window (the default): a stray close tag at the start is text', chunks: ['Let me see.</think>Answer'], expected: { content: 'Let me see.</think>Answer', reasoning: '' } },
  { name: 'whitespace before a first block is dropped without a start window too', chunks: [' \n <thinking>a</thinking>b'], options: { startWindow: 0 }, expected: { content: 'b', reasoning: 'a' } },
  { name: 'whitespace-only content is kept', chunks: [' \n '], expected: { content: ' \n ', reasoning: '' } },
  {
    name: 'the reply starts inside a block, then another block',
    chunks: ['plan</think>A <think>more</think>B'],
    options: { startWindow: 512 },
    expected: { content: 'A B', reasoning: 'planmore' },
  },
  {
    name: 'a close tag past the start window stays text',
    chunks: [`${'x'.repeat(20)}</think>y`],
    options: { startWindow: 10 },
    expected: { content: `${'x'.repeat(20)}</think>y`, reasoning: '' },
  },
  {
    name: 'a close tag beginning inside the start window counts',
    chunks: [`${'x'.repeat(9)}</think>y`],
    options: { startWindow: 10 },
    expected: { content: 'y', reasoning: 'x'.repeat(9) },
  },
  { name: 'start window 0: a stray close tag is text', chunks: ['a</think>b'], options: { startWindow: 0 }, expected: { content: 'a</think>b', reasoning: '' } },
  { name: 'a whole answer (Infinity) finds a late close tag', chunks: [`${'r'.repeat(2000)}</think>ok`], options: { startWindow: Number.POSITIVE_INFINITY }, expected: { content: 'ok', reasoning: 'r'.repeat(2000) } },
  { name: 'a stray close tag after a block is text', chunks: ['<think>a</think>b</think>c'], expected: { content: 'b</think>c', reasoning: 'a' } },
  { name: 'a close tag of another spelling closes the block', chunks: ['<thinking>a</think>b'], expected: { content: 'b', reasoning: 'a' } },
  { name: 'only a block', chunks: ['<think>only</think>'], expected: { content: '', reasoning: 'only' } },
  { name: 'empty', chunks: [], expected: { content: '', reasoning: '' } },
  { name: 'unicode around tags', chunks: ['<think>東京🌧️</think>é'], expected: { content: 'é', reasoning: '東京🌧️' } },
  // Replies that start inside a block the prompt opened (startInside).
  { name: 'inside from the start: text is reasoning until the close tag', chunks: ['Let me see.\n</think>\n\nThe answer.'], options: { startInside: true }, expected: { content: 'The answer.', reasoning: 'Let me see.\n' } },
  { name: 'inside from the start: the model writing its own open tag first is dropped', chunks: ['\n<think>plan</think>A'], options: { startInside: true }, expected: { content: 'A', reasoning: 'plan' } },
  { name: 'inside from the start: an open tag further on is text', chunks: ['plan <think> x</think>A'], options: { startInside: true }, expected: { content: 'A', reasoning: 'plan <think> x' } },
  { name: 'inside from the start: no close tag, all reasoning', chunks: ['thinking on and on'], options: { startInside: true }, expected: { content: '', reasoning: 'thinking on and on' } },
  { name: 'inside from the start: whitespace only', chunks: [' \n'], options: { startInside: true }, expected: { content: '', reasoning: ' \n' } },
  { name: 'inside from the start, then more blocks', chunks: ['a</think>B<think>c</think>D'], options: { startInside: true }, expected: { content: 'BD', reasoning: 'ac' } },
  { name: 'inside from the start with escaped tags', chunks: ['&lt;think&gt;a&lt;/think&gt;B'], options: { startInside: true }, expected: { content: 'B', reasoning: 'a' } },
]

describe('createThinkSplitter', () => {
  for (const testCase of CASES) {
    it(testCase.name, () => {
      const text = testCase.chunks.join('')
      expect(run(testCase.chunks, testCase.options)).toEqual(testCase.expected)
      expect(run([text], testCase.options), 'whole').toEqual(testCase.expected)
      expect(run(oneByOne(text), testCase.options), 'one character at a time').toEqual(testCase.expected)
      for (const seed of [1, 2, 3, 42, 1234]) expect(run(randomSplits(text, seed), testCase.options), `seed ${seed}`).toEqual(testCase.expected)
    })
  }

  it('splits a tag at every position', () => {
    const text = 'Hi <think>plan</think>Answer &lt;think&gt;x&lt;/think&gt;y'
    for (let at = 0; at <= text.length; at++) {
      expect(run([text.slice(0, at), text.slice(at)]), `split at ${at}`).toEqual({ content: 'Hi Answer y', reasoning: 'planx' })
    }
  })

  it('releases plain content at once and holds only a possible tag', () => {
    const splitter = createThinkSplitter({ startWindow: 0 })
    expect(splitter.feed('Hello')).toEqual({ content: 'Hello', reasoning: '' })
    expect(splitter.feed(' wor<th')).toEqual({ content: ' wor', reasoning: '' })
    expect(splitter.feed('ink>plan</th')).toEqual({ content: '', reasoning: 'plan' })
    expect(splitter.feed('ink>done')).toEqual({ content: 'done', reasoning: '' })
    expect(splitter.flush()).toEqual({ content: '', reasoning: '' })
  })

  it('holds the start of a reply for the start window only', () => {
    const splitter = createThinkSplitter({ startWindow: 8 })
    expect(splitter.feed('abcd')).toEqual({ content: '', reasoning: '' })
    expect(splitter.feed('efgh')).toEqual({ content: 'abcdefgh', reasoning: '' })
    expect(splitter.feed('ij')).toEqual({ content: 'ij', reasoning: '' })
    const opened = createThinkSplitter({ startWindow: 8 })
    expect(opened.feed('<think>a')).toEqual({ content: '', reasoning: 'a' })
    const off = createThinkSplitter()
    expect(off.feed('\n')).toEqual({ content: '', reasoning: '' })
    expect(off.feed('Hi')).toEqual({ content: '\nHi', reasoning: '' })
  })

  it('splits a close tag at every position when the reply starts inside (stream and whole)', () => {
    for (const close of ['</think>', '</thinking>', '</seed:think>', '&lt;/think&gt;']) {
      const text = `Reasoning here.${close}\n\nThe answer.`
      for (let at = 0; at <= text.length; at++) {
        expect(run([text.slice(0, at), text.slice(at)], { startInside: true }), `${close} split at ${at}`).toEqual({ content: 'The answer.', reasoning: 'Reasoning here.' })
        // Without startInside, a whole answer (Infinity) reads the orphan close tag the same way.
        expect(run([text.slice(0, at), text.slice(at)], { startWindow: Number.POSITIVE_INFINITY }), `whole, ${close} split at ${at}`).toEqual({ content: 'The answer.', reasoning: 'Reasoning here.' })
      }
    }
  })

  it('reports an orphan close tag once, wherever it is split, and says when a block closed', () => {
    const text = 'leaked reasoning</think>\n\nAnswer </think> again'
    for (let at = 0; at <= text.length; at++) {
      let orphans = 0
      const splitter = createThinkSplitter({ onOrphanClose: () => orphans++ })
      const out = [splitter.feed(text.slice(0, at)), splitter.feed(text.slice(at)), splitter.flush()]
      // A stream with no start window leaves it in content (the reasoning went out already), but reports it.
      expect(out.map((part) => part.content).join(''), `split at ${at}`).toBe(text)
      expect(orphans, `split at ${at}`).toBe(1)
      expect(splitter.closed).toBe(false)
    }
    let reported = 0
    const whole = createThinkSplitter({ startWindow: Number.POSITIVE_INFINITY, onOrphanClose: () => reported++ })
    whole.feed(text)
    whole.flush()
    expect([reported, whole.closed]).toEqual([1, true])
    // A close tag after a block the reply opened is no orphan.
    let none = 0
    const paired = createThinkSplitter({ onOrphanClose: () => none++ })
    paired.feed('<think>a</think>b</think>c')
    paired.flush()
    expect([none, paired.closed]).toEqual([0, true])
    const inside = createThinkSplitter({ startInside: true })
    inside.feed('no close tag')
    expect(inside.closed).toBe(false)
    // Started midway (a gated stream handed over): an orphan further on is still seen.
    let midway = 0
    const late = createThinkSplitter({ midway: true, onOrphanClose: () => midway++ })
    late.feed('x</thi')
    late.feed('nk>y')
    expect(midway).toBe(1)
  })

  it('rejects a bad start window', () => {
    expect(() => createThinkSplitter({ startWindow: -1 })).toThrow(/startWindow: expected a number >= 0, got -1/)
  })
})

describe('createThinkSplitter properties', () => {
  const WORDS = ['<think>', '</think>', '<thinking>', '</thinking>', '<seed:think>', '</seed:think>', '&lt;think&gt;', '&lt;/think&gt;', '<', '&', '&lt;', '</', '<th', 'think', '>', ' ', '\n', 'plan', 'answer', 'é東', '🌧️']
  it('any chunking gives the whole-text result', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...WORDS), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.constantFrom(0, 3, 16, 512, Number.POSITIVE_INFINITY),
        fc.boolean(),
        fc.boolean(),
        (words, cuts, startWindow, startInside, watch) => {
          const text = words.join('')
          const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b)
          const pieces: string[] = []
          let last = 0
          for (const point of points) {
            pieces.push(text.slice(last, point))
            last = point
          }
          pieces.push(text.slice(last))
          const options = { startWindow, startInside, onOrphanClose: watch ? () => {} : undefined }
          expect(run(pieces, options)).toEqual(run([text], options))
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('without tags the text comes out unchanged as content', () => {
    fc.assert(
      fc.property(fc.string().filter((text) => !text.includes('<') && !text.includes('&')), (text) => {
        expect(run([text])).toEqual({ content: text, reasoning: '' })
      }),
    )
  })
})
