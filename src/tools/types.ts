/**
 * The contracts of server-side tools: a {@link ToolSource} (one OpenAPI tool server, one MCP
 * server) and the {@link ToolRegistry} over all of them. The gateway's execute loop, chat memory's
 * tool-server adapter and agents use only these types; `src/tools/` implements them.
 * @module
 */
import type { ToolDefinition } from '../openai/types.js'

/** Options of one tool call. */
export interface ToolCallOptions {
  /** Aborts the call (client gone, loop over). */
  signal?: AbortSignal | undefined
  /**
   * The most result bytes a source needs to read (the registry's cap, plus a little to tell that
   * there was more); a source stops reading there. @default the source's own cap
   */
  maxBytes?: number | undefined
}

/**
 * The structured error a tool call can end in. It goes back to the model as the tool message (as
 * JSON), so the model can correct its call; it never fails the client's request.
 */
export interface ToolError {
  code:
    | 'missing_required_args' // `required` lists them, `example` gives a value per field
    | 'invalid_args' // `field` names the field, `message` says what is wrong
    | 'tool_args_parse_error' // the model's call text could not be read as arguments
    | 'unknown_tool' // `available` lists the tools that exist
    | 'tool_http_error' // `status`, `body` (first 2 KB)
    | 'tool_timeout'
    | 'tool_call_failed' // network error, MCP transport error
    | 'tool_error' // the tool ran and reported an error (MCP `isError`)
  message: string
  [detail: string]: unknown
}

/** What one call of a tool came to. */
export interface ToolOutcome {
  /** The tool's name as the model knows it. */
  name: string
  ok: boolean
  /** The tool message's content: the result text (capped), or the error as JSON. */
  content: string
  /** Set when `ok` is false. */
  error?: ToolError | undefined
  /** The result was cut at the byte cap (a note saying so ends `content`). */
  truncated: boolean
  /** Bytes of `content`. */
  bytes: number
  /** Time the call took, in ms. */
  durationMs: number
}

/** One server's tools. */
export interface ToolSource {
  /** A name for messages and logs: the server's configured name, else its URL without credentials. */
  readonly id: string
  /** The server's tools as OpenAI definitions (names before any registry prefix). */
  list(options?: ToolCallOptions): Promise<ToolDefinition[]>
  /** Calls one tool with arguments already validated. Resolves with the result text; rejects with a `ToolCallError`. */
  call(name: string, args: Record<string, unknown>, options?: ToolCallOptions): Promise<string>
  /** Closes connections (MCP sessions). */
  close?(): Promise<void>
  /**
   * Calls `onChange` whenever the server says its tool list changed (MCP
   * `notifications/tools/list_changed`); the registry then lists it again.
   */
  watch?(onChange: () => void): void
}

/** The tools of every configured source, under one namespace. */
export interface ToolRegistry {
  /** The current definitions of every tool (the last good list of each source), in a stable order. */
  definitions(): ToolDefinition[]
  /** Whether `name` is one of the registry's tools. */
  has(name: string): boolean
  /**
   * Validates the arguments against the tool's schema, then calls it (timeout, size cap). Never
   * rejects for a tool's failure: the outcome carries the structured error. Rejects only when
   * `signal` aborted.
   */
  call(name: string, args: Record<string, unknown>, options?: ToolCallOptions): Promise<ToolOutcome>
  /** Resolves when every source answered its first listing or failed it (a failed one is warned about). */
  ready(): Promise<void>
  /** Lists every source again now (single flight per source). */
  refresh(): Promise<void>
  close(): Promise<void>
}
