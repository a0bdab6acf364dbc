import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import { build } from 'esbuild'
import type { Metafile } from 'esbuild'
import { describe, expect, it } from 'vitest'

// `queuegate/toolcalls` and `queuegate/queue` promise to run without Node: bundle each source entry for the
// browser with esbuild (the bundler tsup brings), check what went in, then run the bundle in a realm that has
// web globals only (no `process`, no `require`) and call it.

const root = fileURLToPath(new URL('../..', import.meta.url))

/** What a browser or an edge worker offers, and nothing Node-only. */
function webGlobals(): Record<string, unknown> {
  const { AbortController, AbortSignal, Headers, ReadableStream, TextDecoder, TextEncoder, TransformStream, URL, WritableStream, clearTimeout, crypto, performance, queueMicrotask, setTimeout, structuredClone } = globalThis
  return { AbortController, AbortSignal, Headers, ReadableStream, TextDecoder, TextEncoder, TransformStream, URL, WritableStream, clearTimeout, crypto, performance, queueMicrotask, setTimeout, structuredClone }
}

interface BrowserBundle {
  code: string
  metafile: Metafile
}

async function bundleForBrowser(entry: string): Promise<BrowserBundle> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'queuegate',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]?.text
  if (code === undefined) throw new Error(`esbuild wrote no output for ${entry}`)
  return { code, metafile: result.metafile }
}

/** Every input file and every import esbuild saw that is Node-only or a server dependency. */
function nodeOnly(metafile: Metafile): string[] {
  const forbidden = (path: string): boolean => path.startsWith('node:') || /(^|[\\/])node_modules[\\/](undici|eventsource-parser)[\\/]/.test(path) || /^(undici|eventsource-parser)(\/|$)/.test(path)
  const found: string[] = []
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    if (forbidden(input)) found.push(input)
    for (const imported of imports) if (imported.external === true || forbidden(imported.path)) found.push(`${input} -> ${imported.path}`)
  }
  return found
}

/** Runs the bundle, then `script` (the body of an async function that sees `queuegate`), in a fresh realm; returns its JSON result. */
async function runInWebRealm(code: string, script: string): Promise<unknown> {
  const context = vm.createContext(webGlobals())
  vm.runInContext(code, context, { filename: 'bundle.js' })
  const json: unknown = await vm.runInContext(`(async () => {
    if (typeof process !== 'undefined' || typeof require !== 'undefined') throw new Error('not a web realm')
    return JSON.stringify(await (async () => { ${script} })())
  })()`, context)
  return JSON.parse(json as string)
}

describe('queuegate/toolcalls in a browser bundle', () => {
  it('pulls in no undici, no eventsource-parser and nothing from node:*', async () => {
    const { metafile } = await bundleForBrowser('src/toolcalls/index.ts')
    expect(Object.keys(metafile.inputs)).toContain('src/toolcalls/index.ts')
    expect(nodeOnly(metafile)).toEqual([])
  })

  it('parses a Hermes tool call with web globals only', async () => {
    const { code } = await bundleForBrowser('src/toolcalls/index.ts')
    const result = await runInWebRealm(
      code,
      `return queuegate.parseToolCalls('<tool_call>{"name":"get_weather","arguments":{"city":"Paris"}}</tool_call>', { tools: ['get_weather'] })`,
    )
    expect(result).toEqual({
      content: '',
      toolCalls: [{ id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    })
  })
})

describe('queuegate/queue in a browser bundle', () => {
  it('pulls in no undici, no eventsource-parser and nothing from node:*', async () => {
    const { metafile } = await bundleForBrowser('src/queue/index.ts')
    expect(Object.keys(metafile.inputs)).toContain('src/queue/index.ts')
    expect(nodeOnly(metafile)).toEqual([])
  })

  it('grants a lease and queues a second job with web globals only', async () => {
    const { code } = await bundleForBrowser('src/queue/index.ts')
    const result = await runInWebRealm(
      code,
      `const scheduler = new queuegate.QueueScheduler({ upstreams: [{ id: 'gpu', slots: 1 }] })
      const first = await scheduler.acquire({ id: 'a', threadKey: queuegate.threadKeyFor({ headers: new Headers({ 'X-Chat-Id': 'c1' }), body: {} }) })
      const waiting = scheduler.acquire({ id: 'b' })
      const queued = { status: scheduler.status('b'), position: scheduler.position('b') }
      first.release()
      const second = await waiting
      second.release()
      return { first: first.upstream, queued, second: second.upstream, running: scheduler.snapshot().running }`,
    )
    expect(result).toEqual({ first: 'gpu', queued: { status: 'queued', position: { position: 1, queued: 1, etaMs: undefined, upstream: 'gpu' } }, second: 'gpu', running: 0 })
  })
})
