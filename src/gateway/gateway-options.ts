/**
 * The one options object of {@link createGateway}, and its validation. The CLI builds the
 * same object from flags, environment and the config file.
 * @module
 */
import type { ReasoningMode } from '../reasoning/reasoning-transform.js'
import type { CallStage } from './call-plan.js'
import { clockWith, systemClock } from './clock.js'
import type { Clock } from './clock.js'
import type { UpstreamOptions, UpstreamPoolOptions } from './upstream.js'
import type { UpstreamState } from './upstream-health.js'
import { resolveGatewayKeys } from './gateway-keys.js'
import { resolveVariants } from './variants.js'
import type { Variant, VariantOptions } from './variants.js'
import type { GatewayKey, GatewayKeyOptions } from './gateway-keys.js'
import type { JobClass, SchedulerSnapshot, StickyRoute } from '../queue/queue-scheduler.js'
import type { RouteChoice } from '../queue/upstream-router.js'
import type { SchedulerState } from '../queue/scheduler-state.js'
import { resolveAllowedHosts } from './allowed-hosts.js'
import type { AllowedHosts } from './allowed-hosts.js'
import { resolveCorsOrigins } from './cors.js'
import type { CorsPolicy } from './cors.js'
import { resolveMemoryOptions } from './memory-options.js'
import type { MemoryOptions, ResolvedMemoryOptions } from './memory-options.js'
import type { McpServerOptions } from '../tools/mcp-source.js'
import type { OpenApiServerOptions } from '../tools/openapi-source.js'
import type { ToolRegistry } from '../tools/types.js'
import type { Agent } from '../agents/types.js'

/** How a waiting streaming client is told its queue position. */
export type QueueNotifyMode = 'reasoning' | 'content' | 'comment' | 'never'

/**
 * What happens to tool calls the model makes (native or recovered from text): `execute` runs the
 * registry's tools in the gateway and calls the model again (see tool-loop.ts); `passthrough`
 * hands them to the client; `suppress` drops them.
 */
export type ToolMode = 'execute' | 'passthrough' | 'suppress'

/** What the execute loop does with a call to a tool neither the client nor the registry has. */
export type UnknownToolPolicy = 'error' | 'passthrough' | 'ignore'

/**
 * Something the gateway reports, through `onEvent` (the CLI prints these as log lines, the
 * metrics count them, a dashboard can follow jobs with them). A job's events come in order:
 * `job-queued` (only when it waits), `job-start` (once per upstream it runs on: again after a
 * retry), `upstream-error` (with `retry` when it runs again), `tool-calls-recovered`, and always one `request-end`. Nothing secret is in
 * any of them: a gateway key appears by its name, upstreams by their id (no URL credentials),
 * and no message text.
 */
