import { describe, expect, it } from 'vitest'
import { DashboardFeed } from '../../src/dashboard/dashboard-feed.js'
import { createFakeClock } from '../helpers/fake-clock.js'

const decoder = new TextDecoder()

describe('DashboardFeed', () => {
  function setup(options: { maxStreams?: number } = {}) {
    const clock = createFakeClock()
    let version = 0
    const feed = new DashboardFeed({ snapshot: () => JSON.stringify({ version: ++version }), clock, minIntervalMs: 250, heartbeatMs: 2000, maxQueued: 2, ...options })
    return { clock, feed, snapshots: () => version }
  }

  async function events(reader: ReadableStreamDefaultReader<Uint8Array>, count: number): Promise<number[]> {
    const out: number[] = []
    while (out.length < count) {
      const { value, done } = await reader.read()
      if (done) break
      for (const match of decoder.decode(value).matchAll(/data: (.*)\n\n/g)) out.push((JSON.parse(match[1] as string) as { version: number }).version)
    }
    return out
  }

  it('sends a snapshot on open, then at most one per interval however many changes, and a heartbeat when quiet', async () => {
    const { clock, feed, snapshots } = setup()
    const reader = feed.open().getReader()
    expect(await events(reader, 1)).toEqual([1])
    // The first change goes out at once; the next ones wait for the interval, as one snapshot.
    for (let i = 0; i < 10; i++) feed.changed()
    clock.advance(0)
    expect(await events(reader, 1)).toEqual([2])
    for (let i = 0; i < 10; i++) feed.changed()
    clock.advance(249)
    expect(snapshots()).toBe(2)
    clock.advance(1)
    expect(await events(reader, 1)).toEqual([3])
    clock.advance(2000)
    expect(await events(reader, 1)).toEqual([4])
  })

  it('computes nothing with no page open, skips snapshots a page does not read, and stops its timers when the last page leaves', async () => {
    const { clock, feed, snapshots } = setup()
    feed.changed()
    clock.advance(10_000)
    expect(snapshots()).toBe(0)
    const stream = feed.open()
    expect(snapshots()).toBe(1)
    // Nobody reads: 2 queued at most (maxQueued), the rest skipped; a read then gets the ones queued.
    for (let i = 0; i < 6; i++) {
      feed.changed()
      clock.advance(250)
    }
    const reader = stream.getReader()
    expect((await events(reader, 3)).length).toBe(3)
    await reader.cancel()
    expect(feed.size).toBe(0)
    expect(clock.pending).toBe(0)
  })

  it('refuses pages beyond maxStreams, and close() ends every stream', async () => {
    const { feed } = setup({ maxStreams: 1 })
    const reader = feed.open().getReader()
    expect(feed.full).toBe(true)
    await events(reader, 1)
    feed.close()
    expect((await reader.read()).done).toBe(true)
  })
})
