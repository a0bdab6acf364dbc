import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withTimeout } from '../helpers/with-timeout.js'

// What a user installs before the package is published: the tarball `npm pack` makes. The current
// src/ is built with the repo's tsup config into a staging copy of the package (never into dist/),
// packed with the real `files` list, unpacked into a project's node_modules, and its command run with
// node directly, as the service examples do: the dashboard page comes out of the tarball, the demo
// answers, and SIGTERM stops it cleanly.

const root = fileURLToPath(new URL('../..', import.meta.url))
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> }

describe('the packed tarball', () => {
  let dir = ''
  let files: string[] = []
  let child: ChildProcessWithoutNullStreams | undefined

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'queuegate-tarball-'))
    const stage = join(dir, 'stage')
    mkdirSync(stage)
    for (const name of ['package.json', 'README.md', 'bin']) cpSync(join(root, name), join(stage, name), { recursive: true })
    const tsupCli = join(dirname(createRequire(import.meta.url).resolve('tsup/package.json')), 'dist', 'cli-default.js')
    const built = spawnSync(process.execPath, [tsupCli, '--out-dir', join(stage, 'dist'), '--silent'], { cwd: root, encoding: 'utf8', timeout: 90_000 })
    if (built.status !== 0) throw new Error(`tsup failed (${built.status ?? built.signal}):\n${built.stderr}${built.stdout}`)
    const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: stage, encoding: 'utf8', timeout: 60_000 })
    if (packed.status !== 0) throw new Error(`npm pack failed (${packed.status ?? packed.signal}):\n${packed.stderr}`)
    const [report] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
    if (report === undefined) throw new Error(`npm pack said nothing: ${packed.stdout}`)
    files = report.files.map((file) => file.path)
    const app = join(dir, 'app')
    mkdirSync(join(app, 'node_modules'), { recursive: true })
    const untar = spawnSync('tar', ['-xzf', join(dir, report.filename), '-C', join(app, 'node_modules')], { encoding: 'utf8' })
    if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`)
    renameSync(join(app, 'node_modules', 'package'), join(app, 'node_modules', 'queuegate'))
    // The dependencies, as `npm install <tarball>` would put them beside it.
    for (const name of Object.keys(packageJson.dependencies ?? {})) {
      mkdirSync(dirname(join(app, 'node_modules', name)), { recursive: true })
      symlinkSync(join(root, 'node_modules', name), join(app, 'node_modules', name), 'junction')
    }
  }, 180_000)

  afterAll(() => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL')
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  it('holds the built package, the command and the README, and no sources or tests', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/queuegate.js', 'dist/index.js', 'dist/server/index.js', 'dist/cli/index.js']))
    expect(files.filter((path) => path.startsWith('src/') || path.startsWith('test/') || path.startsWith('node_modules/'))).toEqual([])
    expect(packageJson.version).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('runs `node bin/queuegate.js --demo` from the unpacked tarball: the dashboard page, its state and a chat answer; SIGTERM stops it', async () => {
    child = spawn(process.execPath, [join('node_modules', 'queuegate', 'bin', 'queuegate.js'), '--demo', '--port', '0'], { cwd: join(dir, 'app'), env: { PATH: process.env.PATH ?? '' } })
    let stdout = ''
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text))
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)))
    const url = await withTimeout(
      new Promise<string>((resolve) => {
        child?.stdout.setEncoding('utf8').on('data', (text: string) => {
          stdout += text
          const match = /dashboard\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout)
          if (match?.[1] !== undefined) resolve(match[1])
        })
      }),
      20_000,
      `the demo's dashboard line (stderr: ${stderr})`,
    )
    const page = await fetch(`${url}/`)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('<title>queuegate</title>')
    expect(html).toContain("'v1/dashboard/events'")
    const state = (await (await fetch(`${url}/v1/dashboard/state`)).json()) as { upstreams: Array<{ id: string }> }
    expect(state.upstreams.map((upstream) => upstream.id)).toEqual(['sim-gpu-a', 'sim-gpu-b'])
    const answer = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sim-llama-8b', max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] }) })
    expect(answer.status).toBe(200)
    expect(((await answer.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content.split(' ')).toHaveLength(3)
    child.kill('SIGTERM')
    expect(await withTimeout(exited, 15_000, 'the gateway to stop on SIGTERM')).toBe(0)
    expect(stderr).toContain('SIGTERM: no new requests')
    expect(stderr).toContain('stopped')
  }, 60_000)
})
