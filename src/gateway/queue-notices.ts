/**
 * What a waiting streaming client sees: a notice of its position (in the thinking box by
 * default, so it never becomes part of the answer), a new one when the position changes, and
 * SSE comments that keep proxies from closing an idle connection.
 * @module
 */
import { encodeSseComment, encodeSseData } from '../openai/sse.js'
import type { ChatCompletionChunk } from '../openai/types.js'
import type { QueueNotifyMode } from './gateway-options.js'
import { systemClock } from './clock.js'
import type { Clock } from './clock.js'
import type { WaitingNotifier } from './event-stream.js'

/** Where a job stands in the queue. */
export interface QueuePosition {
  position: number
  queued: number
  etaMs: number | undefined
}

/** Options of {@link createQueueNotifier}. */
export interface QueueNotifierOptions {
  mode: QueueNotifyMode
  /** Template with `{position}`, `{queued}`, `{eta}`. */
  message: string
  /** Interval of keep-alive comments. */
  keepAliveMs: number
  /** How often the position is looked at; a notice goes out only when it changed. @default 1000 */
  checkEveryMs?: number | undefined
  /** Timers. @default the real clock */
  clock?: Pick<Clock, 'setInterval' | 'clearInterval'> | undefined
  /** The job's position now, or undefined once it left the queue. */
  position: () => QueuePosition | undefined
  /** `id`, `model` and `created` for notice chunks. */
  chunk: { id: string; model: string; created: number }
}

/**
 * Fills the notice template. With no estimate yet (no job has finished), the default
 * template's ", about {eta}s" clause is left out rather than shown as a question mark.
 */
export function formatQueueMessage(template: string, position: QueuePosition): string {
  let eta = '?'
  if (position.etaMs === undefined) template = template.replace(/,?\s*about \{eta\}\s*s\b/, '')
  else eta = String(Math.max(1, Math.round(position.etaMs / 1000)))
  return template.replaceAll('{position}', String(position.position)).replaceAll('{queued}', String(position.queued)).replaceAll('{eta}', eta)
}

/** Builds the notifier the event stream starts once a job has waited `notifyAfterMs`. */
export function createQueueNotifier(options: QueueNotifierOptions): WaitingNotifier {
  const { mode, message, keepAliveMs, checkEveryMs = 1000, clock = systemClock, position, chunk } = options
  let first = true
  const notice = (text: string): Uint8Array => {
    if (mode === 'comment') return encodeSseComment(text)
    const delta: ChatCompletionChunk['choices'][number]['delta'] = first ? { role: 'assistant' } : {}
    first = false
    if (mode === 'content') delta.content = `${text}\n`
    else delta.reasoning_content = `${text}\n`
    const body: ChatCompletionChunk = {
      id: chunk.id,
      object: 'chat.completion.chunk',
      created: chunk.created,
      model: chunk.model,
      choices: [{ index: 0, delta, finish_reason: null }],
    }
    return encodeSseData(JSON.stringify(body))
  }
  return {
    start(emit) {
      let last: string | undefined
      // Something goes out at once, so the client (and any proxy) sees the response start.
      if (mode === 'never') emit(encodeSseComment('queued'))
      const check = (): void => {
        if (mode === 'never') return
        const now = position()
        if (now === undefined) return
        // A new notice when the position changes, or when an estimate first becomes available.
        const key = now.etaMs === undefined ? String(now.position) : `${now.position}~`
        if (key === last) return
        last = key
        emit(notice(formatQueueMessage(message, now)))
      }
      check()
      const checker = clock.setInterval(check, checkEveryMs)
      const keepAlive = clock.setInterval(() => emit(encodeSseComment('queued')), keepAliveMs)
      return () => {
        clock.clearInterval(checker)
        clock.clearInterval(keepAlive)
      }
    },
  }
}
