/**
 * `createToolCallParser()`: the pure, incremental tool-call detector over chat-completion chunks.
 * Feed upstream chunks, get chunks back through `onChunk`: visible text at once, a held tail only
 * while it could still be a call, recovered calls as OpenAI `tool_calls` deltas.
 * @module
 */
import { InvalidRequestError } from '../errors.js'
import type { ChatCompletionChunk, ChatCompletionChunkChoice, ChatCompletionDelta, ToolCallDelta } from '../openai/types.js'
import { createDeclaredTools, type ToolSpec } from './declared-tools.js'
import { toolCallFormats } from './formats/index.js'
import type { ToolCallFormat } from './formats/types.js'
import {
  createMarkerIndex,
  createToolCallScanner,
  type MalformedToolCall,
  type MarkerIndex,
  type PlacedMalformedCall,
  type RecognisedCall,
  type ToolCallScanner,
} from './tool-call-scanner.js'

export type { MalformedToolCall } from './tool-call-scanner.js'

/** The reasoning fields read for detection, besides `content`. */
export const REASONING_FIELDS = ['reasoning_content', 'reasoning', 'thinking'] as const

/** What happens to tool calls (native and recovered). */
export type ToolCallMode = 'passthrough' | 'suppress'

/** Options shared by the parser, the stream and `parseToolCalls`. */
export interface ToolCallDetectionOptions {
  /**
   * The tools the request declared: OpenAI tool definitions or names. Only these names become
   * calls. None → no text detection at all (chunks pass through untouched).
   * @default []
   */
  tools?: readonly ToolSpec[] | undefined
  /**
   * Formats to try, by id (see `toolCallFormats`) or as format objects, in priority order.
   * @default every built-in format
   * @example formats: ['hermes', 'qwen3_coder_xml']
   */
  formats?: readonly (string | ToolCallFormat)[] | undefined
  /**
   * `passthrough`: native and recovered calls go to the client as `tool_calls`. `suppress`: calls
   * are dropped (recovered call text removed too), the text around them is delivered and a
   * `tool_calls` finish reason becomes `stop`.
   * @default 'passthrough'
   */
  mode?: ToolCallMode | undefined
  /** Longest text one call may span; a longer one is given up and released as text. @default 1048576 */
  maxCallChars?: number | undefined
  /** Most text held back per channel at any time. @default 2097152 */
  maxHeldChars?: number | undefined
  /** Id of a recovered call (and of a native call that came without one). @default `call_` + 24 random chars */
  generateId?: (() => string) | undefined
  /** Told of each call recovered from text and passed on (not in `suppress` mode), with the format that recognised it (metrics, logs). */
  onRecovered?: ((call: { name: string; format: string }) => void) | undefined
  /**
   * Called, in stream order, for each call inside a recognised call section that cannot be turned
   * into a call: a broken call beside good ones, arguments that cannot be repaired, the cut-off part
   * of a section that ended after complete calls (when it had a name). The section's text is removed
   * either way; without this option broken calls are dropped silently. Called in every mode. In the
   * stream it runs between the chunks around the broken call (after the chunk of the calls before it).
   * @example onMalformedCall: (call) => errors.push({ name: call.name, reason: call.reason })
   */
  onMalformedCall?: ((call: MalformedToolCall) => void) | undefined
}

/** Options of `createToolCallParser`. */
export interface ToolCallParserOptions extends ToolCallDetectionOptions {
  /** Receives every outgoing chunk, in order. */
  onChunk: (chunk: ChatCompletionChunk) => void
}

/** The incremental parser. */
export interface ToolCallParser {
  /** Processes one upstream chunk. */
  feed(chunk: ChatCompletionChunk): void
  /** Ends the stream: decides everything held, emits the rest (and a finish chunk for calls). */
  flush(): void
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** The default id generator: `call_` + 24 random alphanumerics. */
export function generateCallId(): string {
  const bytes = new Uint8Array(24)
  crypto.getRandomValues(bytes)
  let id = 'call_'
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length]
  return id
}

