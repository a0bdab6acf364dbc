/**
 * The `queuegate` command line: flags, help and version (commander). Parsing only; `main.ts`
 * starts the server.
 * @module
 */
import { Command } from 'commander'
import packageJson from '../../package.json' with { type: 'json' }

/** A repeatable option's values, comma-joined (the settings parser splits them). */
function joinRepeated(value: string, previous: string | undefined): string {
  return previous === undefined ? value : `${previous},${value}`
}

/** Builds the commander program; `action` receives the parsed flags. */
export function createProgram(action: (flags: Record<string, string | boolean | undefined>) => Promise<void> | void): Command {
  const program = new Command()
  program
    .name('queuegate')
    .description('OpenAI-compatible gateway: a prioritized queue with sticky routing in front of self-hosted LLM servers.')
    .version(packageJson.version, '-v, --version')
    .option('-u, --upstreams <urls>', 'comma-separated upstream URLs, e.g. http://gpu1:8080/v1 (env LLM_UPSTREAMS)')
    .option('-p, --port <port>', 'port to listen on (env PORT) [default: 8080]')
    .option('--host <host>', 'address to listen on (env HOST) [default: 127.0.0.1]')
    .option('--slots <n>', 'requests each upstream serves at once, unless the config file says (env LLM_SLOTS) [default: 1]')
    .option('--models <ids>', 'comma-separated model ids to advertise and accept (env PROXY_MODELS or LLM_MODELS) [default: ask the upstreams]')
    .option('--model-alias <public=upstream>', 'list `public` on /v1/models and send the upstream id `upstream`; repeatable or comma-separated (env MODEL_ALIASES)', joinRepeated)
    .option('--model-discovery', "route each model to the upstreams whose /v1/models list it (env MODEL_DISCOVERY) [default: on]")
    .option('--no-model-discovery', 'do not read the upstreams\' model lists for routing (any upstream serves any model)')
    .option('--model-refresh <seconds>', 'how often the upstreams\' model lists are read again (env MODEL_REFRESH_SEC) [default: 60]')
    .option('--health-interval <seconds>', 'interval of the upstream health probes (GET /health, else /v1/models), 0 = none (env HEALTH_INTERVAL_SEC) [default: 10]')
    .option('--max-retries <n>', 'retries of a call that failed before its answer started, on another upstream (env MAX_RETRIES) [default: 2]')
    .option('--ttfb-timeout <seconds>', "deadline for an answer's first byte: 504, retried elsewhere (env TTFB_TIMEOUT_SEC) [default: 120]")
    .option('--stall-timeout <seconds>', 'longest gap between two events of a streamed answer (env STALL_TIMEOUT_SEC) [default: 60]')
    .option('--max-duration <seconds>', 'longest a model call may run, 0 = no limit (env MAX_DURATION_SEC) [default: 0]')
    .option('--variant <spec>', "a model variant: 'id=model,append=/nothink,system=…,reasoning=strip'; repeatable (env QUEUEGATE_VARIANTS, ';'-separated)", (value: string, previous: string | undefined) => (previous === undefined ? value : `${previous};${value}`))
    .option('--agent <module>', 'serve an agent as a model: a module whose default export is the agent (id: its `id` export, else the file name); repeatable (env QUEUEGATE_AGENTS)', joinRepeated)
    .option('--api-key <key>', 'a gateway key clients must send (Authorization: Bearer); repeatable or comma-separated (env QUEUEGATE_API_KEYS)', joinRepeated)
    .option('--upstream-key <key>', 'sent upstream as Authorization: Bearer to upstreams without their own apiKey (env UPSTREAM_API_KEY, HF_TOKEN)')
    .option('-c, --config <file>', 'JSON5 config file; flags and env override it (env QUEUEGATE_CONFIG)')
    .option('--read-timeout <seconds>', 'upstream read timeout (env LLM_READ_TIMEOUT) [default: 3600]')
    .option('--log-level <level>', 'silent, error, warn, info or debug (env LOG_LEVEL) [default: info]')
    .option('--sticky-header <name>', 'header with the conversation id (env STICKY_HEADER) [default: X-Chat-Id]')
    .option('--sticky-ttl <seconds>', 'how long a conversation stays on its upstream (env AFFINITY_TTL_SEC) [default: 600]')
    .option('--slot-affinity', 'llama.cpp: pin each conversation to one slot with id_slot (env SLOT_AFFINITY)')
    .option('--batch-max-wait-ms <ms>', 'agent jobs that waited this long go before newer chat (env BATCH_MAX_WAIT_MS) [default: 30000]')
    .option('--max-queued <n>', 'waiting jobs before 429 queue_full (env MAX_QUEUED) [default: 1000]')
    .option('--max-wait-ms <ms>', 'longest wait before 503 queue_timeout, 0 = none (env MAX_WAIT_MS) [default: 0]')
    .option('--notify-after-ms <ms>', 'queued this long, a streaming client gets a notice (env QUEUE_NOTIFY_MIN_MS) [default: 1200]')
    .option('--queue-notify <mode>', 'reasoning, content, comment or never (env QUEUE_NOTIFY_USER) [default: reasoning]')
    .option('--queue-message <template>', 'notice text with {position}, {queued}, {eta} (env QUEUE_MESSAGE)')
    .option('--text-toolcalls', 'recover tool calls written as text (env TEXT_TOOLCALL_DETECT) [default: on]')
    .option('--no-text-toolcalls', 'do not recover tool calls written as text')
    .option('--tool-mode <mode>', 'execute (the gateway runs its tool servers\' tools), passthrough or suppress (env TOOLCALL_MODE) [default: execute with tool servers, else passthrough]')
    .option('--toolserver <url>', 'an OpenAPI tool server (GET {url}/openapi.json, one POST per tool); repeatable or comma-separated (env TOOLSERVER_URL)', joinRepeated)
    .option('--toolserver-prefix <path>', 'only POST operations below this path are tools (env TOOLSERVER_PREFIX) [default: every POST operation]')
    .option('--mcp <url>', 'an MCP server (Streamable HTTP); repeatable or comma-separated (env MCP_SERVERS)', joinRepeated)
    .option('--tool-timeout <seconds>', 'longest a tool call may take (env TOOL_TIMEOUT_SEC) [default: 60]')
    .option('--tool-max-bytes <n>', 'largest tool result passed to the model; a longer one is cut (env TOOL_MAX_BYTES) [default: 65536]')
    .option('--tool-schema-ttl <seconds>', 'tool lists are read again after this (env TOOLSERVER_SCHEMA_TTL_SEC) [default: 300]')
    .option('--inject-tools', 'execute mode: add the tool servers\' tools to the upstream request (env INJECT_TOOLS) [default: on]')
    .option('--no-inject-tools', 'execute mode: do not add the tool servers\' tools to the request (the calls still run)')
    .option('--unknown-tool-policy <policy>', 'execute mode, a call to a tool nobody declared: error (the model is told), passthrough (to the client) or ignore (env UNKNOWN_TOOL_POLICY) [default: error]')
    .option('--max-tool-iters <n>', 'execute mode: tool rounds per request, then one answer without tools (env MAX_TOOL_ITERS) [default: 6]')
    .option('--release-slot-during-tools', 'execute mode: give the slot back while tools run; the next round queues again, sticky (env RELEASE_SLOT_DURING_TOOLS)')
    .option('--reasoning <mode>', '<think> blocks in content: split (to reasoning_content), strip or keep (env REASONING_MODE) [default: keep]')
    .option('--forward-reasoning', "forward the upstream's reasoning fields as reasoning_content (env FORWARD_REASONING) [default: on]")
    .option('--no-forward-reasoning', "drop the upstream's reasoning fields")
    .option('--max-body-bytes <n>', 'largest request body (env MAX_BODY_BYTES) [default: 10485760]')
    .option('--memory <store>', 'chat memory: off, local (in process) or toolserver (memory_query/memory_upsert tools) (env QUEUEGATE_MEMORY; CHAT_MEMORY_ENABLE=true: toolserver with TOOLSERVER_URL, else local) [default: off]')
    .option('--memory-file <path>', 'local memory: the JSONL log notes are kept in and reloaded from (env QUEUEGATE_MEMORY_FILE) [default: none, in memory only]')
    .option('--memory-max-items <n>', 'local memory: notes kept per conversation, oldest dropped (env CHAT_MEMORY_MAX_ITEMS) [default: 2000]')
    .option('--memory-max-total-items <n>', 'local memory: notes kept in all (env CHAT_MEMORY_MAX_TOTAL_ITEMS) [default: 100000]')
    .option('--memory-embeddings <model>', "local memory: rank by embeddings too, from an upstream's /v1/embeddings with this model (env CHAT_MEMORY_EMBEDDINGS) [default: full text only]")
    .option('--memory-timeout <seconds>', 'longest wait for memory; past it the chat goes on without (env CHAT_MEMORY_TIMEOUT_SEC) [default: 2]')
    .option('--memory-truncate-history', 'when notes come back, send only system messages and the last turns (env CHAT_MEMORY_TRUNCATE_HISTORY) [default: on]')
    .option('--no-memory-truncate-history', 'keep the whole history when notes are injected')
    .option('--memory-keep-last <n>', 'user/assistant messages kept when history is trimmed (env CHAT_MEMORY_KEEP_LAST) [default: 4]')
    .option('--memory-query-k <n>', 'notes injected at most (env CHAT_MEMORY_QUERY_K) [default: 8]')
    .option('--memory-upsert', 'store each turn after the answer (env CHAT_MEMORY_UPSERT) [default: on]')
    .option('--no-memory-upsert', 'do not store turns (read-only memory)')
    .option('--memory-inject-role <role>', 'role of the notes message: system or user (env CHAT_MEMORY_INJECT_ROLE) [default: system]')
    .option('--memory-hint', 'tell the model it can call memory_query (env CHAT_MEMORY_HINT) [default: on with toolserver]')
    .option('--no-memory-hint', 'no memory_query hint')
    .option('--memory-max-upsert-chars <n>', 'longest text stored per message (env CHAT_MEMORY_MAX_UPSERT_CHARS) [default: 12000]')
    .option('--memory-for-agents', 'agent (batch) requests use memory too (env CHAT_MEMORY_FOR_AGENTS) [default: off]')
    .option('--dashboard', 'serve the live dashboard on / and /dashboard (env QUEUEGATE_DASHBOARD) [default: on]')
    .option('--no-dashboard', 'no dashboard page (and no /v1/dashboard/* endpoints)')
    .option('--demo', 'no GPU needed: start two simulated llama.cpp servers on loopback and serve them (try it, watch the dashboard)')
    .option('--shutdown-grace-ms <ms>', 'on SIGINT/SIGTERM, time running requests get to finish (env SHUTDOWN_GRACE_MS) [default: 10000]')
    .showHelpAfterError()
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      await action(flags)
    })
  return program
}
