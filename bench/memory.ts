/**
 * Chat memory's embedded store (issue 10): query latency with 100 000 stored notes, the time to
 * reload them from the log file, and recall@8 on generated conversations where the answer to the
 * last question is in an earlier turn, by full text and hybrid.
 *
 * - Latency: 100 000 notes of ~40-70 words, (a) 50 conversations × 2000 (the default per-conversation
 *   bound) and (b) one conversation of 100 000 (the bound raised: the worst case, as every query
 *   scores the whole conversation). 2000 queries of 3-8 words after one warm-up query per
 *   conversation (the first query of a conversation builds its index: reported as "cold").
 * - Reload: the 100 000 notes of (a) written through `createMemoryFile`, then a new store reads
 *   them (`ready()`); indexes are built lazily, per conversation, on its first query.
 * - Recall@8: 300 generated conversations of 30 turns (user + assistant, ~60 notes each), one turn
 *   states a fact ("The wifi password is …"), the last question asks for it in other words
 *   ("What was the password for the wifi?"), among distractor turns that use the same words.
 *   Hybrid uses a DETERMINISTIC LOCAL EMBEDDING, NOT A MODEL: hashed character trigrams (256
 *   dimensions). No embedding model can be fetched on this machine; with a real one (nomic-embed,
 *   bge-small through llama.cpp's /v1/embeddings) paraphrases without shared words would also be
 *   found, which trigrams cannot do. The figure shows the hybrid path works, not what a model adds.
 *
 * Run: `node_modules/.bin/node --import tsx bench/memory.ts` (also part of `npm run bench`; alone:
 * `npm run bench:memory`).
 * @module
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createLocalMemory } from '../src/memory/local-memory.js'
import type { Embedder } from '../src/memory/embedder.js'
import { createMemoryFile } from '../src/server/memory-file.js'
import { seededRandom } from '../test/helpers/seeded-random.js'

const TOTAL = 100_000
const QUERIES = 2000

const WORDS =
  'account address afternoon airport answer apple april article august baby balance bank battery beach bicycle birthday book bread budget building bus cake camera car card cat chair cheese city class client code coffee computer concert contract country dentist dinner doctor dog door dress email engine evening exam family festival file flight floor flower food football friday garden gift glass guitar hair holiday hospital hotel house invoice island jacket january job key kitchen lamp laptop lesson letter library light lunch manager map market meeting menu message monday money morning mountain museum music neighbor network night note office order package painting paper park party password payment phone piano picture pizza plan plant printer project question rain recipe report restaurant river road room salary school screen server shirt shoe shop sister ski song station storm street student subway summer sunday table tax teacher team ticket train travel tuesday vacation village water weather wedding window winter work'.split(' ')
const GLUE = 'the a my our to of and in on for with about at from this that is was will can could should need want please tell me how what when where why'.split(' ')

/**
 * Words with a Zipf distribution (exponent 1) over 20 000 words past the first 100 ranks, as in real text: the topical words
 * above among the first 2000 ranks, the rest made-up syllable words. (A small vocabulary would make
 * every note match every query: no real chat looks like that.)
 */
function zipfVocabulary(random: () => number): { words: string[]; cumulative: Float64Array } {
  const syllables = 'ba be bi bo bu da de di do du fa fe fi ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za zo'.split(' ')
  const words: string[] = []
  const seen = new Set<string>(WORDS)
  while (words.length < 20_000 - WORDS.length) {
    let word = ''
    const count = 2 + Math.floor(random() * 3)
    for (let index = 0; index < count; index++) word += syllables[Math.floor(random() * syllables.length)] as string
    if (seen.has(word)) continue
    seen.add(word)
    words.push(word)
  }
  for (const word of WORDS) words.splice(Math.floor(random() * 2000), 0, word)
  const cumulative = new Float64Array(words.length)
  let sum = 0
  // The 100 most frequent words of real text are function words (the glue above, left out by the
  // index): content words follow the rest of the curve, from rank 100 on.
  for (let rank = 0; rank < words.length; rank++) cumulative[rank] = sum += 1 / (rank + 100)
  return { words, cumulative }
}

let vocabulary: ReturnType<typeof zipfVocabulary> | undefined

/** A chat-like note of `words` words (about 40 % function words), the same for the same random state. */
function sentence(random: () => number, words: number): string {
  vocabulary ??= zipfVocabulary(seededRandom(99))
  const { words: vocab, cumulative } = vocabulary
  const total = cumulative[cumulative.length - 1] as number
  const out: string[] = []
  for (let index = 0; index < words; index++) {
    if (random() < 0.4) {
      out.push(GLUE[Math.floor(random() * GLUE.length)] as string)
      continue
    }
    const target = random() * total
    let low = 0
    let high = cumulative.length - 1
    while (low < high) {
      const middle = (low + high) >>> 1
      if ((cumulative[middle] as number) < target) low = middle + 1
      else high = middle
    }
    out.push(vocab[low] as string)
  }
  return out.join(' ') + '.'
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number
}