export type GatewayEvent =
  | {
      type: 'request-end'
      jobId: string
      method: string
      path: string
      status: number
      upstream: string | undefined
      /** The model the client asked for (public id: alias or variant), or undefined when it named none. */
      model: string | undefined
      /** The job's class (`interactive`, `batch`). */
      kind: JobClass
      stream: boolean
      /** The llama.cpp slot (`id_slot`) it ran on, with slot affinity. */
      slot: number | undefined
      /** Arrival to start (the slot granted), or to the end when it never started. */
      waitMs: number
      /** Start to the first answer event of a streamed answer; undefined for whole answers and failures before it. */
      ttftMs: number | undefined
      /** Arrival to the end. */
      totalMs: number
      /** Tokens generated: the upstream's `usage.completion_tokens`, else the answer's chunks counted (`tokensFrom`). */
      tokens: number | undefined
      /** Where `tokens` came from. */
      tokensFrom: 'usage' | 'chunks' | undefined
      /** `usage.prompt_tokens`, when the upstream reported it. */
      promptTokens: number | undefined
      /** Prompt tokens served from the upstream's cache (llama.cpp `timings.cache_n`, `usage.prompt_tokens_details.cached_tokens`). */
      cachedTokens: number | undefined
      error: string | undefined
      /** The gateway key's name, when keys are configured. */
      key?: string | undefined
      /** The request body as the client sent it (message text: only with `logBodies`; the first 16 KiB). */
      body?: string | undefined
    }
  /**
   * A model call failed at the upstream; `code` says how (`upstream_unreachable`, `upstream_timeout`,
   * `upstream_error`, `upstream_rejected`, …; a failure after the answer started comes too, without
   * `retry`). `retry`: what the gateway does next: runs the job on another upstream
   * (`another-upstream`; `unreachable` when nothing reached the failed one), or on the same one
   * after its `Retry-After` (`after-retry-after`, in `waitMs`); absent: the failure is the client's answer.
   */
  | { type: 'upstream-error'; jobId: string; upstream: string; message: string; code: string; retry?: 'another-upstream' | 'unreachable' | 'after-retry-after' | undefined; waitMs?: number | undefined }
  | { type: 'upstream-health'; upstream: string; healthy: boolean; cooldownMs: number }
  /**
   * An upstream was ejected (failed probe, or `ejectAfterFailures` failed calls in a row), is
   * loading its model (its `/health` answered 503), or is back after a good probe. `error`: why it went out.
   */
  | { type: 'upstream-state'; upstream: string; state: 'healthy' | 'ejected' | 'loading'; error: string | undefined }
  /**
   * Cache-aware routing with slot affinity: llama.cpp's `/slots` showed that the server used slots behind the
   * gateway's back (`reused`: those slots; another client, an erase) or restarted (`restarted`: all of them), and
   * the prefix index forgot what they held (src/gateway/llama-slots.ts).
   */
  | { type: 'upstream-slots'; upstream: string; reason: 'reused'; slots: readonly number[] }
  | { type: 'upstream-slots'; upstream: string; reason: 'restarted' }
  /** An upstream's `/v1/models` was read (`models`), or could not be (`error`; it then serves any model until it answers). */
  | { type: 'upstream-models'; upstream: string; models: string[] | undefined; error: string | undefined }
  /** Something in the configuration that will not work as meant (a variant whose model no upstream serves). */
  | { type: 'warning'; message: string }
  /** A bug: a request failed on something no upstream or client did (500 `internal_error`); `stack` for the log. */
  | { type: 'internal-error'; jobId: string; message: string; stack: string | undefined }
  /** An answer hook failed (the client's answer was not affected). */
  | { type: 'answer-hook-error'; jobId: string; message: string }
  /** A job had to wait: `upstream` is the one it waits for, `queued` the waiting jobs, it included. */
  | { type: 'job-queued'; jobId: string; kind: JobClass; upstream: string; queued: number }
  /**
   * A job got a slot. `route` is the sticky decision for a conversation (see `StickyRoute`:
   * `new`, `kept` with `slotReused` under slot affinity, or `moved` and why); undefined without one.
   * `cache`: with `routing: 'cache-aware'`, why the cost model chose (see `RouteChoice`).
   */
  | { type: 'job-start'; jobId: string; kind: JobClass; model: string | undefined; upstream: string; slot: number | undefined; waitMs: number; route: StickyRoute | undefined; cache?: RouteChoice | undefined }
  /** The tool-call detector recovered `count` calls a model wrote as text, in the format `format`. */
  | { type: 'tool-calls-recovered'; jobId: string; format: string; count: number }

/**
 * A metrics collector the gateway feeds and serves (`createGatewayMetrics` in `queuegate/observe`
 * is one, on prom-client): it gets every event, reads the gateway's state when scraped, and
 * renders the exposition text for `GET /metrics`.
 */
export interface GatewayMetricsSink {
  /** Called with every {@link GatewayEvent}, before `onEvent`. */
  observe(event: GatewayEvent): void
  /** Called once by `createGateway` with what a scrape reads (queue, slots, health, models). */
  bind(view: GatewayView): void
  /** The exposition body. */
  render(): Promise<string>
  /** Its content type (Prometheus text format). */
  readonly contentType: string
  /** Called once when the gateway closes: stop whatever the collector keeps running. */
  close?(): void
}

