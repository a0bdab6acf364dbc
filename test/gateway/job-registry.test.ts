import { describe, expect, it } from 'vitest'
import { JobRegistry } from '../../src/gateway/job-registry.js'
import type { JobRecord } from '../../src/gateway/job-registry.js'

const record = (id: string): JobRecord => ({ id, status: 'queued', kind: 'interactive', model: 'm', stream: false, upstream: undefined, slot: undefined, createdAt: 0, startedAt: undefined, endedAt: undefined, error: undefined })

describe('JobRegistry', () => {
  it('tracks a job from queued to running to done or error', () => {
    const jobs = new JobRegistry({ maxFinished: 10 })
    jobs.add(record('a'))
    expect(jobs.get('a')?.status).toBe('queued')
    jobs.start('a', { upstream: 'u', slot: 1, at: 5 })
    expect(jobs.get('a')).toMatchObject({ status: 'running', upstream: 'u', slot: 1, startedAt: 5 })
    jobs.finish('a', { at: 9 })
    expect(jobs.get('a')).toMatchObject({ status: 'done', endedAt: 9 })
    jobs.add(record('b'))
    jobs.finish('b', { at: 1, error: 'boom' })
    jobs.finish('b', { at: 2 })
    expect(jobs.get('b')).toMatchObject({ status: 'error', error: 'boom', endedAt: 1 })
    expect(jobs.activeCount).toBe(0)
  })

  it('keeps between maxFinished / 2 and maxFinished recent finished jobs, forgetting the oldest', () => {
    const jobs = new JobRegistry({ maxFinished: 10 })
    for (let index = 0; index < 100; index += 1) {
      jobs.add(record(`j${index}`))
      jobs.finish(`j${index}`, { at: index })
    }
    const kept = Array.from({ length: 100 }, (_, index) => `j${index}`).filter((id) => jobs.get(id) !== undefined)
    expect(kept.length).toBeGreaterThanOrEqual(5)
    expect(kept.length).toBeLessThanOrEqual(10)
    // The most recent ones, contiguous up to the last.
    expect(kept.at(-1)).toBe('j99')
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, index) => `j${100 - kept.length + index}`))
  })
})
