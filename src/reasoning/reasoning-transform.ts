/**
 * The reasoning split over chat answers: `<think>` blocks in content moved to `reasoning_content`
 * (`split`) or dropped (`strip`), and the upstream's own reasoning fields (`reasoning_content`,
 * `reasoning`, `thinking`) forwarded as `reasoning_content` or dropped. One incremental transform
 * for streamed chunks, one function for a whole `chat.completion`.
 * @module
 */
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionChunkChoice, ChatCompletionDelta, ChatCompletionMessage } from '../openai/types.js'
import { createThinkSplitter, DEFAULT_START_WINDOW } from './think-splitter.js'
import type { ThinkSplit, ThinkSplitter } from './think-splitter.js'
import type { ReasoningResume } from './reasoning-trigger.js'

/** What happens to `<think>` blocks in content: moved to `reasoning_content`, removed, or left in content. */
export type ReasoningMode = 'split' | 'strip' | 'keep'

/** The fields upstreams put reasoning in, in the order one is chosen when several carry it. */
export const UPSTREAM_REASONING_FIELDS = ['reasoning_content', 'reasoning', 'thinking'] as const

/** Options of the reasoning transform. */
export interface ReasoningOptions {
  /** @default 'split' */
  mode?: ReasoningMode | undefined
  /**
   * Forward the upstream's reasoning fields to the client as `reasoning_content`; when false
   * they are dropped. Either way they never reach `content`. @default true
   */
  forwardReasoning?: boolean | undefined
  /**
   * The start window of a streamed reply (see `ThinkSplitterOptions.startWindow`): how many
   * characters at its start are held while a `</think>` with no `<think>` before it could still
   * make them reasoning. A whole completion always uses the whole text. @default 0 (off: no hold)
   */
  startWindow?: number | undefined
  /**
   * Replies start inside a block the prompt opened (see `ThinkSplitterOptions.startInside`):
   * content is reasoning until a close tag. Not for a choice whose upstream sent its own
   * reasoning field before any content (it splits itself). @default false
   */
  startInside?: boolean | undefined
  /** A reply held a close tag with no open tag before it (see `ThinkSplitterOptions.onOrphanClose`). */
  onOrphanClose?: (() => void) | undefined
  /** A reply that started inside (`startInside`) finished, not cut by its length limit, with no close tag: all of it went to reasoning. */
  onUnclosed?: (() => void) | undefined
}

/** Options of {@link createReasoningChunkTransform}. */
export interface ReasoningChunkTransformOptions extends ReasoningOptions {
  /** Receives every outgoing chunk, in order. */
  onChunk: (chunk: ChatCompletionChunk) => void
  /**
   * Start as a transform that passed earlier chunks unchanged would stand (one started late by
   * its trigger, see `reasoning-trigger.ts`): choices whose reply is under way, choices finished.
   * @default a fresh start
   */
  resume?: ReasoningResume | undefined
}

/** An incremental transform of chunks (`feed` each, `flush` at the end). */
export interface ReasoningChunkTransform {
  feed(chunk: ChatCompletionChunk): void
  /** The stream ended: releases what is held for choices that did not finish. */
  flush(): void
}

