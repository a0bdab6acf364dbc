/**
 * The tool loop's progress lines, as the client reads them in `reasoning_content`: the tool's
 * name and short arguments when a call starts, then the result's size and time, or the error.
 * Pure formatting.
 * @module
 */
import type { ToolOutcome } from '../tools/types.js'

/** Longest argument text shown in a progress line. */
const MAX_ARGUMENT_CHARS = 120

/** `→ get_weather {"city":"Paris"}` */
export function callStartLine(name: string, args: Record<string, unknown>): string {
  let text = JSON.stringify(args) ?? '{}'
  if (text.length > MAX_ARGUMENT_CHARS) text = `${text.slice(0, MAX_ARGUMENT_CHARS - 1)}…`
  return `→ ${name} ${text}\n`
}

/** `← get_weather: 1.2 KB in 340 ms`, or `← get_weather failed (tool_http_error): …` */
export function callEndLine(outcome: ToolOutcome): string {
  const time = formatMs(outcome.durationMs)
  if (outcome.ok) return `← ${outcome.name}: ${formatBytes(outcome.bytes)}${outcome.truncated ? ' (cut)' : ''} in ${time}\n`
  const code = outcome.error?.code ?? 'tool_error'
  let message = outcome.error?.message ?? ''
  if (message.length > MAX_ARGUMENT_CHARS) message = `${message.slice(0, MAX_ARGUMENT_CHARS - 1)}…`
  return `← ${outcome.name} failed (${code}) in ${time}${message === '' ? '' : `: ${message}`}\n`
}

/** A line of its own: a skipped call, the limit reached. */
export function noteLine(text: string): string {
  return `· ${text}\n`
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  return `${(bytes / 1024).toFixed(1)} KB`
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(1)} s`
}