/** The gateway's state as a metrics collector or a dashboard reads it, at the moment it asks. */
export interface GatewayView {
  /** Queue and slots, per upstream. */
  snapshot(): SchedulerSnapshot
  /** An upstream's health state (`unknown` before its first probe or call) and whether it takes jobs. */
  health(upstream: string): { state: UpstreamState; serving: boolean }
  /** Model ids the gateway knows (configured, discovered, aliases, variants); undefined while any id is accepted. */
  models(): string[] | undefined
}

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** The upstream servers, as URLs or option objects. At least one. */
  upstreams: Array<UpstreamOptions | string>
  /**
   * Model ids the gateway advertises on `/v1/models` and accepts; a request for another model
   * gets 404 `model_not_found`. Upstreams' own `models` lists count too. @default none: any model, and `/v1/models` asks the upstreams
   */
  models?: string[] | undefined
  /**
   * Virtual model ids that rewrite a request for a real model: `{ id: 'qwen3-nothink', model: 'qwen3',
   * appendToUser: '/nothink', reasoning: 'strip' }`. Listed on `/v1/models`; answers carry the
   * variant's id. @default none
   */
  variants?: VariantOptions[] | undefined
  /**
   * Agents served as models, by id: `{ 'research-agent': agent }`. A chat request for the id runs
   * the agent (an async generator or function, see `Agent`): its model calls go through the
   * gateway's queue as batch jobs, its steps stream as `reasoning_content`, its answer is the
   * content. Listed on `/v1/models`. @default none
   */
  agents?: Record<string, Agent> | undefined
  /**
   * Gateway keys: when set, every `/v1/*` request needs one (`Authorization: Bearer <key>` or
   * `x-api-key`), else 401 `invalid_api_key`; `/healthz` and `/readyz` stay open. A key may carry
   * a `name` (shown in logs instead of the key) and a job `class` (a key for agents: `batch`).
   * @default none: no key needed
   */
  apiKeys?: Array<GatewayKeyOptions | string> | undefined
  /**
   * Public model ids for upstream ids: `{ 'qwen': 'Qwen3-30B-A3B-Q4_K_M.gguf' }` lists `qwen` on
   * `/v1/models`, sends the upstream id, and names `qwen` in answers. @default none
   */
  aliases?: Record<string, string> | undefined
  /**
   * Ask each upstream without configured `models` for its `/v1/models` at start (and every
   * `modelRefreshMs`, and when it answers 404), and route each model only to the upstreams that
   * serve it; an unknown model then gets 404 `model_not_found`. An upstream that cannot be asked
   * serves any model until it answers. @default true
   */
  discoverModels?: boolean | undefined
  /** How often the upstreams' model lists are read again, in ms. @default 60 000 */
  modelRefreshMs?: number | undefined
  /** Largest request body accepted, in bytes (413 beyond). @default 10 MiB */
  maxBodyBytes?: number | undefined
  /** Largest non-streamed upstream answer read, in bytes (502 beyond). @default 64 MiB */
  maxResponseBytes?: number | undefined
  /** Upstream read timeout: until the headers, and between two body chunks (504). @default 3 600 000 (1 h) */
  readTimeoutMs?: number | undefined
  /** Upstream connect timeout (502). @default 10 000 */
  connectTimeoutMs?: number | undefined
  /**
   * An upstream that cannot be reached sits out this long while another is healthy, and the job
   * runs elsewhere. @default 10 000
   */
  unhealthyCooldownMs?: number | undefined
  /**
   * Interval of the active health checks, in ms: each upstream's `GET /health` (llama.cpp; 503
   * while the model loads), or `GET {apiRoot}/models` where that path does not exist. A failed
   * probe ejects the upstream, a good one brings it back. 0 turns them off. @default 10 000
   */
  healthIntervalMs?: number | undefined
  /**
   * Failed model calls in a row (connect errors, resets, timeouts, 5xx) that eject an upstream
   * until a probe finds it healthy (without probes: for `unhealthyCooldownMs`). The last healthy
   * upstream serving a model is never ejected on failed calls alone. @default 3
   */
  ejectAfterFailures?: number | undefined
  /** Header that carries a conversation id for sticky routing. @default 'X-Chat-Id' */
  stickyHeader?: string | undefined
  /** How long a conversation stays with its upstream after its last turn. @default 600 000 (10 min) */
  stickyTtlMs?: number | undefined
  /** Jobs per slot by which a sticky upstream may be busier than the least-loaded before the conversation moves. @default 2 */
  stickyMaxImbalance?: number | undefined
  /** Conversations remembered for sticky routing (LRU). @default 100 000 */
  maxStickyKeys?: number | undefined
  /**
   * `'sticky'`: a conversation stays on its upstream (thread key). `'cache-aware'`: each request's prompt is
   * hashed block by block and the upstream with the least expected time to first token (wait + prefill of the
   * part not cached there) takes it, within `stickyMaxImbalance` (src/queue/cache-aware-router.ts). @default 'sticky'
   */
  routing?: 'sticky' | 'cache-aware' | undefined
  /**
   * The scheduler's state shared with other gateway replicas (slots, waiting order, sticky map):
   * `createRedisSchedulerState()` from `queuegate/server`. The gateway uses it and does not close it;
   * `stickyTtlMs` and `maxStickyKeys` are then the state's. @default this process's own
   */
  schedulerState?: SchedulerState | undefined
  /** A batch (agent) job that waited longer than this is served before newer interactive jobs. @default 30 000 */
  batchMaxWaitMs?: number | undefined
  /** Waiting jobs allowed (running ones not counted); beyond this 429 `queue_full`. @default 1000 */
  maxQueued?: number | undefined
  /** A job that waited longer gets 503 `queue_timeout`; 0 waits forever. @default 0 */
  maxWaitMs?: number | undefined
  /**
   * Retries of a model call that failed before its first byte reached the client (issue 12): on
   * another upstream in rotation that serves its model, for a 5xx, a 429, a reset or close before
   * the answer's headers, or a first-byte timeout; on the same upstream after its `Retry-After`
   * (up to 30 s) for a 429 or 503 when no other can serve. Never once bytes reached the client,
   * never for another 4xx. An upstream that cannot be reached at all (nothing was sent) is failed
   * over apart from this count. 0 turns retries off. @default 2
   */
  maxRetries?: number | undefined
  /**
   * Deadline for an answer's first byte after the request went upstream (a streamed answer's
   * first event; a non-streamed answer arrives whole, so all of it), in ms: 504 (retried under
   * `maxRetries`) before the answer started, an error event after its headers. @default 120 000
   */
  ttfbTimeoutMs?: number | undefined
  /**
   * Longest gap between two events of a streamed answer, in ms (a trickle of bytes that never
   * completes an event is a gap): the stream ends with an error event. @default 60 000
   */
  stallTimeoutMs?: number | undefined
  /** Longest a model call may run from its first lease, in ms; 0: no limit. @default 0 */
  maxDurationMs?: number | undefined
  /** How a waiting streaming client hears of its position. @default 'reasoning' */
  queueNotify?: QueueNotifyMode | undefined
  /** A streaming job still waiting after this long gets its first notice. @default 1200 */
  notifyAfterMs?: number | undefined
  /**
   * Notice text; `{position}`, `{queued}` and `{eta}` (seconds) are filled in.
   * @default 'Queued: position {position} of {queued}, about {eta}s'
   */
  queueMessage?: string | undefined
  /** Interval of SSE keep-alive comments while a streaming job waits. @default 15 000 */
  keepAliveMs?: number | undefined
  /** Recover tool calls that models write as text, for requests that declare tools. @default true */
  textToolCalls?: boolean | undefined
  /** Default tool mode (`X-Tool-Mode` overrides per request). @default 'execute' when a tool registry or tool servers are configured, else 'passthrough' */
  toolMode?: ToolMode | undefined
  /**
   * Server-side tools, prebuilt (`createToolRegistry`): in `execute` mode their definitions are
   * added to the upstream request and the gateway runs the model's calls to them, calling the
   * model again until it answers. Used instead of one built from `toolServers`/`mcpServers`;
   * the gateway does not close it. @default none
   */
  toolRegistry?: ToolRegistry | undefined
  /** Execute mode: add the registry's tool definitions to the upstream request's `tools` (the client's own kept). @default true */
  injectTools?: boolean | undefined
  /**
   * Execute mode: a call to a tool neither the client declared nor the registry has. `error`: the
   * model is told it does not exist and which do; `passthrough`: handed to the client;
   * `ignore`: dropped. @default 'error'
   */
  unknownToolPolicy?: UnknownToolPolicy | undefined
  /** Execute mode: tool rounds per request; then the model is asked once more without tools. @default 6 */
  maxToolIters?: number | undefined
  /**
   * Execute mode: give the slot back while tools run; the next round queues again (sticky to the
   * same upstream and llama.cpp slot). @default false: the slot is held for the whole loop (its cache stays warm)
   */
  releaseSlotDuringTools?: boolean | undefined
  /**
   * `<think>…</think>` (also `<thinking>`, `<seed:think>`, `&lt;think&gt;`) in chat content:
   * moved to `reasoning_content` (`split`), removed (`strip`), or left in content (`keep`: no
   * transform at all). With `split` a streamed answer stays on the byte path until an event could
   * hold a tag or a reasoning field (a byte-level trigger, `reasoning/reasoning-trigger.ts`), and a
   * whole answer with neither passes as bytes without a parse: on tag-free answers it costs about
   * what `keep` does (README, "Reasoning", for the figures).
   * @default 'split'
   */
  reasoning?: ReasoningMode | undefined
  /** Forward the upstream's reasoning fields (`reasoning_content`, `reasoning`, `thinking`) as `reasoning_content`; false drops them. @default true */
  forwardReasoning?: boolean | undefined
  /**
   * Whether chat replies start inside a think block the prompt opened (Qwen3-Thinking, QwQ and
   * DeepSeek-R1 templates end the generation prompt with `<think>`, so the reply holds only the
   * `</think>`). `true`: every reply's text is reasoning until a close tag; `false`: never (a
   * stray close tag mid-stream stays text). `'auto'`: learnt per model and thinking switches
   * (`chat_template_kwargs`, `reasoning_effort`, a `/think`/`/no_think` marker in the last user
   * message): after a reply of that model held a close tag with no open tag before it, its later
   * replies start inside (at most 256 such keys are remembered; one that then ends with no close
   * tag is forgotten); llama.cpp's `/props` is read once per upstream, and a `chat_template` that
   * ends its generation prompt with `<think>` marks its models so from the start. A non-streamed
   * answer always reads a leading orphan close tag this way.
   * Per variant: `reasoningStartsInThink`. Only with `split`/`strip`. @default 'auto'
   */
  reasoningStartsInThink?: 'auto' | boolean | undefined
  /**
   * Characters held at the start of a streamed reply while a `</think>` with no `<think>` before
   * it could still make them reasoning (a reply that starts inside a block, before `auto` has
   * learnt it). It delays the first token of every reply shorter than the window. @default 0 (off)
   */
  reasoningStartWindow?: number | undefined
  /**
   * Refuse request bodies whose `Content-Type` is not JSON (`application/json`, `application/…+json`)
   * with 415 `unsupported_media_type`: a web page can post `text/plain` or a form to a service on
   * localhost without CORS, but not JSON. Off by default because `new Request(url, { method: 'POST',
   * body: string })` sends `text/plain`; the CLI turns it on (`--no-require-json` off). @default false
   */
  requireJsonContentType?: boolean | undefined
  /**
   * Host names the gateway answers to (the `Host` header, any port); others get 403
   * `host_not_allowed`, against DNS rebinding. `.example.org` allows a domain and its subdomains,
   * `*` any host. The CLI sets `localhost`, `127.0.0.1`, `[::1]` plus `--allowed-hosts` when it
   * listens on loopback. @default undefined: any host
   */
  allowedHosts?: string[] | undefined
  /**
   * Browser origins allowed to call the gateway (`http://localhost:3000`; `*` for any): their
   * preflights are answered and answers carry `Access-Control-Allow-Origin`. @default none: no CORS headers
   */
  corsOrigins?: string[] | undefined
  /**
   * OpenAPI tool servers (Open WebUI / mcpo style: `GET {url}/openapi.json`, one `POST` per
   * tool), as URLs or `{ url, prefix, apiKey, name, namePrefix }`: `prefix` keeps only the
   * operations below a path, `apiKey` is sent as a bearer key to that server only, `namePrefix`
   * names its tools `{namePrefix}__{tool}`. Their tools form the gateway's tool registry. @default none
   */
  toolServers?: Array<OpenApiServerOptions | string> | undefined
  /** MCP servers over Streamable HTTP, as URLs or `{ url, headers, name, namePrefix }`. @default none */
  mcpServers?: Array<McpServerOptions | string> | undefined
  /** Longest a tool call may take, in ms (the model then gets `tool_timeout`). @default 60 000 */
  toolTimeoutMs?: number | undefined
  /** Largest tool result passed to the model, in bytes (a longer one is cut, with a note). @default 65 536 */
  toolMaxBytes?: number | undefined
  /** Tool lists are read again when older than this, in ms. @default 300 000 */
  toolSchemaTtlMs?: number | undefined
  /** Finished jobs kept for `GET /v1/jobs/{id}`. @default 10 000 */
  maxFinishedJobs?: number | undefined
  /**
   * Serve the live dashboard: the page on `GET /` and `/dashboard`, its data on
   * `GET /v1/dashboard/state` and `/v1/dashboard/events` (SSE; gateway keys apply). Off by default
   * in the library (a gateway mounted in an app should not take its `/`); the CLI turns it on
   * (`--no-dashboard` off). @default false
   */
  dashboard?: boolean | undefined
  /**
   * Chat memory: notes per conversation, the relevant ones injected before the call (the history
   * trimmed to its last turns), each turn stored after it; `GET`/`DELETE /v1/memory/{namespace}`.
   * @example memory: { store: 'local', storage: createMemoryFile('memory.jsonl') }
   * @default off
   */
  memory?: MemoryOptions | undefined
  /** Receives every {@link GatewayEvent}: one per finished request, per job start, per upstream failure, … */
  onEvent?: ((event: GatewayEvent) => void) | undefined
  /**
   * `request-end` events carry the request body (`body`: message text, the first 16 KiB), for
   * debugging. Off, no event holds message text. @default false
   */
  logBodies?: boolean | undefined
  /**
   * A metrics collector (`createGatewayMetrics()` from `queuegate/observe`): fed every event, and
   * served on `GET /metrics` unless `metricsPath` is false. @default none: no `/metrics`
   */
  metrics?: GatewayMetricsSink | undefined
  /**
   * Where the gateway serves `metrics` on its own port (behind the gateway keys when there are
   * some: the labels name the upstreams); false serves it nowhere (the CLI's `--metrics-port`
   * serves it on a listener of its own). @default '/metrics'
   */
  metricsPath?: string | false | undefined
  /** Test seams. */
  _internal?:
    | {
        /** Wall-clock time (and, unless `clock` says otherwise, the scheduler's time too). */
        now?: (() => number) | undefined
        /** Time and timers for every piece (cooldowns, notices, the model refresh, the scheduler). */
        clock?: Partial<Clock> | undefined
        generateId?: (() => string) | undefined
        /** Replaces the call plan's stages (given the default ones, in order). */
        stages?: ((defaults: CallStage[]) => CallStage[]) | undefined
        /** Builds each upstream's dispatcher instead of an undici Pool (the core bench, fault tests). */
        dispatcherFactory?: UpstreamPoolOptions['dispatcherFactory']
      }
    | undefined
}

