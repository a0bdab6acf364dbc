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
    .option('--tool-mode <mode>', 'passthrough or suppress (env TOOLCALL_MODE) [default: passthrough]')
    .option('--reasoning <mode>', '<think> blocks in content: split (to reasoning_content), strip or keep (env REASONING_MODE) [default: keep]')
    .option('--forward-reasoning', "forward the upstream's reasoning fields as reasoning_content (env FORWARD_REASONING) [default: on]")
    .option('--no-forward-reasoning', "drop the upstream's reasoning fields")
    .option('--max-body-bytes <n>', 'largest request body (env MAX_BODY_BYTES) [default: 10485760]')
    .option('--shutdown-grace-ms <ms>', 'on SIGINT/SIGTERM, time running requests get to finish (env SHUTDOWN_GRACE_MS) [default: 10000]')
    .showHelpAfterError()
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      await action(flags)
    })
  return program
}
