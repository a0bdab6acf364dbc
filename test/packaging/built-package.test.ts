import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isSupportedNodeVersion, unsupportedNodeMessage } from '../../src/node-version.js'

// The version guard and the Node-free subpaths are properties of the BUILT package: esbuild splits the entries
// into shared chunks, and the guard must be evaluated before the chunk that imports undici. So this builds the
// current src/ with tsup itself (the repo's tsup.config.ts, only --out-dir changed: its `clean: true` then wipes
// the temporary directory, never dist/) rather than re-bundling with esbuild, which would not reproduce tsup's
// chunk layout (tsup also runs rollup over esbuild's output). The build goes into
// <tmp>/node_modules/queuegate/dist next to a copy of package.json, with the dependencies linked beside it, so
// scripts in <tmp> import `queuegate`, `queuegate/server`, `queuegate/toolcalls` and `queuegate/queue` through
// the real `exports` map, as a user's project would.

const root = fileURLToPath(new URL('../..', import.meta.url))
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }

/** Node.js versions older than 22.19 that the subpaths are meant for: 20 is the oldest with the web globals they use. */
function isOldNodeToTest(version: string): boolean {
  return !isSupportedNodeVersion(version) && Number(version.split('.')[0]) >= 20
}

/** A `node` older than 22.19 (and at least 20): $QUEUEGATE_OLD_NODE, else the first such on PATH. */
function findOldNode(): { path: string; version: string } | undefined {
  const candidates = process.env['QUEUEGATE_OLD_NODE'] !== undefined ? [process.env['QUEUEGATE_OLD_NODE']] : []
  const executable = process.platform === 'win32' ? 'node.exe' : 'node'
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) if (dir !== '') candidates.push(join(dir, executable))
  const tried = new Set<string>()
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue
    const real = realpathSync(candidate)
    if (tried.has(real)) continue
    tried.add(real)
    try {
      const version = execFileSync(real, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 10_000 }).trim()
      if (isOldNodeToTest(version)) return { path: real, version }
    } catch {
      // Not a runnable node: try the next one.
    }
  }
  return undefined
}

const oldNode = findOldNode()

/**
 * Preloaded (--require) to make the running Node report an old version; on exit it reports how many undici
 * modules were linked and how many ran. An ES module that imports undici registers undici/index.js in
 * require.cache when it is linked; a module has run if it finished (loaded) or required anything (children).
 */
const PRETEND_OLD_NODE = `
Object.defineProperty(process.versions, 'node', { value: '20.0.0' })
Object.defineProperty(process, 'version', { value: 'v20.0.0' })
process.on('exit', () => {
  const undici = Object.values(require.cache).filter((m) => /[\\\\/]node_modules[\\\\/]undici[\\\\/]/.test(m.filename))
  const ran = undici.filter((m) => m.loaded || m.children.length > 0)
  process.stderr.write('\\nundici modules linked: ' + undici.length + ', run: ' + ran.length + '\\n')
})
`

/** Uses both subpaths for real; prints one JSON line. */
const USE_SUBPATHS = `
import { parseToolCalls } from 'queuegate/toolcalls'
import { QueueScheduler } from 'queuegate/queue'
const { toolCalls } = parseToolCalls('<tool_call>{"name":"get_weather","arguments":{"city":"Paris"}}</tool_call>', { tools: ['get_weather'] })
const scheduler = new QueueScheduler({ upstreams: [{ id: 'gpu', slots: 1 }] })
const lease = await scheduler.acquire({ id: 'a' })
const waiting = scheduler.acquire({ id: 'b' })
const status = scheduler.status('b')
lease.release()
;(await waiting).release()
console.log(JSON.stringify({ call: toolCalls[0]?.function, lease: lease.upstream, status }))
`