/** Query latency over a filled store; returns [p50, p99, max] in ms and the cold first-query time. */
async function latency(label: string, spaces: number, perSpace: number, random: () => number, queries = QUERIES): Promise<void> {
  const memory = createLocalMemory({ maxItems: perSpace, maxTotalItems: TOTAL })
  let started = performance.now()
  for (let space = 0; space < spaces; space++) {
    for (let at = 0; at < perSpace; at += 100) {
      await memory.upsert(
        `chat-${space}`,
        Array.from({ length: Math.min(100, perSpace - at) }, () => ({ text: sentence(random, 40 + Math.floor(random() * 30)) })),
      )
    }
  }
  const fillMs = performance.now() - started
  const cold: number[] = []
  for (let space = 0; space < spaces; space++) {
    started = performance.now()
    await memory.query(`chat-${space}`, sentence(random, 5))
    cold.push(performance.now() - started)
  }
  const times: number[] = []
  let found = 0
  for (let index = 0; index < queries; index++) {
    const text = sentence(random, 3 + Math.floor(random() * 6))
    started = performance.now()
    const items = await memory.query(`chat-${Math.floor(random() * spaces)}`, text, { k: 8 })
    times.push(performance.now() - started)
    found += items.length
  }
  times.sort((a, b) => a - b)
  cold.sort((a, b) => a - b)
  console.log(
    `  ${label.padEnd(34)} p50 ${percentile(times, 0.5).toFixed(2)} ms  p99 ${percentile(times, 0.99).toFixed(2)} ms  max ${times.at(-1)!.toFixed(2)} ms  ` +
      `(${memory.size} notes, ${(found / queries).toFixed(1)} hits/query, ${queries} queries; cold first query (index built in slices, loop free between) p50 ${percentile(cold, 0.5).toFixed(1)} ms, max ${cold.at(-1)!.toFixed(1)} ms; filled in ${(fillMs / 1000).toFixed(1)} s)`,
  )
}

async function reload(random: () => number): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'qg-memory-bench-'))
  try {
    const path = join(folder, 'memory.jsonl')
    const writer = createLocalMemory({ storage: createMemoryFile(path), maxTotalItems: TOTAL })
    for (let space = 0; space < 50; space++) {
      for (let at = 0; at < 2000; at += 100) await writer.upsert(`chat-${space}`, Array.from({ length: 100 }, () => ({ text: sentence(random, 40 + Math.floor(random() * 30)), role: random() < 0.5 ? 'user' : 'assistant' })))
    }
    await writer.close()
    const bytes = (await stat(path)).size
    const times: number[] = []
    for (let round = 0; round < 3; round++) {
      const started = performance.now()
      const reader = createLocalMemory({ storage: createMemoryFile(path), maxTotalItems: TOTAL })
      await reader.ready()
      times.push(performance.now() - started)
      if (reader.size !== TOTAL) throw new Error(`reloaded ${reader.size} notes, expected ${TOTAL}`)
      await reader.close()
    }
    times.sort((a, b) => a - b)
    console.log(`  reload ${TOTAL} notes from the log   ${(times[1] as number).toFixed(0)} ms (median of 3; ${(bytes / 1024 / 1024).toFixed(1)} MiB file; indexes built lazily per conversation)`)
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}

/** Facts stated once, and the question asking for each in other words. `{x}` is filled per conversation. */
const FACTS: Array<{ fact: string; question: string; values: string[] }> = [
  { fact: "My sister's name is {x}.", question: 'What is my sister called again?', values: ['Olga', 'Marta', 'Ines', 'Hanna', 'Lucia'] },
  { fact: 'I parked the car on level {x} of the garage.', question: 'Where did I leave the car?', values: ['2', '3', '4', '5', '6'] },
  { fact: 'The wifi password is {x}.', question: 'What was the password for the wifi?', values: ['bluefrog88', 'sunset42', 'x7k2m9', 'tulip-7', 'harbor99'] },
  { fact: 'My flight to {x} leaves at 7:40 from gate B12.', question: 'When does my plane depart?', values: ['Lisbon', 'Oslo', 'Kyoto', 'Denver', 'Cairo'] },
  { fact: 'I am allergic to {x}, so no dishes with it please.', question: 'Which food am I allergic to?', values: ['peanuts', 'shellfish', 'sesame', 'kiwi', 'gluten'] },
  { fact: 'Our wedding anniversary is on {x}.', question: 'When is our anniversary?', values: ['May 3', 'June 12', 'July 21', 'March 9', 'October 30'] },
  { fact: 'The meeting with the client was moved to {x}.', question: 'What day is the client meeting now?', values: ['Monday', 'Tuesday', 'Thursday', 'Friday', 'Wednesday'] },
  { fact: 'My doctor recommended {x} minutes of walking every day.', question: 'How long should I walk each day?', values: ['20', '30', '40', '45', '60'] },
  { fact: 'The invoice number for the printer order is {x}.', question: 'Which invoice number did the printer have?', values: ['INV-2231', 'INV-8812', 'INV-0453', 'INV-7710', 'INV-3390'] },
  { fact: "The dog's vet appointment is at {x} on Saturday.", question: 'At what time does the vet see our dog?', values: ['9:15', '10:30', '11:45', '14:00', '16:20'] },
]

