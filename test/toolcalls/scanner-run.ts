/**
 * Shared by the detector's property tests: run the scanner over pieces of a text (with the
 * built-in formats and the test tools), and cut a text at arbitrary points.
 * @module
 */
import { expect } from 'vitest'
import { createDeclaredTools } from '../../src/toolcalls/declared-tools.js'
import { toolCallFormats } from '../../src/toolcalls/formats/index.js'
import { createMarkerIndex, createToolCallScanner, type MalformedToolCall, type RecognisedCall } from '../../src/toolcalls/tool-call-scanner.js'
import { TEST_TOOLS } from './format-cases.js'

const index = createMarkerIndex(toolCallFormats, createDeclaredTools(TEST_TOOLS))

/** What one scanner run released. */
export interface ScannerRun {
  content: string
  calls: RecognisedCall[]
  /** Malformed calls reported, in order. */
  malformed: MalformedToolCall[]
  /** Content released after each piece, to check it only ever grows towards the final content. */
  snapshots: string[]
}

/** Feeds `pieces` to a fresh scanner (every built-in format, the test tools) and finishes it. */
export function runScanner(pieces: string[], deferCalls = false): ScannerRun {
  let content = ''
  const calls: RecognisedCall[] = []
  const malformed: MalformedToolCall[] = []
  const snapshots: string[] = []
  const scanner = createToolCallScanner({
    index,
    deferCalls,
    onText: (text) => (content += text),
    onCalls: (found, broken) => {
      calls.push(...found)
      if (broken !== undefined) malformed.push(...broken.map((entry) => entry.call))
    },
  })
  for (const piece of pieces) {
    scanner.feed(piece)
    snapshots.push(content)
  }
  scanner.finish()
  return { content, calls, malformed, snapshots }
}

/** Cuts `text` at the given points (taken modulo its length + 1; duplicates and order do not matter). */
export function splitAt(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b)
  const pieces: string[] = []
  let last = 0
  for (const point of points) {
    if (point > last) pieces.push(text.slice(last, point))
    last = Math.max(last, point)
  }
  if (last < text.length) pieces.push(text.slice(last))
  return pieces
}

/**
 * Runs `text` whole, one character at a time and cut at `cuts`, and asserts the same content and
 * calls come out every way and that no released text is ever taken back. Returns the whole run.
 */
export function expectSplitIndependent(text: string, cuts: number[], deferCalls: boolean): ScannerRun {
  const whole = runScanner([text], deferCalls)
  const chars = runScanner([...text], deferCalls)
  const split = runScanner(splitAt(text, cuts), deferCalls)
  const view = ({ content, calls, malformed }: ScannerRun): unknown => ({ content, calls, malformed })
  expect(view(chars)).toEqual(view(whole))
  expect(view(split)).toEqual(view(whole))
  for (const snapshot of [...chars.snapshots, ...split.snapshots]) expect(whole.content.startsWith(snapshot)).toBe(true)
  return whole
}