/** Options after defaults and validation. */
export type ResolvedGatewayOptions = Required<Omit<GatewayOptions, 'models' | 'onEvent' | '_internal' | 'upstreams' | 'aliases' | 'apiKeys' | 'variants' | 'agents' | 'toolServers' | 'mcpServers' | 'toolRegistry' | 'memory' | 'allowedHosts' | 'corsOrigins' | 'metrics' | 'metricsPath' | 'schedulerState'>> & {
  metrics: GatewayMetricsSink | undefined
  /** The shared scheduler state, when given. */
  schedulerState: SchedulerState | undefined
  metricsPath: string | false
  /** Off: undefined. */
  memory: ResolvedMemoryOptions | undefined
  toolRegistry: ToolRegistry | undefined
  /** Undefined: any host. */
  allowedHosts: AllowedHosts | undefined
  /** Undefined: no CORS. */
  corsOrigins: CorsPolicy | undefined
  variants: Map<string, Variant>
  agents: Map<string, Agent>
  apiKeys: GatewayKey[]
  upstreams: UpstreamOptions[]
  models: string[]
  aliases: Map<string, string>
  onEvent: ((event: GatewayEvent) => void) | undefined
  toolServers: Array<OpenApiServerOptions | string>
  mcpServers: Array<McpServerOptions | string>
  /** Wall-clock time (the clock's `now`). */
  now: () => number
  clock: Clock
  generateId: () => string
  stages: ((defaults: CallStage[]) => CallStage[]) | undefined
  dispatcherFactory: UpstreamPoolOptions['dispatcherFactory']
}

