/**
 * The one options object of {@link createGateway}, as given and as resolved (resolve-gateway-options.ts applies
 * the defaults and validates it). The CLI builds the same object from flags, environment and the config file.
 * @module
 */
import type { ReasoningMode } from '../reasoning/reasoning-transform.js'
import type { CallStage } from './call-plan.js'
import type { Clock } from './clock.js'
import type { UpstreamOptions, UpstreamPoolOptions } from './upstream.js'
import type { Variant, VariantOptions } from './variants.js'
import type { GatewayKey, GatewayKeyOptions } from './gateway-keys.js'
import type { SchedulerState } from '../queue/scheduler-state.js'
import type { AllowedHosts } from './allowed-hosts.js'
import type { CorsPolicy } from './cors.js'
import type { MemoryOptions, ResolvedMemoryOptions } from './memory-options.js'
import type { McpServerOptions } from '../tools/mcp-source.js'
import type { OpenApiServerOptions } from '../tools/openapi-source.js'
import type { ToolRegistry } from '../tools/types.js'
import type { Agent } from '../agents/types.js'
import type { GatewayEvent, GatewayMetricsSink } from './gateway-events.js'

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
