/**
 * The execute loop's own cost: the time one tool round adds beyond the tool's own time and the
 * model's. A request with ROUNDS tool rounds (A: the fake upstream answers each round with one
 * native call, then the final text; the tool is an in-process source through the real registry)
 * is set against the model's and the tool's own time (B: the same upstream requests, captured
 * from A, sent straight to the fake upstream one by one, streamed and read whole, plus the same
 * registry calls made directly). (A − B) / ROUNDS is what the loop adds per round: its chunk
 * parsing and detector, the messages it builds, the progress lines, the awaits; it also carries
 * the client's one hop through the gateway (HTTP in and out, queue), spread over the rounds, so it
 * overstates the loop's cost a little. Interleaved, so the machine's drift hits both alike.
 * Run: node_modules/.bin/node --import tsx bench/tool-loop.ts
 * @module
 */
import { request as undiciRequest } from 'undici'
import { createGateway } from '../src/gateway/create-gateway.js'
import { createRequestListener } from '../src/server/request-listener.js'
import { createToolRegistry } from '../src/tools/tool-registry.js'
import type { ToolSource } from '../src/tools/types.js'
import { startFakeUpstream } from '../test/e2e/fake-upstream.js'
import type { RecordedRequest } from '../test/e2e/fake-upstream.js'
import { listen } from '../test/helpers/listen.js'

type Loose = Record<string, unknown>

const ROUNDS = 3
const ITERATIONS = 300
const WARMUP = 40

const source: ToolSource = {
  id: 'bench-tools',
  list: async () => [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
  call: async (_name, args) => JSON.stringify({ city: args.city, sky: 'sunny', temperature: 21 }),
}

function roundOf(request: RecordedRequest): number {
  const messages = ((request.body as Loose).messages ?? []) as Loose[]
  return 1 + messages.filter((message) => message.role === 'assistant' && Array.isArray(message.tool_calls)).length
}

const toolRound = [{ content: 'Checking.' }, { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }]
const finalRound = Array.from({ length: 20 }, (_, i) => ({ content: i === 0 ? 'tok0' : ` tok${i}` }))

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

export async function run(): Promise<void> {
  const upstream = await startFakeUpstream({ slots: 4, respond: (request) => ({ chunks: roundOf(request) <= ROUNDS ? toolRound : finalRound }) })
  const registry = createToolRegistry({ sources: [source] })
  await registry.ready()
  const gateway = createGateway({ upstreams: [{ url: upstream.url, slots: 4 }], toolRegistry: registry, maxToolIters: ROUNDS + 1, discoverModels: false, healthIntervalMs: 0 })
  const server = await listen(createRequestListener(gateway.fetch))
  const ask = JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'Weather in Paris?' }] })

  const post = async (body: string, base = server.url): Promise<string> => {
    const response = await undiciRequest(`${base}/v1/chat/completions`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    const text = await response.body.text()
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}: ${text.slice(0, 200)}`)
    return text
  }

  // One loop request, to capture the upstream requests it makes (B replays them).
  upstream.reset()
  const answer = JSON.parse(await post(ask)) as { choices: Array<{ message: { content: string } }> }
  if (!answer.choices[0]?.message.content.endsWith('tok19')) throw new Error(`unexpected loop answer: ${JSON.stringify(answer)}`)
  const replays = upstream.requests.filter((request) => request.path.endsWith('/chat/completions')).map((request) => JSON.stringify(request.body))
  if (replays.length !== ROUNDS + 1) throw new Error(`expected ${ROUNDS + 1} upstream requests, got ${replays.length}`)

  const loop = async (): Promise<number> => {
    const started = performance.now()
    await post(ask)
    return performance.now() - started
  }
  const without = async (): Promise<number> => {
    const started = performance.now()
    for (const [index, body] of replays.entries()) {
      await post(body, upstream.url)
      if (index < ROUNDS) await registry.call('get_weather', { city: 'Paris' })
    }
    return performance.now() - started
  }

  for (let i = 0; i < WARMUP; i++) {
    await loop()
    await without()
  }
  const a: number[] = []
  const b: number[] = []
  for (let i = 0; i < ITERATIONS; i++) {
    // Alternate the order, so neither always runs on a warmer machine.
    if (i % 2 === 0) {
      a.push(await loop())
      b.push(await without())
    } else {
      b.push(await without())
      a.push(await loop())
    }
  }
  const perRound = a.map((value, index) => (value - (b[index] as number)) / ROUNDS)
  console.log(`${ROUNDS} tool rounds + final answer (20 tokens), zero model and tool delay, ${ITERATIONS} requests each`)
  console.log(`loop request (A)                  p50 ${median(a).toFixed(2)} ms`)
  console.log(`model + tool time alone (B)       p50 ${median(b).toFixed(2)} ms`)
  console.log(`added per tool round (A−B)/${ROUNDS}      p50 ${median(perRound).toFixed(3)} ms   (target ≤ 1 ms)`)
  await server.close()
  await gateway.close({ graceMs: 0 })
  await registry.close()
  await upstream.close()
}

if (import.meta.url === `file://${process.argv[1]}`) await run()
