/**
 * The token figures of an answer, for logs and metrics: the upstream's own `usage` (llama.cpp
 * sends it in its last chunk, vLLM with `stream_options.include_usage`, every server in a whole
 * answer) and the prompt tokens its cache served, else the chunks counted; and llama.cpp's prefill
 * rate (`timings.prompt_per_second`), for cache-aware routing. Read once, at the
 * end of an answer: from the last event's text (no JSON parse: a few patterns over it), from
 * the parsed chunk on the chunk path, or from the tail of a whole answer's bytes.
 * @module
 */
import type { ChatCompletionChunk } from '../openai/types.js'
import { isJsonObject } from '../openai/parse-json.js'

/** What {@link answerUsage} found. */
export interface AnswerUsage {
  /** Tokens generated: `usage.completion_tokens`, else llama.cpp's `timings.predicted_n` (both `tokensFrom: 'usage'`, the upstream's own count), else the data events counted. */
  tokens: number | undefined
  tokensFrom: 'usage' | 'chunks' | undefined
  promptTokens: number | undefined
  /** Prompt tokens served from the cache: llama.cpp `timings.cache_n`, else `usage.prompt_tokens_details.cached_tokens`. */
  cachedTokens: number | undefined
  /**
   * The upstream's own prefill rate on this answer, prompt tokens per second: llama.cpp `timings.prompt_per_second`
   * (the prompt tokens it processed, `timings.prompt_n`, over the time it took, `timings.prompt_ms`).
   */
  promptPerSecond: number | undefined
  /** Prompt tokens the upstream processed (not served from its cache): llama.cpp `timings.prompt_n`. */
  prefilledTokens: number | undefined
}

/** A whole answer's `usage` sits at its end; this much of the tail is read. */
const TAIL_BYTES = 4096

// A key matched with its opening quote not escaped: inside a JSON string a quote is `\"`, so
// text the model wrote cannot match (`\"completion_tokens\":` has a backslash where the closing quote must be).
const COMPLETION_TOKENS = /"completion_tokens"\s*:\s*(\d+)/
const PROMPT_TOKENS = /"prompt_tokens"\s*:\s*(\d+)/
const CACHE_N = /"cache_n"\s*:\s*(\d+)/
const CACHED_TOKENS = /"cached_tokens"\s*:\s*(\d+)/
const PROMPT_N = /"prompt_n"\s*:\s*(\d+)/
const PREDICTED_N = /"predicted_n"\s*:\s*(\d+)/
// A rate is a JSON number (llama.cpp writes `null` for one it could not compute: a prompt processed in 0 ms).
const PROMPT_PER_SECOND = /"prompt_per_second"\s*:\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/

const decoder = new TextDecoder()

/**
 * The figures of a streamed answer: `last` is its last event (text or parsed chunk), `events`
 * the data events counted (the fallback for `tokens` when the upstream sent no usage).
 */
export function answerUsage(last: string | ChatCompletionChunk | undefined, events: number): AnswerUsage {
  const found = last === undefined ? undefined : typeof last === 'string' ? fromText(last) : fromChunk(last)
  if (found !== undefined && found.tokens !== undefined) return found
  return { tokens: events > 0 ? events : undefined, tokensFrom: events > 0 ? 'chunks' : undefined, promptTokens: found?.promptTokens, cachedTokens: found?.cachedTokens, promptPerSecond: found?.promptPerSecond, prefilledTokens: found?.prefilledTokens }
}

/** The figures of a whole (non-streamed) answer, from the tail of its bytes. */
export function wholeAnswerUsage(bytes: Uint8Array): AnswerUsage {
  const tail = bytes.byteLength > TAIL_BYTES ? bytes.subarray(bytes.byteLength - TAIL_BYTES) : bytes
  return fromText(decoder.decode(tail)) ?? { tokens: undefined, tokensFrom: undefined, promptTokens: undefined, cachedTokens: undefined, promptPerSecond: undefined, prefilledTokens: undefined }
}

function fromText(text: string): AnswerUsage | undefined {
  const at = text.lastIndexOf('"usage"')
  const timings = text.lastIndexOf('"timings"')
  if (at === -1 && timings === -1) return undefined
  const usage = at === -1 ? '' : text.slice(at)
  const timed = timings === -1 ? '' : text.slice(timings)
  // llama.cpp's own count when it sent no usage (streams without stream_options.include_usage).
  const tokens = number(COMPLETION_TOKENS.exec(usage)) ?? number(PREDICTED_N.exec(timed))
  const cached = number(CACHE_N.exec(timed))
  return {
    tokens,
    tokensFrom: tokens === undefined ? undefined : 'usage',
    promptTokens: number(PROMPT_TOKENS.exec(usage)),
    cachedTokens: cached ?? number(CACHED_TOKENS.exec(usage)),
    promptPerSecond: rate(number(PROMPT_PER_SECOND.exec(timed))),
    prefilledTokens: number(PROMPT_N.exec(timed)),
  }
}

function fromChunk(chunk: ChatCompletionChunk): AnswerUsage | undefined {
  const record = chunk as Record<string, unknown>
  const usage = isJsonObject(record.usage) ? record.usage : undefined
  const timings = isJsonObject(record.timings) ? record.timings : undefined
  if (usage === undefined && timings === undefined) return undefined
  const tokens = count(usage?.completion_tokens) ?? count(timings?.predicted_n)
  const details = isJsonObject(usage?.prompt_tokens_details) ? usage.prompt_tokens_details : undefined
  return {
    tokens,
    tokensFrom: tokens === undefined ? undefined : 'usage',
    promptTokens: count(usage?.prompt_tokens),
    cachedTokens: count(timings?.cache_n) ?? count(details?.cached_tokens),
    promptPerSecond: rate(timings?.prompt_per_second),
    prefilledTokens: count(timings?.prompt_n),
  }
}

function number(match: RegExpExecArray | null): number | undefined {
  return match === null ? undefined : Number(match[1])
}

/** A rate worth using: finite and > 0. */
function rate(value: unknown): number | undefined {
  return typeof value === 'number' && value > 0 && Number.isFinite(value) ? value : undefined
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined
}
