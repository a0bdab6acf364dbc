/**
 * The tool-server memory adapter against the fake OpenAPI tool server, through the real
 * `createToolRegistry`: the first version's memory_query / memory_upsert contract.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createToolServerMemory, QueuegateError } from 'queuegate'
import { createToolRegistry } from '../../src/tools/tool-registry.js'
import type { ToolRegistry } from '../../src/tools/types.js'
import { startFakeToolServer } from '../tools/fake-tool-server.js'
import type { FakeToolServer } from '../tools/fake-tool-server.js'
import { memoryTools } from './memory-tools.js'

let server: FakeToolServer | undefined
let registry: ToolRegistry | undefined

afterEach(async () => {
  await registry?.close()
  await server?.close()
  registry = undefined
  server = undefined
})

const string = { type: 'string' }

describe('createToolServerMemory', () => {
  it('queries with {namespace, query, k}, drops a FILE: header line, and upserts {namespace, text, role, source, ts_unix}', async () => {
    const notes = [
      { namespace: 'c1', text: 'FILE: chats/c1.md\nThe dog is called Biscuit.', score: 0.91 },
      { namespace: 'c1', text: 'Lives in Lyon.', score: 0.4 },
      { namespace: 'c2', text: 'other chat' },
    ]
    server = await startFakeToolServer({ tools: memoryTools(notes) })
    registry = createToolRegistry({ toolServers: [server.url] })
    await registry.ready()
    const memory = createToolServerMemory({ registry })
    expect(await memory.query('c1', 'dog name', { k: 5 })).toEqual([
      { text: 'The dog is called Biscuit.', role: undefined, score: 0.91, ts: 0 },
      { text: 'Lives in Lyon.', role: undefined, score: 0.4, ts: 0 },
    ])
    expect(server.callsTo('memory_query')[0]?.body).toEqual({ namespace: 'c1', query: 'dog name', k: 5 })
    await memory.upsert('c1', [
      { text: 'hello', role: 'user', ts: 1_700_000_000_500 },
      { text: 'hi!', role: 'assistant', ts: 1_700_000_001_000, source: 'test' },
    ])
    expect(server.callsTo('memory_upsert').map((call) => call.body)).toEqual([
      { namespace: 'c1', text: 'hello', role: 'user', source: 'queuegate', ts_unix: 1_700_000_000 },
      { namespace: 'c1', text: 'hi!', role: 'assistant', source: 'test', ts_unix: 1_700_000_001 },
    ])
    // No memory_forget tool on this server: a clear 501.
    const failure = await memory.forget('c1').catch((error: unknown) => error)
    expect(QueuegateError.isInstance(failure) && failure.status === 501 && failure.code === 'memory_forget_unsupported').toBe(true)
  })

  it('forget calls memory_forget when the server has it', async () => {
    const notes = [{ namespace: 'c1', text: 'x' }]
    server = await startFakeToolServer({ tools: memoryTools(notes, { forget: true }) })
    registry = createToolRegistry({ toolServers: [server.url] })
    await registry.ready()
    await createToolServerMemory({ registry }).forget('c1')
    expect(notes).toEqual([])
  })

  it('a tool server that is down, or answers an error, or not JSON: the call rejects with the reason', async () => {
    server = await startFakeToolServer({ tools: { ...memoryTools([]), memory_query: { schema: { type: 'object', properties: { namespace: string, query: string, k: { type: 'integer' } } }, handler: () => 'plain text' } } })
    registry = createToolRegistry({ toolServers: [server.url], timeoutMs: 2000 })
    await registry.ready()
    const memory = createToolServerMemory({ registry })
    await expect(memory.query('c1', 'q')).rejects.toThrow(/memory_query: the answer is not JSON/)
    await server.down()
    await expect(memory.query('c1', 'q')).rejects.toThrow(/memory_query: tool_call_failed/)
    await expect(memory.upsert('c1', [{ text: 't' }])).rejects.toThrow(/memory_upsert: tool_call_failed/)
  })
})