/** Distractors: turns that share the facts' words without holding the answer. */
const DISTRACTORS = [
  'My sister loves hiking in the mountains.',
  'The car needs new tires before winter.',
  'Can you help me reset my email password?',
  'I watched a documentary about flights across the Atlantic.',
  'What food goes well with red wine?',
  'We are planning a wedding for my cousin next year.',
  'The client sent a long email about the contract.',
  'Walking the dog in the rain is no fun.',
  'The printer is out of paper again.',
  'Which day is best for a museum visit?',
  'How do I change the wifi channel on my router?',
  'My doctor is on holiday this month.',
]

/** Hashed character trigrams (256 dimensions): a deterministic stand-in for an embedding model, NOT a model. */
function trigramEmbedder(): Embedder {
  return {
    model: 'local-trigram-hash-256 (not a model)',
    async embed(texts) {
      return texts.map((text) => {
        const vector = new Array<number>(256).fill(0)
        for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
          const padded = ` ${word} `
          for (let index = 0; index + 3 <= padded.length; index++) {
            let hash = 2166136261
            for (let at = index; at < index + 3; at++) hash = Math.imul(hash ^ padded.charCodeAt(at), 16777619)
            vector[(hash >>> 0) % 256] = (vector[(hash >>> 0) % 256] as number) + 1
          }
        }
        return vector
      })
    },
  }
}

async function recall(random: () => number): Promise<void> {
  const conversations = 300
  const turns = 30
  const plain = createLocalMemory({ maxTotalItems: TOTAL })
  const hybrid = createLocalMemory({ maxTotalItems: TOTAL, embedder: trigramEmbedder() })
  const questions: Array<{ namespace: string; question: string; fact: string }> = []
  for (let index = 0; index < conversations; index++) {
    const namespace = `conv-${index}`
    const spec = FACTS[index % FACTS.length] as (typeof FACTS)[number]
    const fact = spec.fact.replace('{x}', spec.values[Math.floor(random() * spec.values.length)] as string)
    const factTurn = Math.floor(random() * (turns - 2))
    const notes: Array<{ text: string; role: string }> = []
    for (let turn = 0; turn < turns; turn++) {
      const user = turn === factTurn ? fact : random() < 0.25 ? (DISTRACTORS[Math.floor(random() * DISTRACTORS.length)] as string) : sentence(random, 8 + Math.floor(random() * 12))
      notes.push({ text: user, role: 'user' }, { text: `Sure. ${sentence(random, 25 + Math.floor(random() * 25))}`, role: 'assistant' })
    }
    await plain.upsert(namespace, notes)
    await hybrid.upsert(namespace, notes)
    questions.push({ namespace, question: spec.question, fact })
  }
  for (const [label, memory] of [['full text', plain], ['hybrid (trigram stand-in, not a model)', hybrid]] as const) {
    let hits = 0
    const perFact = new Map<string, number>()
    for (const [index, { namespace, question, fact }] of questions.entries()) {
      const items = await memory.query(namespace, question, { k: 8 })
      const hit = items.some((item) => item.text === fact)
      if (hit) hits++
      const key = (FACTS[index % FACTS.length] as (typeof FACTS)[number]).question
      perFact.set(key, (perFact.get(key) ?? 0) + (hit ? 1 : 0))
    }
    const misses = [...perFact.entries()].filter(([, count]) => count < conversations / FACTS.length).map(([question, count]) => `"${question}" ${count}/${conversations / FACTS.length}`)
    console.log(`  recall@8 ${label.padEnd(40)} ${((100 * hits) / questions.length).toFixed(1)} % (${hits}/${questions.length})${misses.length > 0 ? `; below 100 %: ${misses.join(', ')}` : ''}`)
  }
}

export async function run(): Promise<void> {
  console.log(`memory bench: embedded store (minisearch BM25 + recency boost), ${TOTAL} notes`)
  await latency('query, 50 conv. x 2000 notes', 50, 2000, seededRandom(1))
  await latency('query, 1 conv. x 100 000 notes', 1, TOTAL, seededRandom(2), 300)
  await reload(seededRandom(3))
  await recall(seededRandom(4))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
