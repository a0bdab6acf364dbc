/**
 * Table-test harness for tool-call formats: every case is checked whole (`parseToolCalls`), streamed
 * in one piece, one character at a time and at seeded random splits (identical output required),
 * with a no-leak check after every chunk, and once through `ToolCallDetector` as a web stream.
 * @module
 */
import { describe, expect, it } from 'vitest'
import type { ChatCompletionChunk, ToolCall, ToolDefinition } from '../../src/openai/types.js'
import type { ToolSpec } from '../../src/toolcalls/declared-tools.js'
import { detectInCompletion, parseToolCalls } from '../../src/toolcalls/parse-tool-calls.js'
import { createToolCallParser, type MalformedToolCall } from '../../src/toolcalls/tool-call-parser.js'
import { ToolCallDetector } from '../../src/toolcalls/tool-call-detector.js'
import { mergeChunks } from '../helpers/merge-chunks.js'
import { arrayToStream, collectStream } from '../helpers/streams.js'
import { seededRandom } from '../helpers/seeded-random.js'

const tool = (name: string, properties: Record<string, unknown>): ToolDefinition => ({
  type: 'function',
  function: { name, description: name, parameters: { type: 'object', properties } },
})

/** The tools every case declares unless it says otherwise. */
export const TEST_TOOLS: ToolDefinition[] = [
  tool('get_weather', { city: { type: 'string' }, days: { type: 'integer' }, unit: { type: 'string' } }),
  tool('search', { query: { type: 'string' }, limit: { type: 'integer' }, exact: { type: 'boolean' } }),
  tool('write_file', { path: { type: 'string' }, content: { type: 'string' } }),
  tool('get_time', {}),
  tool('calculate', { expression: { type: 'string' }, precision: { type: 'number' }, options: { type: 'object' }, values: { type: 'array' } }),
]

/** An expected call: name and decoded arguments. */
export interface ExpectedCall {
  name: string
  arguments: Record<string, unknown>
}

/** One table case. */
export interface FormatCase {
  name: string
  /** The model's text (content, or reasoning with `channel: 'reasoning'`). */
  text: string
  /** Expected calls. @default [] */
  calls?: ExpectedCall[]
  /** Expected text left in the channel. @default '' when `calls` or `malformed` is non-empty, else `text` */
  content?: string
  /** Declared tools. @default TEST_TOOLS */
  tools?: ToolSpec[]
  /** Restrict detection to these format ids. @default all */
  formats?: string[]
  /** Where the text goes. @default 'content' */
  channel?: 'content' | 'reasoning'
  /** With `channel: 'reasoning'`: content that follows the reasoning. @default '' */
  contentAfter?: string
  /**
   * Names of the malformed calls reported through `onMalformedCall` (`undefined` for a call whose name
   * could not be read), in order. Every path must report the same calls, text and reasons. @default []
   */
  malformed?: (string | undefined)[]
  only?: boolean
  skip?: boolean
}


/** Splits `text` at random places (pieces of 1..max chars). */
export function randomSplit(text: string, random: () => number, max = 12): string[] {
  const pieces: string[] = []
  let i = 0
  while (i < text.length) {
    const size = 1 + Math.floor(random() * max)
    pieces.push(text.slice(i, i + size))
    i += size
  }
  return pieces
}

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk' as const, created: 1, model: 'm' }

/** Upstream chunks for `pieces` in `field`, then optional content pieces, then `finish_reason: stop`. */
export function toChunks(pieces: string[], field = 'content', after: string[] = []): ChatCompletionChunk[] {
  return [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    ...pieces.map((piece) => ({ ...base, choices: [{ index: 0, delta: { [field]: piece }, finish_reason: null }] })),
    ...after.map((piece) => ({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })),
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  ]
}

const callOf = (call: ToolCall): ExpectedCall => ({ name: call.function.name, arguments: JSON.parse(call.function.arguments) as Record<string, unknown> })

let idCounter = 0
const generateId = (): string => `call_test${++idCounter}`

interface Outcome {
  content: string
  reasoning: string
  calls: ExpectedCall[]
  finishReason: string | null
}

function outcomeOf(chunks: ChatCompletionChunk[]): Outcome {
  const merged = mergeChunks(chunks as unknown as Record<string, unknown>[])
  for (const call of merged.toolCalls) {
    expect(call.id).toMatch(/^call_/)
    expect(call.type).toBe('function')
  }
  return {
    content: merged.content,
    reasoning: merged.reasoningContent,
    calls: merged.toolCalls.map((call) => ({ name: call.function.name, arguments: JSON.parse(call.function.arguments) as Record<string, unknown> })),
    finishReason: merged.finishReason,
  }
}

/**
 * Runs `pieces` through the parser; after every chunk checks that the text released so far in the
 * case's channel is a prefix of the final expected text (no marker, not even a prefix, leaks).
 */