describe('the built package', () => {
  let dir = ''

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'queuegate-packaging-'))
    const packageDir = join(dir, 'node_modules', 'queuegate')
    mkdirSync(packageDir, { recursive: true })
    copyFileSync(join(root, 'package.json'), join(packageDir, 'package.json'))
    for (const name of Object.keys(packageJson.dependencies ?? {})) {
      mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true })
      symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name), 'junction')
    }
    writeFileSync(join(dir, 'package.json'), '{ "private": true, "type": "module" }\n')
    writeFileSync(join(dir, 'pretend-old-node.cjs'), PRETEND_OLD_NODE)
    writeFileSync(join(dir, 'use-subpaths.mjs'), USE_SUBPATHS)
    writeFileSync(join(dir, 'import-core.mjs'), "import 'queuegate'\n")
    writeFileSync(join(dir, 'import-server.mjs'), "import 'queuegate/server'\n")
    const tsupCli = join(dirname(createRequire(import.meta.url).resolve('tsup/package.json')), 'dist', 'cli-default.js')
    const built = spawnSync(process.execPath, [tsupCli, '--out-dir', join(packageDir, 'dist'), '--silent'], { cwd: root, encoding: 'utf8', timeout: 60_000 })
    if (built.status !== 0) throw new Error(`tsup failed (${built.status ?? built.signal}):\n${built.stderr}${built.stdout}`)
  }, 90_000)

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  function run(node: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const { status, stdout, stderr } = spawnSync(node, args, { cwd: dir, encoding: 'utf8', timeout: 15_000 })
    return { status, stdout, stderr }
  }

  it('imports every entry on this Node', () => {
    const used = run(process.execPath, ['use-subpaths.mjs'])
    expect(used.stderr).toBe('')
    expect(JSON.parse(used.stdout)).toEqual({ call: { name: 'get_weather', arguments: '{"city":"Paris"}' }, lease: 'gpu', status: 'queued' })
    for (const script of ['import-core.mjs', 'import-server.mjs']) expect(run(process.execPath, [script])).toMatchObject({ status: 0, stderr: '' })
  })

  // Runs everywhere: this Node pretends to be 20.0.0. Undici would load fine here, so whether any of it ran
  // is what tells that the guard comes first.
  it('with a pretended old Node, queuegate/toolcalls and queuegate/queue work and link no undici', () => {
    const used = run(process.execPath, ['--require', './pretend-old-node.cjs', 'use-subpaths.mjs'])
    expect(used.status).toBe(0)
    expect(JSON.parse(used.stdout)).toEqual({ call: { name: 'get_weather', arguments: '{"city":"Paris"}' }, lease: 'gpu', status: 'queued' })
    expect(used.stderr).toBe('\nundici modules linked: 0, run: 0\n')
  })

  it.each(['import-core.mjs', 'import-server.mjs'])('with a pretended old Node, %s gets the one-line error before undici runs', (script) => {
    const { status, stderr } = run(process.execPath, ['--require', './pretend-old-node.cjs', script])
    expect(status).not.toBe(0)
    expect(stderr).toContain(`Error: ${unsupportedNodeMessage('v20.0.0')}\n`)
    expect(stderr).toMatch(/undici modules linked: \d+, run: 0\n/)
  })

  describe.skipIf(oldNode === undefined)(`on an old Node (${oldNode === undefined ? 'none < 22.19 and >= 20 on PATH or in $QUEUEGATE_OLD_NODE: skipped' : `${oldNode.version} at ${oldNode.path}`})`, () => {
    const node = oldNode?.path ?? ''
    const version = `v${oldNode?.version ?? ''}`

    it('queuegate/toolcalls and queuegate/queue import and work', () => {
      const used = run(node, ['use-subpaths.mjs'])
      expect(used.stderr).toBe('')
      expect(JSON.parse(used.stdout)).toEqual({ call: { name: 'get_weather', arguments: '{"city":"Paris"}' }, lease: 'gpu', status: 'queued' })
    })

    it.each(['import-core.mjs', 'import-server.mjs'])('%s fails with the one-line version error, not inside undici', (script) => {
      const { status, stderr } = run(node, [script])
      expect(status).not.toBe(0)
      expect(stderr).toContain(`Error: ${unsupportedNodeMessage(version)}\n`)
      expect(stderr).not.toMatch(/undici/)
    })
  })
})
