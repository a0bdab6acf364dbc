/**
 * queuegate/toolcalls: tool-call recovery, i.e. the incremental parser, its `TransformStream`, whole-message
 * helpers and the format registry. Re-exports only (`src/index.ts` re-exports these names too). No undici,
 * nothing from `node:*`: it runs in browsers, edge workers and Node versions older than the gateway's floor.
 * @module
 */
export { createToolCallParser, generateCallId, REASONING_FIELDS } from './tool-call-parser.js'
export type { MalformedToolCall, ToolCallDetectionOptions, ToolCallMode, ToolCallParser, ToolCallParserOptions } from './tool-call-parser.js'
export { ToolCallDetector } from './tool-call-detector.js'
export type { ToolCallDetectorOptions } from './tool-call-detector.js'
export { detectInCompletion, parseToolCalls } from './parse-tool-calls.js'
export type { ParsedToolCalls, ParseToolCallsOptions } from './parse-tool-calls.js'
export { toolCallFormats } from './formats/index.js'
export type { DeclaredTools, JsonObject, MalformedCall, MatchContext, MatchResult, ParsedCall, ToolCallFormat } from './formats/types.js'
export type { ToolSpec } from './declared-tools.js'
export { parseFlexibleJson } from './flexible-json.js'
export type { FlexibleJsonResult } from './flexible-json.js'