const QUEUE_NOTIFY_MODES: readonly QueueNotifyMode[] = ['reasoning', 'content', 'comment', 'never']
const TOOL_MODES: readonly ToolMode[] = ['execute', 'passthrough', 'suppress']
const UNKNOWN_TOOL_POLICIES: readonly UnknownToolPolicy[] = ['error', 'passthrough', 'ignore']
const REASONING_MODES: readonly ReasoningMode[] = ['split', 'strip', 'keep']

/** Applies defaults and throws a `TypeError` naming the first bad option. */
export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('createGateway: expected an options object')
  const {
    upstreams,
    models = [],
    apiKeys = [],
    variants = [],
    agents = {},
    aliases = {},
    discoverModels = true,
    modelRefreshMs = 60_000,
    maxBodyBytes = 10 * 1024 * 1024,
    maxResponseBytes = 64 * 1024 * 1024,
    readTimeoutMs = 3_600_000,
    connectTimeoutMs = 10_000,
    unhealthyCooldownMs = 10_000,
    healthIntervalMs = 10_000,
    ejectAfterFailures = 3,
    maxRetries = 2,
    ttfbTimeoutMs = 120_000,
    stallTimeoutMs = 60_000,
    maxDurationMs = 0,
    stickyHeader = 'X-Chat-Id',
    stickyTtlMs = 600_000,
    stickyMaxImbalance = 2,
    maxStickyKeys = 100_000,
    routing = 'sticky',
    schedulerState,
    batchMaxWaitMs = 30_000,
    maxQueued = 1000,
    maxWaitMs = 0,
    queueNotify = 'reasoning',
    notifyAfterMs = 1200,
    queueMessage = 'Queued: position {position} of {queued}, about {eta}s',
    keepAliveMs = 15_000,
    textToolCalls = true,
    toolRegistry,
    // Tool servers make a registry too (gateway-services.ts builds it).
    toolMode = toolRegistry !== undefined || (Array.isArray(options.toolServers) && options.toolServers.length > 0) || (Array.isArray(options.mcpServers) && options.mcpServers.length > 0) ? 'execute' : 'passthrough',
    injectTools = true,
    unknownToolPolicy = 'error',
    maxToolIters = 6,
    releaseSlotDuringTools = false,
    reasoning = 'split',
    forwardReasoning = true,
    reasoningStartsInThink = 'auto',
    reasoningStartWindow = 0,
    maxFinishedJobs = 10_000,
    requireJsonContentType = false,
    allowedHosts,
    corsOrigins,
    memory,
    toolServers = [],
    mcpServers = [],
    toolTimeoutMs = 60_000,
    toolMaxBytes = 65_536,
    toolSchemaTtlMs = 300_000,
    dashboard = false,
    onEvent: clientOnEvent,
    metrics,
    metricsPath = '/metrics',
    logBodies = false,
    _internal = {},
  } = options
  if (!Array.isArray(upstreams) || upstreams.length === 0) {
    throw new TypeError(`upstreams: expected at least one upstream URL, got ${JSON.stringify(upstreams)}`)
  }
  const normalized = upstreams.map((upstream) => (typeof upstream === 'string' ? { url: upstream } : upstream))
  for (const upstream of normalized) {
    if (typeof upstream !== 'object' || upstream === null || typeof upstream.url !== 'string') {
      throw new TypeError(`upstreams: expected { url } objects or URL strings, got ${JSON.stringify(upstream)}`)
    }
  }
  if (!Array.isArray(models) || models.some((model) => typeof model !== 'string' || model.trim() === '')) {
    throw new TypeError(`models: expected a list of model ids, got ${JSON.stringify(models)}`)
  }
  if (typeof aliases !== 'object' || aliases === null || Array.isArray(aliases)) throw new TypeError(`aliases: expected an object of public id → upstream model id, got ${JSON.stringify(aliases)}`)
  for (const [id, target] of Object.entries(aliases)) {
    if (id.trim() === '' || typeof target !== 'string' || target.trim() === '') throw new TypeError(`aliases: expected non-empty model ids, got ${JSON.stringify(id)} → ${JSON.stringify(target)}`)
  }
  if (typeof discoverModels !== 'boolean') throw new TypeError(`discoverModels: expected true or false, got ${JSON.stringify(discoverModels)}`)
  positiveInteger('modelRefreshMs', modelRefreshMs)
  positiveInteger('maxBodyBytes', maxBodyBytes)
  positiveInteger('maxResponseBytes', maxResponseBytes)
  positiveInteger('readTimeoutMs', readTimeoutMs)
  positiveInteger('connectTimeoutMs', connectTimeoutMs)
  positiveInteger('unhealthyCooldownMs', unhealthyCooldownMs)
  nonNegativeInteger('healthIntervalMs', healthIntervalMs)
  positiveInteger('ejectAfterFailures', ejectAfterFailures)
  nonNegativeInteger('maxRetries', maxRetries)
  positiveInteger('ttfbTimeoutMs', ttfbTimeoutMs)
  positiveInteger('stallTimeoutMs', stallTimeoutMs)
  nonNegativeInteger('maxDurationMs', maxDurationMs)
  positiveInteger('stickyTtlMs', stickyTtlMs)
  nonNegativeNumber('stickyMaxImbalance', stickyMaxImbalance)
  positiveInteger('maxStickyKeys', maxStickyKeys)
  if (routing !== 'sticky' && routing !== 'cache-aware') throw new TypeError(`routing must be 'sticky' or 'cache-aware', got ${JSON.stringify(routing)}`)
  nonNegativeNumber('batchMaxWaitMs', batchMaxWaitMs)
  nonNegativeInteger('maxQueued', maxQueued)
  nonNegativeNumber('maxWaitMs', maxWaitMs)
  nonNegativeNumber('notifyAfterMs', notifyAfterMs)
  positiveInteger('keepAliveMs', keepAliveMs)
  positiveInteger('maxFinishedJobs', maxFinishedJobs)
  if (!Array.isArray(toolServers)) throw new TypeError('toolServers: expected a list of URLs or { url } objects')
  if (!Array.isArray(mcpServers)) throw new TypeError('mcpServers: expected a list of URLs or { url } objects')
  positiveInteger('toolTimeoutMs', toolTimeoutMs)
  positiveInteger('toolMaxBytes', toolMaxBytes)
  positiveInteger('toolSchemaTtlMs', toolSchemaTtlMs)
  if (typeof stickyHeader !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(stickyHeader)) {
    throw new TypeError(`stickyHeader: expected an HTTP header name, got ${JSON.stringify(stickyHeader)}`)
  }
  if (!QUEUE_NOTIFY_MODES.includes(queueNotify)) {
    throw new TypeError(`queueNotify: expected one of ${QUEUE_NOTIFY_MODES.join(', ')}, got ${JSON.stringify(queueNotify)}`)
  }
  if (!TOOL_MODES.includes(toolMode)) {
    throw new TypeError(`toolMode: expected one of ${TOOL_MODES.join(', ')}, got ${JSON.stringify(toolMode)}`)
  }
  if (toolRegistry !== undefined && (typeof toolRegistry !== 'object' || toolRegistry === null || typeof toolRegistry.call !== 'function' || typeof toolRegistry.definitions !== 'function')) {
    throw new TypeError('toolRegistry: expected a ToolRegistry (createToolRegistry)')
  }
  if (typeof injectTools !== 'boolean') throw new TypeError(`injectTools: expected true or false, got ${JSON.stringify(injectTools)}`)
  if (!UNKNOWN_TOOL_POLICIES.includes(unknownToolPolicy)) {
    throw new TypeError(`unknownToolPolicy: expected one of ${UNKNOWN_TOOL_POLICIES.join(', ')}, got ${JSON.stringify(unknownToolPolicy)}`)
  }
  nonNegativeInteger('maxToolIters', maxToolIters)
  if (typeof releaseSlotDuringTools !== 'boolean') throw new TypeError(`releaseSlotDuringTools: expected true or false, got ${JSON.stringify(releaseSlotDuringTools)}`)
  if (!REASONING_MODES.includes(reasoning)) {
    throw new TypeError(`reasoning: expected one of ${REASONING_MODES.join(', ')}, got ${JSON.stringify(reasoning)}`)
  }
  if (typeof forwardReasoning !== 'boolean') throw new TypeError(`forwardReasoning: expected true or false, got ${JSON.stringify(forwardReasoning)}`)
  if (reasoningStartsInThink !== 'auto' && typeof reasoningStartsInThink !== 'boolean') {
    throw new TypeError(`reasoningStartsInThink: expected "auto", true or false, got ${JSON.stringify(reasoningStartsInThink)}`)
  }
  if (typeof reasoningStartWindow !== 'number' || !Number.isInteger(reasoningStartWindow) || reasoningStartWindow < 0) {
    throw new TypeError(`reasoningStartWindow: expected a whole number of characters >= 0, got ${JSON.stringify(reasoningStartWindow)}`)
  }
  if (typeof queueMessage !== 'string') throw new TypeError(`queueMessage: expected a string, got ${JSON.stringify(queueMessage)}`)
  if (typeof logBodies !== 'boolean') throw new TypeError(`logBodies: expected true or false, got ${JSON.stringify(logBodies)}`)
  if (typeof textToolCalls !== 'boolean') throw new TypeError(`textToolCalls: expected true or false, got ${JSON.stringify(textToolCalls)}`)
  if (typeof requireJsonContentType !== 'boolean') throw new TypeError(`requireJsonContentType: expected true or false, got ${JSON.stringify(requireJsonContentType)}`)
  if (clientOnEvent !== undefined && typeof clientOnEvent !== 'function') throw new TypeError('onEvent: expected a function')
  if (metrics !== undefined && (typeof metrics !== 'object' || metrics === null || typeof metrics.observe !== 'function' || typeof metrics.render !== 'function' || typeof metrics.bind !== 'function')) {
    throw new TypeError('metrics: expected a metrics collector (createGatewayMetrics() from queuegate/observe)')
  }
  if (metricsPath !== false && (typeof metricsPath !== 'string' || !metricsPath.startsWith('/') || metricsPath.startsWith('/v1/'))) {
    throw new TypeError(`metricsPath: expected a path like /metrics (not under /v1/), or false, got ${JSON.stringify(metricsPath)}`)
  }
  // The collector sees every event first; one function either way (nothing to check per event).
  const onEvent =
    metrics === undefined
      ? clientOnEvent
      : clientOnEvent === undefined
        ? (event: GatewayEvent) => metrics.observe(event)
        : (event: GatewayEvent) => {
            metrics.observe(event)
            clientOnEvent(event)
          }
  if (typeof dashboard !== 'boolean') throw new TypeError(`dashboard: expected true or false, got ${JSON.stringify(dashboard)}`)
  const resolvedVariants = resolveVariants(variants)
  const clock = _internal.clock === undefined && _internal.now === undefined ? systemClock : clockWith({ ...(_internal.now === undefined ? {} : { now: _internal.now }), ..._internal.clock })
  return {
    upstreams: normalized,
    models: models.map((model) => model.trim()),
    aliases: new Map(Object.entries(aliases).map(([id, target]) => [id.trim(), target.trim()])),
    apiKeys: resolveGatewayKeys(apiKeys),
    variants: resolvedVariants,
    agents: resolveAgents(agents, resolvedVariants),
    discoverModels,
    modelRefreshMs,
    maxBodyBytes,
    maxResponseBytes,
    readTimeoutMs,
    connectTimeoutMs,
    unhealthyCooldownMs,
    healthIntervalMs,
    ejectAfterFailures,
    maxRetries,
    ttfbTimeoutMs,
    stallTimeoutMs,
    maxDurationMs,
    stickyHeader,
    stickyTtlMs,
    stickyMaxImbalance,
    maxStickyKeys,
    routing,
    schedulerState,
    batchMaxWaitMs,
    maxQueued,
    maxWaitMs,
    queueNotify,
    notifyAfterMs,
    queueMessage,
    keepAliveMs,
    textToolCalls,
    toolMode,
    toolRegistry,
    injectTools,
    unknownToolPolicy,
    maxToolIters,
    releaseSlotDuringTools,
    reasoning,
    forwardReasoning,
    reasoningStartsInThink,
    reasoningStartWindow,
    maxFinishedJobs,
    requireJsonContentType,
    allowedHosts: resolveAllowedHosts(allowedHosts),
    corsOrigins: resolveCorsOrigins(corsOrigins),
    memory: resolveMemoryOptions(memory),
    toolServers,
    mcpServers,
    toolTimeoutMs,
    toolMaxBytes,
    toolSchemaTtlMs,
    dashboard,
    onEvent,
    metrics,
    metricsPath,
    logBodies,
    now: clock.now,
    clock,
    generateId: _internal.generateId ?? (() => crypto.randomUUID().replaceAll('-', '')),
    dispatcherFactory: _internal.dispatcherFactory,
    stages: _internal.stages,
  }
}

function positiveInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${name}: expected a whole number >= 1, got ${JSON.stringify(value)}`)
  }
}

function nonNegativeInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`${name}: expected a whole number >= 0, got ${JSON.stringify(value)}`)
  }
}

function nonNegativeNumber(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name}: expected a number >= 0, got ${JSON.stringify(value)}`)
  }
}

/** Agents by id; an id must be unique among agents and variants. */
function resolveAgents(agents: Record<string, Agent>, variants: ReadonlyMap<string, Variant>): Map<string, Agent> {
  if (typeof agents !== 'object' || agents === null || Array.isArray(agents)) throw new TypeError(`agents: expected an object of model id → agent function, got ${JSON.stringify(agents)}`)
  const resolved = new Map<string, Agent>()
  for (const [id, agent] of Object.entries(agents)) {
    if (id.trim() === '' || id !== id.trim()) throw new TypeError(`agents: expected model ids without surrounding spaces, got ${JSON.stringify(id)}`)
    if (typeof agent !== 'function') throw new TypeError(`agents: ${JSON.stringify(id)} is not a function (an agent is an async generator function or a function)`)
    if (variants.has(id)) throw new TypeError(`agents: ${JSON.stringify(id)} is also a variant's id`)
    resolved.set(id, agent)
  }
  return resolved
}
