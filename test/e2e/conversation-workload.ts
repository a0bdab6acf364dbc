/**
 * A multi-conversation chat workload for cache-aware routing (issue 15): conversations behind a few shared system
 * prompts, several turns each, streamed through a gateway by the official `openai` client. Per turn: the time to
 * first token the client saw, and the prompt tokens the upstream prefilled and served from its cache (llama.cpp's
 * `timings` in the last chunk, which the simulated upstream sends too). Used by the cache-aware routing e2e test
 * and by `bench/cache-routing.ts`. Bounded: `conversations × turns` requests, each with the client's timeout.
 * @module
 */
import type OpenAI from 'openai'

/** Options of {@link runConversations}. */
export interface WorkloadOptions {
  client: OpenAI
  model: string
  conversations: number
  turns: number
  /** Conversation i opens with `systemPrompts[i % length]`. */
  systemPrompts: readonly string[]
  /** Characters of each user message. @default 400 */
  userChars?: number | undefined
  /** Conversations running at once (each runs its turns one after another). @default all of them */
  concurrency?: number | undefined
  /**
   * Every conversation's first turn, one after another in order, before the rest run concurrently: each new
   * conversation then finds what the ones before it left (where its system prompt is cached). @default false
   */
  staggerFirstTurns?: boolean | undefined
}

/** One turn as the client saw it. */
export interface TurnResult {
  conversation: number
  turn: number
  /** Request sent to the first content token received, ms. */
  ttftMs: number
  /** Prompt tokens of the turn (`timings.prompt_n + cache_n`), when the upstream reported them. */
  promptTokens: number | undefined
  /** Prompt tokens its cache served (`timings.cache_n`). */
  cachedTokens: number | undefined
}

/** Figures of a run. */
export interface WorkloadSummary {
  turns: number
  meanTtftMs: number
  p50TtftMs: number
  p95TtftMs: number
  /** Prompt tokens served from cache / prompt tokens. */
  cachedShare: number
}

type Message = { role: 'system' | 'user' | 'assistant'; content: string }
type Timings = { prompt_n?: number; cache_n?: number }

/** Runs the workload; the results in the order the turns ended. */
export async function runConversations(options: WorkloadOptions): Promise<TurnResult[]> {
  const { conversations, turns, staggerFirstTurns = false } = options
  const concurrency = Math.max(1, Math.min(options.concurrency ?? conversations, conversations))
  const histories: Message[][] = Array.from({ length: conversations }, (_, index) => [{ role: 'system', content: options.systemPrompts[index % options.systemPrompts.length] as string }])
  const results: TurnResult[] = []
  let firstTurn = 0
  if (staggerFirstTurns) {
    for (let conversation = 0; conversation < conversations; conversation++) results.push(await runTurn(options, histories[conversation] as Message[], conversation, 0))
    firstTurn = 1
  }
  let next = 0
  const worker = async (): Promise<void> => {
    for (let conversation = next++; conversation < conversations; conversation = next++) {
      for (let turn = firstTurn; turn < turns; turn++) results.push(await runTurn(options, histories[conversation] as Message[], conversation, turn))
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return results
}

/** Mean, median and 95th percentile of the time to first token, and the share of prompt tokens served from cache. */
export function summarize(results: readonly TurnResult[]): WorkloadSummary {
  const ttfts = results.map((result) => result.ttftMs).sort((a, b) => a - b)
  const at = (q: number) => ttfts[Math.min(ttfts.length - 1, Math.floor(q * ttfts.length))] ?? 0
  let prompt = 0
  let cached = 0
  for (const result of results) {
    prompt += result.promptTokens ?? 0
    cached += result.cachedTokens ?? 0
  }
  return { turns: results.length, meanTtftMs: ttfts.reduce((sum, value) => sum + value, 0) / Math.max(1, ttfts.length), p50TtftMs: at(0.5), p95TtftMs: at(0.95), cachedShare: prompt === 0 ? 0 : cached / prompt }
}

/** One streamed turn: the user's message, the answer appended to the history. */
async function runTurn(options: WorkloadOptions, history: Message[], conversation: number, turn: number): Promise<TurnResult> {
  const userChars = options.userChars ?? 400
  const opening = `Conversation ${conversation}, turn ${turn}: `
  history.push({ role: 'user', content: opening + 'tell me more about the queue and its slots. '.repeat(Math.ceil(userChars / 44)).slice(0, Math.max(0, userChars - opening.length)) })
  const sent = performance.now()
  const stream = await options.client.chat.completions.create({ model: options.model, stream: true, messages: history }, { headers: { 'X-Chat-Id': `conversation-${conversation}` } })
  let ttftMs: number | undefined
  let content = ''
  let timings: Timings | undefined
  for await (const chunk of stream) {
    const piece = chunk.choices[0]?.delta?.content
    if (typeof piece === 'string' && piece !== '') {
      ttftMs ??= performance.now() - sent
      content += piece
    }
    const reported = (chunk as { timings?: Timings }).timings
    if (reported !== undefined) timings = reported
  }
  history.push({ role: 'assistant', content })
  const promptTokens = timings?.prompt_n === undefined ? undefined : timings.prompt_n + (timings.cache_n ?? 0)
  return { conversation, turn, ttftMs: ttftMs ?? performance.now() - sent, promptTokens, cachedTokens: timings?.cache_n }
}
