/**
 * A simulated llama.cpp `llama-server` on a real node:http server on loopback, for `queuegate
 * --demo`: the same routes (`/health`, `/v1/models`, `/slots`, `/v1/chat/completions` streamed
 * and not), slots that hold one generation each (more requests wait, FIFO, as in llama.cpp;
 * `id_slot` picks one), time to first token that grows with the part of the prompt the slot has
 * not seen (a slot that holds the conversation so far, the KV cache sticky routing keeps warm, starts sooner), a steady
 * token rate, and tool calls: native, or written as text (`<tool_call>` JSON) by a server
 * configured to, as some models do. Answers are made-up text; nothing here pretends to be a model
 * beyond its timing and wire format.
 * @module
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** Options of {@link startSimulatedUpstream}. */
export interface SimulatedUpstreamOptions {
  /** Shown in answers' `system_fingerprint` and `/slots`. @default 'sim' */
  name?: string | undefined
  /** Model ids it serves (`/v1/models`); others get 404. @default ['sim-model'] */
  models?: string[] | undefined
  /** Generations at once. @default 2 */
  slots?: number | undefined
  /** Generated tokens per second, per slot. @default 40 */
  tokensPerSecond?: number | undefined
  /** Prompt tokens processed per second (the time to first token). @default 2000 */
  promptTokensPerSecond?: number | undefined
  /** Fixed part of the time to first token, in ms. @default 80 */
  baseLatencyMs?: number | undefined
  /** Write tool calls as text: never, always, or every other call. @default 'never' */
  textToolCalls?: 'never' | 'always' | 'sometimes' | undefined
  /** Tokens of an answer when the request gives no `max_tokens`: between these two. @default [40, 160] */
  answerTokens?: [number, number] | undefined
  /** @default '127.0.0.1' */
  host?: string | undefined
  /** @default 0 (any free port) */
  port?: number | undefined
}

/** A running simulated server. */
export interface SimulatedUpstream {
  /** `http://127.0.0.1:port` (the API is under `/v1`). */
  url: string
  /** Generations running now. */
  readonly busy: number
  close(): Promise<void>
}

const MAX_BODY_BYTES = 4 * 1024 * 1024

const WORDS = (
  'the queue keeps every request in order while the slots on each server work through their turns ' +
  'a conversation goes back to the server that still holds its prompt in cache so the answer starts sooner ' +
  'interactive chats are served before batch jobs from agents and a batch job that waited long enough goes first ' +
  'when a server stops answering its jobs move to another one and it comes back after a good health check'
).split(' ')

interface Slot {
  readonly id: number
  busy: boolean
  /** The prompt text it last processed (its "KV cache": a prompt sharing its start is processed from where they differ). */
  cached: string
  /** Tokens it generated last time, for `/slots`. */
  lastTokens: number
  /** The server's id of the last task it ran (llama.cpp's `id_task`), undefined before its first. */
  task: number | undefined
  /** Tokens its cache holds (prompt and answer), for `/slots` (`n_past`, `n_prompt_tokens`). */
  tokens: number
}

interface Waiter {
  readonly slot: number | undefined
  readonly grant: (slot: Slot) => void
}

type Json = Record<string, unknown>