/** Resolved, validated detection settings shared by every channel of one request. */
export interface DetectionSetup {
  index: MarkerIndex | undefined
  mode: ToolCallMode
  maxCallChars: number
  maxHeldChars: number
  generateId: () => string
  onRecovered: ((call: { name: string; format: string }) => void) | undefined
  onMalformedCall: ((call: MalformedToolCall) => void) | undefined
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidRequestError(`${name}: expected a positive integer, got ${JSON.stringify(value)}`, { param: name, code: 'invalid_option' })
  return value
}

/** Validates options and builds the opener index (`index` undefined when detection is off). */
export function createDetectionSetup(options: ToolCallDetectionOptions): DetectionSetup {
  const { tools = [], formats, mode = 'passthrough', maxCallChars = 1_048_576, maxHeldChars = 2_097_152, generateId = generateCallId, onMalformedCall } = options
  if (mode !== 'passthrough' && mode !== 'suppress') throw new InvalidRequestError(`mode: expected "passthrough" or "suppress", got ${JSON.stringify(mode)}`, { param: 'mode', code: 'invalid_option' })
  if (onMalformedCall !== undefined && typeof onMalformedCall !== 'function') throw new InvalidRequestError('onMalformedCall: expected a function', { param: 'onMalformedCall', code: 'invalid_option' })
  if (!Array.isArray(tools)) throw new InvalidRequestError(`tools: expected an array, got ${JSON.stringify(tools)}`, { param: 'tools', code: 'invalid_option' })
  const chosen: ToolCallFormat[] = []
  for (const format of formats ?? toolCallFormats) {
    if (typeof format !== 'string') {
      chosen.push(format)
      continue
    }
    const found = toolCallFormats.find((candidate) => candidate.id === format)
    if (found === undefined) throw new InvalidRequestError(`formats: unknown format ${JSON.stringify(format)}`, { param: 'formats', code: 'invalid_option' })
    chosen.push(found)
  }
  const declared = createDeclaredTools(tools)
  return {
    index: declared.names.length > 0 && chosen.length > 0 ? createMarkerIndex(chosen, declared) : undefined,
    mode,
    maxCallChars: positiveInteger('maxCallChars', maxCallChars),
    maxHeldChars: positiveInteger('maxHeldChars', maxHeldChars),
    generateId,
    onRecovered: options.onRecovered,
    onMalformedCall,
  }
}

/** A chunk without its choices: the envelope copied onto every chunk we emit. */
interface ChunkBase {
  id: string
  object: 'chat.completion.chunk'
  created: number
  model: string
  [key: string]: unknown
}

type OutEvent = { kind: 'text'; field: string; text: string } | { kind: 'calls'; deltas: ToolCallDelta[][] } | { kind: 'malformed'; call: MalformedToolCall }

interface NativeCall {
  id: string | undefined
  name: string | undefined
  buffered: string
  outIndex: number
  argumentChars: number
}

