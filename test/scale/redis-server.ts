/**
 * A real `redis-server` for the scale tests: on a free loopback port, no persistence, stopped and
 * restarted on the same port. Without the binary the tests skip with a message, except in CI
 * (CI=true), where they fail: .ci/run installs Debian's redis-server.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import net from 'node:net'
import type { AddressInfo } from 'node:net'

/** The redis-server binary, or undefined when none is installed. */
export const redisServerBinary: string | undefined = (() => {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  const path = found.stdout.trim()
  return found.status === 0 && path !== '' ? path : undefined
})()

/** Why the Redis tests do not run here, or undefined when they do. In CI a missing binary is a failure, not a skip. */
export function redisSkipReason(): string | undefined {
  if (redisServerBinary !== undefined) return undefined
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error('redis-server is not installed, and CI must run the Redis tests (.ci/run installs it: apt-get install -y --no-install-recommends redis-server)')
  return 'redis-server is not installed: the Redis (scaling out) tests are skipped. Install it (Debian: apt-get install redis-server) to run them.'
}

/** A running redis-server. */
export interface TestRedis {
  readonly port: number
  readonly url: string
  /** Stops it (SIGKILL: like a crash, nothing saved). */
  stop(): Promise<void>
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>
  close(): Promise<void>
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Starts redis-server on a free port and waits (up to 10 s) until it accepts connections. */
export async function startRedis(): Promise<TestRedis> {
  const binary = redisServerBinary
  if (binary === undefined) throw new Error('redis-server is not installed')
  const port = await freePort()
  let child: ChildProcess | undefined
  const launch = async (): Promise<void> => {
    const started = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = started
    await new Promise<void>((resolve, reject) => {
      let output = ''
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${output}`)), 10_000)
      const onData = (data: Buffer): void => {
        output = (output + data.toString()).slice(-4096)
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          started.stdout?.off('data', onData)
          started.stdout?.resume()
          resolve()
        }
      }
      started.stdout?.on('data', onData)
      started.stderr?.resume()
      started.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}: ${output}`))
      })
    })
  }
  const stop = async (): Promise<void> => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve())
      running.kill('SIGKILL')
    })
  }
  await launch()
  return { port, url: `redis://127.0.0.1:${port}`, stop, restart: launch, close: stop }
}