function runParser(testCase: FormatCase, pieces: string[], expected: { channelText: string }, malformed: MalformedToolCall[]): Outcome {
  const field = testCase.channel === 'reasoning' ? 'reasoning_content' : 'content'
  const out: ChatCompletionChunk[] = []
  const parser = createToolCallParser({ tools: testCase.tools ?? TEST_TOOLS, formats: testCase.formats, generateId, onMalformedCall: (call) => malformed.push(call), onChunk: (chunk) => out.push(chunk) })
  let released = ''
  const chunks = toChunks(pieces, field, testCase.contentAfter === undefined || testCase.contentAfter === '' ? [] : [testCase.contentAfter])
  for (const chunk of chunks) {
    const before = out.length
    parser.feed(chunk)
    for (const emitted of out.slice(before)) {
      const value = emitted.choices[0]?.delta[field]
      if (typeof value === 'string') released += value
    }
    if (!expected.channelText.startsWith(released)) {
      throw new Error(`leak: released ${JSON.stringify(released)} is not a prefix of ${JSON.stringify(expected.channelText)} (pieces ${JSON.stringify(pieces.slice(0, 40))})`)
    }
  }
  parser.flush()
  return outcomeOf(out)
}

/** Defines one `describe` block with an `it` per case. */
export function runFormatCases(title: string, cases: FormatCase[]): void {
  describe(title, () => {
    for (const testCase of cases) {
      const define = testCase.only === true ? it.only : testCase.skip === true ? it.skip : it
      define(testCase.name, async () => {
        const calls = testCase.calls ?? []
        const channelText = testCase.content ?? (calls.length > 0 || (testCase.malformed ?? []).length > 0 ? '' : testCase.text)
        const reasoning = testCase.channel === 'reasoning'
        const expected: Outcome = {
          content: reasoning ? testCase.contentAfter ?? '' : channelText,
          reasoning: reasoning ? channelText : '',
          calls,
          finishReason: calls.length > 0 ? 'tool_calls' : 'stop',
        }
        // Malformed calls: the first path's reports are the reference every other path must repeat.
        let reported: MalformedToolCall[] | undefined
        const checkReports = (got: MalformedToolCall[]): void => {
          if (reported === undefined) {
            reported = got
            expect(got.map((call) => call.name)).toEqual(testCase.malformed ?? [])
            for (const call of got) {
              expect(call.reason).toMatch(/\S/)
              expect(call.text).toMatch(/\S/)
              expect(testCase.text.includes(call.text)).toBe(true)
            }
          } else expect(got).toEqual(reported)
        }
        const options = { tools: testCase.tools ?? TEST_TOOLS, formats: testCase.formats, generateId }
        // Whole message: parseToolCalls (no content after reasoning there) and detectInCompletion.
        if (!reasoning || (testCase.contentAfter ?? '') === '') {
          const got: MalformedToolCall[] = []
          const whole = parseToolCalls(testCase.text, { ...options, reasoning, onMalformedCall: (call) => got.push(call) })
          expect({ content: whole.content, calls: whole.toolCalls.map(callOf) }).toEqual({ content: channelText, calls })
          checkReports(got)
        }
        const message = reasoning ? { role: 'assistant', content: testCase.contentAfter ?? '', reasoning_content: testCase.text } : { role: 'assistant', content: testCase.text }
        const inCompletion: MalformedToolCall[] = []
        const completion = detectInCompletion({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message, finish_reason: 'stop' }] }, { ...options, onMalformedCall: (call) => inCompletion.push(call) })
        checkReports(inCompletion)
        const choice = completion.choices[0]!
        expect({
          content: choice.message.content ?? '',
          reasoning: choice.message.reasoning_content ?? '',
          calls: (choice.message.tool_calls ?? []).map(callOf),
          finishReason: choice.finish_reason,
        }).toEqual(expected)
        // Streamed: one piece, one char at a time, seeded random splits.
        const splits: string[][] = [[testCase.text], [...testCase.text]]
        for (let seed = 1; seed <= 6; seed++) splits.push(randomSplit(testCase.text, seededRandom(seed * 7919 + testCase.text.length), seed <= 3 ? 5 : 24))
        for (const pieces of splits) {
          const got: MalformedToolCall[] = []
          expect(runParser(testCase, pieces, { channelText }, got)).toEqual(expected)
          checkReports(got)
        }
        // Through the platform: array → ReadableStream → ToolCallDetector → array.
        const field = reasoning ? 'reasoning_content' : 'content'
        const after = testCase.contentAfter === undefined || testCase.contentAfter === '' ? [] : [testCase.contentAfter]
        const streamed = await collectStream(arrayToStream(toChunks(randomSplit(testCase.text, seededRandom(99), 8), field, after)).pipeThrough(new ToolCallDetector({ tools: testCase.tools ?? TEST_TOOLS, formats: testCase.formats, generateId })))
        expect(outcomeOf(streamed)).toEqual(expected)
      })
    }
  })
}