interface ChoiceState {
  splitter: ThinkSplitter | undefined
  /** Upstream reasoning text came before any content: the upstream splits itself, so no start window. */
  sawReasoning: boolean
  finished: boolean
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function isReasoningField(key: string): boolean {
  return key === 'reasoning_content' || key === 'reasoning' || key === 'thinking'
}

/** The first non-empty reasoning text of a delta or message ('' when none). */
function upstreamReasoning(record: Record<string, unknown>): string {
  for (const field of UPSTREAM_REASONING_FIELDS) {
    const value = record[field]
    if (typeof value === 'string' && value !== '') return value
  }
  return ''
}

/** True when the record carries a field this transform renames or drops. */
function hasFieldToRewrite(record: Record<string, unknown>, forwardReasoning: boolean): boolean {
  return record.reasoning !== undefined || record.thinking !== undefined || (!forwardReasoning && record.reasoning_content !== undefined)
}

function resolve(options: ReasoningOptions): { mode: ReasoningMode; forwardReasoning: boolean; startWindow: number; startInside: boolean } {
  const { mode = 'split', forwardReasoning = true, startWindow = DEFAULT_START_WINDOW, startInside = false } = options
  if (mode !== 'split' && mode !== 'strip' && mode !== 'keep') throw new TypeError(`reasoning: expected "split", "strip" or "keep", got ${JSON.stringify(mode)}`)
  if (typeof forwardReasoning !== 'boolean') throw new TypeError(`forwardReasoning: expected true or false, got ${JSON.stringify(forwardReasoning)}`)
  if (typeof startInside !== 'boolean') throw new TypeError(`startInside: expected true or false, got ${JSON.stringify(startInside)}`)
  return { mode, forwardReasoning, startWindow, startInside }
}

/**
 * Creates the stream transform. It never changes a chunk it receives: a chunk with nothing to
 * change is passed on as the same object; others are emitted as new objects, and a chunk whose
 * only text is all held back is not emitted at all.
 * @example
 * const transform = createReasoningChunkTransform({ mode: 'split', onChunk: (chunk) => out.push(chunk) })
 * for (const chunk of upstreamChunks) transform.feed(chunk)
 * transform.flush()
 */
export function createReasoningChunkTransform(options: ReasoningChunkTransformOptions): ReasoningChunkTransform {
  const { onChunk, resume, onOrphanClose, onUnclosed } = options
  const { mode, forwardReasoning, startWindow, startInside } = resolve(options)
  const splits = mode !== 'keep'
  const choices = new Map<number, ChoiceState>()
  let template: ChatCompletionChunk | undefined

  function stateOf(index: number): ChoiceState {
    let state = choices.get(index)
    if (state === undefined) {
      const midway = resume !== undefined && resume.underway.includes(index)
      state = { splitter: midway ? createThinkSplitter({ midway, onOrphanClose }) : undefined, sawReasoning: false, finished: resume !== undefined && resume.finished.includes(index) }
      choices.set(index, state)
    }
    return state
  }

  /** A reply that started inside ended with no close tag (told once per choice). */
  function unclosed(state: ChoiceState): void {
    if (state.splitter !== undefined && !state.sawReasoning && !state.splitter.closed) onUnclosed?.()
  }

  /** The new delta: the other fields as they were, then content and reasoning_content as decided. */
  function buildDelta(delta: ChatCompletionDelta, content: string | null | undefined, reasoning: string): ChatCompletionDelta {
    const next: ChatCompletionDelta = {}
    for (const key in delta) if (key !== 'content' && !isReasoningField(key)) next[key] = delta[key]
    if (content !== undefined && content !== '') next.content = content
    else if (content === undefined && delta.content !== undefined && delta.content !== '') next.content = delta.content
    if (reasoning !== '') next.reasoning_content = reasoning
    return next
  }

  /** One choice: the same object when unchanged, a new one, or undefined when nothing is left to send. */
  function transformChoice(choice: ChatCompletionChunkChoice): ChatCompletionChunkChoice | undefined {
    const delta: unknown = choice.delta
    if (!isRecord(delta)) return choice
    const content = delta.content
    const hasContent = splits && typeof content === 'string' && content !== ''
    const finishing = choice.finish_reason !== null && choice.finish_reason !== undefined
    const rewrite = hasFieldToRewrite(delta, forwardReasoning)
    if (!hasContent && !rewrite && !finishing) {
      // Reasoning in its own field before any content: the upstream splits itself (no start window).
      if (splits && typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') {
        const seen = stateOf(choice.index)
        if (seen.splitter === undefined) seen.sawReasoning = true
      }
      return choice
    }
    const own = stateOf(choice.index)
    const upstream = upstreamReasoning(delta)
    if (upstream !== '' && own.splitter === undefined) own.sawReasoning = true
    let released: ThinkSplit | undefined
    if (hasContent) {
      own.splitter ??= own.sawReasoning ? createThinkSplitter({ startWindow: 0, onOrphanClose }) : createThinkSplitter({ startWindow, startInside, onOrphanClose })
      released = own.splitter.feed(content)
    }
    if (finishing && !own.finished) {
      own.finished = true
      if (startInside && choice.finish_reason !== 'length') unclosed(own)
      const rest = own.splitter?.flush()
      if (rest !== undefined && (rest.content !== '' || rest.reasoning !== '')) {
        released = released === undefined ? rest : { content: released.content + rest.content, reasoning: released.reasoning + rest.reasoning }
      }
    }
    if (!rewrite && (released === undefined || (released.reasoning === '' && released.content === content))) return choice
    const reasoning = (forwardReasoning ? upstream : '') + (mode === 'split' && released !== undefined ? released.reasoning : '')
    const next = buildDelta(delta, released === undefined ? undefined : released.content, reasoning)
    if (Object.keys(next).length === 0 && !finishing && (choice.logprobs === undefined || choice.logprobs === null)) return undefined
    return { ...choice, delta: next }
  }

  return {
    feed(chunk) {
      const list = chunk.choices
      if (!Array.isArray(list) || list.length === 0) {
        onChunk(chunk)
        return
      }
      template = chunk
      let changed = false
      let out: ChatCompletionChunkChoice[] | undefined
      for (let position = 0; position < list.length; position++) {
        const choice = list[position] as ChatCompletionChunkChoice
        const next = transformChoice(choice)
        if (next === choice && !changed) continue
        if (!changed) {
          changed = true
          out = list.slice(0, position)
        }
        if (next !== undefined) out!.push(next)
      }
      if (!changed) {
        onChunk(chunk)
        return
      }
      if (out!.length === 0 && (chunk.usage === undefined || chunk.usage === null)) return
      onChunk({ ...chunk, choices: out! })
    },
    flush() {
      if (template === undefined) return
      const { choices: _choices, usage: _usage, ...base } = template
      void _choices
      void _usage
      for (const [index, state] of choices) {
        if (state.finished || state.splitter === undefined) continue
        state.finished = true
        if (startInside) unclosed(state)
        const rest = state.splitter.flush()
        const reasoning = mode === 'split' ? rest.reasoning : ''
        if (rest.content === '' && reasoning === '') continue
        const delta: ChatCompletionDelta = {}
        if (rest.content !== '') delta.content = rest.content
        if (reasoning !== '') delta.reasoning_content = reasoning
        onChunk({ ...base, choices: [{ index, delta, finish_reason: null }] } as ChatCompletionChunk)
      }
    },
  }
}

/**
 * The same over a whole completion: each message's `<think>` blocks (the whole text is known, so
 * no start window applies) and its reasoning fields. Returns the same object when nothing changed.
 */
export function splitReasoningInCompletion(completion: ChatCompletion, options: ReasoningOptions = {}): ChatCompletion {
  const resolved = resolve(options)
  if (!Array.isArray(completion.choices)) return completion
  let changed = false
  const choices = completion.choices.map((choice) => {
    const message = isRecord(choice.message) ? splitMessage(choice.message, resolved, options, choice.finish_reason) : choice.message
    if (message === choice.message) return choice
    changed = true
    return { ...choice, message }
  })
  return changed ? { ...completion, choices } : completion
}

function splitMessage(message: ChatCompletionMessage, resolved: ReturnType<typeof resolve>, options: ReasoningOptions, finishReason: unknown): ChatCompletionMessage {
  const { mode, forwardReasoning } = resolved
  const content = message.content
  const splits = mode !== 'keep' && typeof content === 'string' && content !== ''
  const rewrite = hasFieldToRewrite(message, forwardReasoning)
  if (!splits && !rewrite) return message
  const upstream = upstreamReasoning(message)
  let released: ThinkSplit | undefined
  if (splits) {
    // Reasoning in its own field: the upstream splits itself, and content does not start inside a block.
    const own = upstream !== ''
    const startInside = resolved.startInside && !own
    const splitter = createThinkSplitter({ startWindow: own ? 0 : Number.POSITIVE_INFINITY, startInside, onOrphanClose: options.onOrphanClose })
    const first = splitter.feed(content)
    const rest = splitter.flush()
    if (startInside && !splitter.closed && finishReason !== 'length') options.onUnclosed?.()
    released = { content: first.content + rest.content, reasoning: first.reasoning + rest.reasoning }
    if (!rewrite && released.reasoning === '' && released.content === content) return message
  }
  const next: ChatCompletionMessage = { role: message.role, content: message.content }
  for (const key in message) if (key !== 'content' && !isReasoningField(key)) next[key] = message[key]
  if (released !== undefined) next.content = released.content
  const reasoning = (forwardReasoning ? upstream : '') + (mode === 'split' && released !== undefined ? released.reasoning : '')
  if (reasoning !== '') next.reasoning_content = reasoning
  return next
}