interface ChoiceState {
  index: number
  content: ToolCallScanner | undefined
  reasoning: Map<string, ToolCallScanner>
  events: OutEvent[]
  nextCallIndex: number
  callCount: number
  native: NativeCall[]
  nativeByIndex: Map<number, NativeCall>
  nativeById: Map<string, NativeCall>
  finished: boolean
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function hasNonSpace(text: string): boolean {
  return /\S/.test(text)
}

/**
 * Creates the incremental tool-call parser (pure: no timers, no I/O; output through `onChunk`).
 * @example
 * const parser = createToolCallParser({ tools: request.tools, onChunk: (chunk) => out.push(chunk) })
 * for (const chunk of upstreamChunks) parser.feed(chunk)
 * parser.flush()
 */
export function createToolCallParser(options: ToolCallParserOptions): ToolCallParser {
  const { onChunk } = options
  const setup = createDetectionSetup(options)
  const { index, mode } = setup
  if (index === undefined && mode === 'passthrough') {
    return { feed: (chunk) => onChunk(chunk), flush: () => {} }
  }
  const choices = new Map<number, ChoiceState>()
  let template: ChunkBase | undefined

  function choiceState(choiceIndex: number): ChoiceState {
    let state = choices.get(choiceIndex)
    if (state !== undefined) return state
    const created: ChoiceState = {
      index: choiceIndex,
      content: undefined,
      reasoning: new Map(),
      events: [],
      nextCallIndex: 0,
      callCount: 0,
      native: [],
      nativeByIndex: new Map(),
      nativeById: new Map(),
      finished: false,
    }
    if (index !== undefined) {
      created.content = createToolCallScanner({
        index,
        maxCallChars: setup.maxCallChars,
        maxHeldChars: setup.maxHeldChars,
        onText: (text) => {
          // Fast path: plain content goes straight to the chunk being built (no event objects).
          if (direct !== undefined) direct.text = direct.text === '' ? text : direct.text + text
          else pushText(created, 'content', text)
          if (created.reasoning.size > 0 && hasNonSpace(text)) for (const scanner of created.reasoning.values()) scanner.contentFollows()
        },
        onCalls: (calls, malformed) => {
          if (direct !== undefined && direct.text !== '') {
            pushText(created, 'content', direct.text)
            direct.text = ''
          }
          pushCalls(created, calls, malformed)
          for (const scanner of created.reasoning.values()) scanner.contentFollows()
        },
      })
    }
    choices.set(choiceIndex, created)
    return created
  }

  function reasoningScanner(state: ChoiceState, field: string): ToolCallScanner | undefined {
    if (index === undefined) return undefined
    let scanner = state.reasoning.get(field)
    if (scanner === undefined) {
      scanner = createToolCallScanner({
        index,
        deferCalls: true,
        maxCallChars: setup.maxCallChars,
        maxHeldChars: setup.maxHeldChars,
        onText: (text) => pushText(state, field, text),
        onCalls: (calls, malformed) => pushCalls(state, calls, malformed),
      })
      state.reasoning.set(field, scanner)
    }
    return scanner
  }

  function pushText(state: ChoiceState, field: string, text: string): void {
    const last = state.events[state.events.length - 1]
    if (last !== undefined && last.kind === 'text' && last.field === field) last.text += text
    else state.events.push({ kind: 'text', field, text })
  }

  function pushCalls(state: ChoiceState, calls: RecognisedCall[], malformed: readonly PlacedMalformedCall[] | undefined): void {
    // Broken calls are events of their own, between the calls around them (stream order).
    const report = malformed !== undefined && setup.onMalformedCall !== undefined ? malformed : undefined
    let next = 0
    const reportUpTo = (at: number): void => {
      while (report !== undefined && next < report.length && report[next]!.at <= at) state.events.push({ kind: 'malformed', call: report[next++]!.call })
    }
    if (mode === 'suppress' || calls.length === 0) {
      reportUpTo(Number.POSITIVE_INFINITY)
      return
    }
    let deltas: ToolCallDelta[][] = []
    calls.forEach((call, position) => {
      if (report !== undefined && next < report.length && report[next]!.at <= position) {
        if (deltas.length > 0) state.events.push({ kind: 'calls', deltas })
        deltas = []
        reportUpTo(position)
      }
      setup.onRecovered?.(call)
      const callIndex = state.nextCallIndex++
      state.callCount++
      deltas.push([{ index: callIndex, id: setup.generateId(), type: 'function', function: { name: call.name, arguments: '' } }])
      deltas.push([{ index: callIndex, function: { arguments: call.arguments } }])
    })
    if (deltas.length > 0) state.events.push({ kind: 'calls', deltas })
    reportUpTo(Number.POSITIVE_INFINITY)
  }

  function nativeFragments(state: ChoiceState, fragments: unknown[]): void {
    if (mode === 'suppress') return
    const deltas: ToolCallDelta[][] = []
    fragments.forEach((fragment, position) => {
      if (!isRecord(fragment)) return
      const fragmentIndex = typeof fragment.index === 'number' ? fragment.index : position
      const id = typeof fragment.id === 'string' && fragment.id !== '' ? fragment.id : undefined
      let call = id !== undefined ? state.nativeById.get(id) : undefined
      if (call === undefined) {
        const atIndex = state.nativeByIndex.get(fragmentIndex)
        if (atIndex !== undefined && (id === undefined || atIndex.id === undefined || atIndex.id === id)) call = atIndex
      }
      if (call === undefined) {
        call = { id: undefined, name: undefined, buffered: '', outIndex: -1, argumentChars: 0 }
        state.native.push(call)
        state.nativeByIndex.set(fragmentIndex, call)
      }
      if (id !== undefined && call.id === undefined) {
        call.id = id
        state.nativeById.set(id, call)
      }
      const fn = isRecord(fragment.function) ? fragment.function : fragment
      if (typeof fn.name === 'string' && fn.name !== '' && call.name === undefined) call.name = fn.name
      const rawArguments = fn.arguments
      const args = typeof rawArguments === 'string' ? rawArguments : isRecord(rawArguments) ? JSON.stringify(rawArguments) : ''
      if (call.outIndex < 0) {
        // Arguments of a call whose name has not come yet wait (capped: a nameless call is dropped anyway).
        if (call.buffered.length + args.length <= setup.maxHeldChars) call.buffered += args
        if (call.name === undefined) return
        call.outIndex = state.nextCallIndex++
        state.callCount++
        deltas.push([{ index: call.outIndex, id: call.id ?? setup.generateId(), type: 'function', function: { name: call.name, arguments: '' } }])
        if (call.buffered !== '') deltas.push([{ index: call.outIndex, function: { arguments: call.buffered } }])
        call.argumentChars += call.buffered.length
        call.buffered = ''
      } else if (args !== '') {
        call.argumentChars += args.length
        deltas.push([{ index: call.outIndex, function: { arguments: args } }])
      }
    })
    if (deltas.length > 0) state.events.push({ kind: 'calls', deltas })
  }

  function finishChoice(state: ChoiceState): void {
    if (state.finished) return
    state.finished = true
    // Content first: whether content follows decides the calls held in reasoning.
    state.content?.finish()
    for (const scanner of state.reasoning.values()) scanner.finish()
    const deltas: ToolCallDelta[][] = []
    for (const call of state.native) {
      // Calls that never got a name are dropped; empty arguments become `{}`.
      if (call.outIndex >= 0 && call.argumentChars === 0) deltas.push([{ index: call.outIndex, function: { arguments: '{}' } }])
    }
    if (deltas.length > 0) state.events.push({ kind: 'calls', deltas })
  }

  function finishReason(state: ChoiceState, upstream: string | null | undefined): string | null | undefined {
    if (state.callCount > 0 && mode === 'passthrough') return 'tool_calls'
    // No call reached the client (suppressed, or only nameless fragments): do not promise one.
    return upstream === 'tool_calls' ? 'stop' : upstream
  }

  function emit(base: ChunkBase, state: ChoiceState, extra: { delta: ChatCompletionDelta; choice: Record<string, unknown> } | undefined): boolean {
    let pendingExtra = extra
    let emitted = false
    let delta: ChatCompletionDelta | undefined
    const out = (d: ChatCompletionDelta): void => {
      const choice: ChatCompletionChunkChoice = { index: state.index, delta: pendingExtra === undefined ? d : { ...pendingExtra.delta, ...d } }
      if (pendingExtra !== undefined) Object.assign(choice, pendingExtra.choice)
      choice.finish_reason = null
      pendingExtra = undefined
      onChunk({ ...base, choices: [choice] })
      emitted = true
    }
    for (const event of state.events) {
      if (event.kind === 'text') {
        delta ??= {}
        delta[event.field] = ((delta[event.field] as string | undefined) ?? '') + event.text
        continue
      }
      if (delta !== undefined) out(delta)
      delta = undefined
      if (event.kind === 'malformed') setup.onMalformedCall?.(event.call)
      else for (const toolCalls of event.deltas) out({ tool_calls: toolCalls })
    }
    if (delta !== undefined) out(delta)
    state.events = []
    return emitted
  }

  function feedChoice(chunk: ChatCompletionChunk, choice: ChatCompletionChunkChoice): void {
    const state = choiceState(choice.index)
    const rawDelta: unknown = choice.delta
    const delta: Record<string, unknown> = isRecord(rawDelta) ? rawDelta : {}
    const { choices: _choices, usage, ...base } = chunk
    void _choices
    const rest: ChatCompletionDelta = {}
    let hadText = false
    for (const [key, value] of Object.entries(delta)) {
      if (key === 'content' || key === 'tool_calls' || (REASONING_FIELDS as readonly string[]).includes(key)) {
        if (typeof value === 'string' && value !== '') hadText = true
        if (Array.isArray(value) && value.length > 0) hadText = true
        continue
      }
      rest[key] = value
    }
    const { index: _index, delta: _delta, finish_reason: upstreamReason, ...choiceExtra } = choice
    void _index
    void _delta
    if (state.finished) {
      onChunk(chunk)
      return
    }
    for (const field of REASONING_FIELDS) {
      const value = delta[field]
      if (typeof value === 'string' && value !== '') {
        const scanner = reasoningScanner(state, field)
        if (scanner === undefined) pushText(state, field, value)
        else scanner.feed(value)
      }
    }
    if (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) {
      for (const scanner of state.reasoning.values()) scanner.contentFollows()
      nativeFragments(state, delta.tool_calls)
    }
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (state.content === undefined) pushText(state, 'content', delta.content)
      else state.content.feed(delta.content)
    }
    const finishing = typeof upstreamReason === 'string'
    if (finishing) finishChoice(state)
    const hasExtra = Object.keys(rest).length > 0 || Object.keys(choiceExtra).length > 0
    const emitted = emit(base, state, hasExtra ? { delta: rest, choice: choiceExtra } : undefined)
    if (!emitted && !hadText && !finishing) {
      // Nothing of ours in it (a role-only chunk, an empty delta): pass it on as it was.
      onChunk(chunk)
      return
    }
    if (!emitted && hasExtra && (Object.keys(rest).length > 0 || !finishing)) {
      onChunk({ ...base, choices: [{ ...choiceExtra, index: state.index, delta: rest, finish_reason: null }] })
    }
    if (finishing) {
      onChunk({ ...base, choices: [{ index: state.index, delta: {}, finish_reason: finishReason(state, upstreamReason) }], ...(usage === undefined ? {} : { usage }) })
    } else if (usage !== undefined && usage !== null) {
      onChunk({ ...base, choices: [], usage })
    }
  }