/** Starts a simulated llama-server; see the module doc. */
export async function startSimulatedUpstream(options: SimulatedUpstreamOptions = {}): Promise<SimulatedUpstream> {
  const {
    name = 'sim',
    models = ['sim-model'],
    slots: slotCount = 2,
    tokensPerSecond = 40,
    promptTokensPerSecond = 2000,
    baseLatencyMs = 80,
    textToolCalls = 'never',
    answerTokens = [40, 160],
    host = '127.0.0.1',
    port = 0,
  } = options
  const slots: Slot[] = Array.from({ length: slotCount }, (_, id) => ({ id, busy: false, cached: '', lastTokens: 0, task: undefined, tokens: 0 }))
  let tasks = 0
  const waiters: Waiter[] = []
  let toolCallsMade = 0
  let sequence = 0
  const created = Math.floor(Date.now() / 1000)

  /** A free slot: the one asked for, else the one holding the longest prefix of the prompt, else any. */
  function freeSlot(wanted: number | undefined, prompt: string): Slot | undefined {
    if (wanted !== undefined) return slots[wanted]?.busy === false ? slots[wanted] : undefined
    let best: Slot | undefined
    let bestShared = -1
    for (const slot of slots) {
      if (slot.busy) continue
      const shared = commonPrefixLength(slot.cached, prompt)
      if (shared > bestShared) {
        best = slot
        bestShared = shared
      }
    }
    return best
  }

  function acquire(wanted: number | undefined, prompt: string, signal: AbortSignal): Promise<Slot> {
    const slot = waiters.length === 0 ? freeSlot(wanted, prompt) : undefined
    if (slot !== undefined) {
      slot.busy = true
      return Promise.resolve(slot)
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { slot: wanted, grant: resolve }
      waiters.push(waiter)
      signal.addEventListener(
        'abort',
        () => {
          const at = waiters.indexOf(waiter)
          if (at >= 0) waiters.splice(at, 1)
          reject(new Error('client gone'))
        },
        { once: true },
      )
    })
  }

  function release(slot: Slot): void {
    slot.busy = false
    // FIFO, but a waiter for another slot does not block one that can take this one.
    const at = waiters.findIndex((waiter) => waiter.slot === undefined || waiter.slot === slot.id)
    if (at < 0) return
    const [waiter] = waiters.splice(at, 1)
    slot.busy = true
    waiter?.grant(slot)
  }

  const server = http.createServer((incoming, outgoing) => {
    const path = (incoming.url ?? '/').split('?')[0]
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body)
      outgoing.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      outgoing.end(text)
    }
    const fail = (status: number, message: string, type = 'invalid_request_error'): void => send(status, { error: { code: status, message, type } })
    if (incoming.method === 'GET') {
      if (path === '/health') return send(200, { status: 'ok' })
      if (path === '/v1/models' || path === '/models') return send(200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created, owned_by: 'llamacpp' })) })
      if (path === '/slots') return send(200, slots.map(slotJson))
      return fail(404, 'File Not Found', 'not_found_error')
    }
    if (incoming.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/chat/completions')) return fail(404, 'File Not Found', 'not_found_error')
    const parts: Buffer[] = []
    let size = 0
    incoming.on('data', (part: Buffer) => {
      size += part.length
      if (size > MAX_BODY_BYTES) {
        fail(413, 'request too large')
        incoming.destroy()
        return
      }
      parts.push(part)
    })
    incoming.on('end', () => {
      if (outgoing.headersSent) return
      let body: Json
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(parts).toString('utf8'))
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object')
        body = parsed as Json
      } catch {
        return fail(400, 'the body is not a JSON object')
      }
      if (!Array.isArray(body.messages) || body.messages.length === 0) return fail(400, "'messages' must be a non-empty array")
      const model = typeof body.model === 'string' && body.model !== '' ? body.model : models[0]
      if (model === undefined || !models.includes(model)) return fail(404, `model ${JSON.stringify(body.model)} not found`, 'not_found_error')
      const controller = new AbortController()
      outgoing.on('close', () => controller.abort())
      void generate(body, model, outgoing, controller.signal)
    })
  })

  async function generate(body: Json, model: string, outgoing: http.ServerResponse, signal: AbortSignal): Promise<void> {
    const messages = body.messages as Json[]
    // The prompt as the slot's cache sees it: a later turn of the same conversation starts with the earlier one.
    const prompt = messages.map((message) => JSON.stringify([message.role, message.content ?? null, message.tool_calls ?? null])).join('\n')
    const idSlot = typeof body.id_slot === 'number' && Number.isInteger(body.id_slot) && body.id_slot >= 0 && body.id_slot < slotCount ? body.id_slot : undefined
    let slot: Slot
    try {
      slot = await acquire(idSlot, prompt, signal)
    } catch {
      return
    }
    try {
      const id = `chatcmpl-${name}-${++sequence}`
      const cachedChars = commonPrefixLength(slot.cached, prompt)
      const promptTokens = Math.ceil(prompt.length / 4)
      const newTokens = Math.ceil((prompt.length - cachedChars) / 4)
      slot.cached = prompt
      slot.task = tasks++
      slot.tokens = promptTokens
      const prefillMs = (newTokens * 1000) / promptTokensPerSecond
      const ttftMs = baseLatencyMs + prefillMs
      const plan = answerPlan(body, messages, sequence)
      const streamed = body.stream === true
      if (streamed) {
        outgoing.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
        outgoing.flushHeaders()
      }
      if (!(await sleep(ttftMs, signal))) return
      const write = (chunk: Json): void => {
        outgoing.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, system_fingerprint: name, ...chunk })}\n\n`)
      }
      const started = performance.now()
      let content = ''
      let generated = 0
      const toolCall = plan.tool === undefined ? undefined : { id: `call_${name}_${sequence}`, type: 'function', function: { name: plan.tool.name, arguments: JSON.stringify(plan.tool.arguments) } }
      const asText = toolCall !== undefined && (textToolCalls === 'always' || (textToolCalls === 'sometimes' && toolCallsMade++ % 2 === 0))
      const pieces = toolCall === undefined ? plan.words.map((word, index) => (index === 0 ? word : ` ${word}`)) : asText ? textToolCallPieces(toolCall.function.name, toolCall.function.arguments) : []
      if (streamed) write({ choices: [{ index: 0, delta: { role: 'assistant', content: null }, finish_reason: null }] })
      const msPerToken = 1000 / tokensPerSecond
      for (const piece of pieces) {
        if (!(await sleep(msPerToken, signal))) return
        content += piece
        generated++
        if (streamed) write({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })
      }
      if (toolCall !== undefined && !asText) {
        // A native call: its arguments take about one token per 4 characters to generate.
        generated = Math.ceil(toolCall.function.arguments.length / 4) + 4
        if (!(await sleep(generated * msPerToken, signal))) return
        if (streamed) write({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...toolCall }] }, finish_reason: null }] })
      }
      const predictedMs = performance.now() - started
      const finishReason = toolCall !== undefined && !asText ? 'tool_calls' : plan.truncated ? 'length' : 'stop'
      const usage = { prompt_tokens: promptTokens, completion_tokens: generated, total_tokens: promptTokens + generated }
      // As llama.cpp: prompt_ms is the prefill alone, prompt_per_second its rate.
      const timings = { prompt_n: newTokens, prompt_ms: prefillMs, prompt_per_second: promptTokensPerSecond, cache_n: promptTokens - newTokens, predicted_n: generated, predicted_ms: predictedMs, predicted_per_second: generated === 0 ? 0 : (generated * 1000) / predictedMs }
      slot.lastTokens = generated
      slot.tokens = promptTokens + generated
      if (streamed) {
        write({ choices: [{ index: 0, delta: {}, finish_reason: finishReason }], timings })
        const options = body.stream_options as Json | undefined
        if (options?.include_usage === true) write({ choices: [], usage })
        outgoing.end('data: [DONE]\n\n')
        return
      }
      const message: Json = { role: 'assistant', content: toolCall !== undefined && !asText ? null : content }
      if (toolCall !== undefined && !asText) message.tool_calls = [toolCall]
      const text = JSON.stringify({ id, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model, system_fingerprint: name, choices: [{ index: 0, message, finish_reason: finishReason }], usage, timings })
      outgoing.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      outgoing.end(text)
    } finally {
      release(slot)
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    get busy() {
      return slots.filter((slot) => slot.busy).length
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }

  /** What to answer: a tool call when tools are declared and the last message is the user's, else words. */
  function answerPlan(body: Json, messages: Json[], seed: number): { words: string[]; truncated: boolean; tool: { name: string; arguments: Json } | undefined } {
    const last = messages.at(-1)
    const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : []
    const declared = tools.map((tool) => tool.function as Json | undefined).find((fn) => typeof fn?.name === 'string')
    if (declared !== undefined && last?.role === 'user' && body.tool_choice !== 'none') {
      return { words: [], truncated: false, tool: { name: declared.name as string, arguments: sampleArguments(declared.parameters) } }
    }
    const wanted = answerTokens[0] + ((seed * 7919) % (answerTokens[1] - answerTokens[0] + 1))
    const cap = typeof body.max_tokens === 'number' ? body.max_tokens : typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : Number.POSITIVE_INFINITY
    const count = Math.max(1, Math.min(wanted, cap))
    const words: string[] = []
    for (let i = 0; i < count; i++) words.push(WORDS[(seed * 31 + i) % WORDS.length] as string)
    if (words.length > 0) words[0] = (words[0] as string).charAt(0).toUpperCase() + (words[0] as string).slice(1)
    words[words.length - 1] += '.'
    return { words, truncated: count < wanted, tool: undefined }
  }
}

/** A slot as llama.cpp's `GET /slots` shows it (its metrics fields; `prompt_chars` and `n_decoded` are the simulation's own). */
function slotJson(slot: Slot): Json {
  const task = slot.task === undefined ? {} : { id_task: slot.task, n_past: slot.tokens, n_prompt_tokens: slot.tokens, next_token: [{ has_next_token: slot.busy, n_decoded: slot.lastTokens }] }
  return { id: slot.id, n_ctx: 8192, speculative: false, is_processing: slot.busy, ...task, prompt_chars: slot.cached.length, n_decoded: slot.lastTokens }
}

/** How many leading characters two strings share (llama.cpp reuses the cache of the common prefix). */
function commonPrefixLength(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  let i = 0
  while (i < length && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

/** Arguments that fit a JSON schema's top-level properties, roughly. */
function sampleArguments(schema: unknown): Json {
  const properties = (schema as { properties?: Record<string, { type?: string; enum?: unknown[] }> } | undefined)?.properties ?? {}
  const out: Json = {}
  for (const [key, property] of Object.entries(properties)) {
    if (Array.isArray(property.enum) && property.enum.length > 0) out[key] = property.enum[0]
    else if (property.type === 'number' || property.type === 'integer') out[key] = 3
    else if (property.type === 'boolean') out[key] = true
    else if (property.type === 'array') out[key] = []
    else if (property.type === 'object') out[key] = {}
    else out[key] = key === 'city' || key === 'location' ? 'Paris' : `demo ${key}`
  }
  return out
}

/** A tool call written as text the way Hermes-style models do, in pieces of a few characters. */
function textToolCallPieces(name: string, argumentsJson: string): string[] {
  const text = `<tool_call>\n{"name": ${JSON.stringify(name)}, "arguments": ${argumentsJson}}\n</tool_call>`
  const pieces: string[] = []
  for (let i = 0; i < text.length; i += 4) pieces.push(text.slice(i, i + 4))
  return pieces
}

/** Waits `ms`; false when `signal` aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      resolve(false)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