  /** Where content text goes while `fastFeed` runs (`undefined` otherwise). */
  let direct: { text: string } | undefined
  /** The one sink `fastFeed` reuses (no allocation per chunk). */
  const sink = { text: '' }

  /**
   * The common case, kept cheap: one choice, a delta with only `content`, no finish, no usage.
   * Released text equal to the input is forwarded as the same chunk object.
   */
  function fastFeed(chunk: ChatCompletionChunk): boolean {
    const list = chunk.choices
    if (!Array.isArray(list) || list.length !== 1 || (chunk.usage !== undefined && chunk.usage !== null)) return false
    const choice = list[0]!
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) return false
    const delta = choice.delta
    const content = delta?.content
    if (typeof content !== 'string' || content === '') return false
    for (const key in delta) if (key !== 'content') return false
    const state = choices.get(choice.index)
    if (state === undefined || state.finished || state.content === undefined || state.events.length > 0) return false
    template = chunk
    sink.text = ''
    direct = state.reasoning.size === 0 ? sink : undefined
    try {
      state.content.feed(content)
    } finally {
      direct = undefined
    }
    const events = state.events
    if (events.length === 0) {
      if (sink.text !== '') onChunk(sink.text === content ? chunk : { ...chunk, choices: [{ index: choice.index, delta: { content: sink.text }, logprobs: choice.logprobs ?? null, finish_reason: null }] })
      return true
    }
    // Calls came out too (text before them was moved to the events in order); add the text after them.
    if (sink.text !== '') pushText(state, 'content', sink.text)
    const { choices: _unused, ...base } = chunk
    void _unused
    emit(base, state, undefined)
    return true
  }

  return {
    feed(chunk) {
      if (fastFeed(chunk)) return
      const { choices: chunkChoices, ...base } = chunk
      template = base
      if (!Array.isArray(chunkChoices) || chunkChoices.length === 0) {
        onChunk(chunk)
        return
      }
      for (const choice of chunkChoices) feedChoice(chunk, choice)
    },
    flush() {
      if (template === undefined) return
      const { usage: _usage, ...base } = template
      void _usage
      for (const state of choices.values()) {
        if (state.finished) continue
        finishChoice(state)
        emit(base, state, undefined)
        if (state.callCount > 0 && mode === 'passthrough') onChunk({ ...base, choices: [{ index: state.index, delta: {}, finish_reason: 'tool_calls' }] })
      }
    },
  }
}
