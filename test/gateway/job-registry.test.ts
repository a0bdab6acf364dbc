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

  it('keeps the last maxFinished finished jobs, forgetting the oldest', () => {
    const jobs = new JobRegistry({ maxFinished: 10 })
    for (let index = 0; index < 100; index += 1) {
      jobs.add(record(`j${index}`))
      jobs.finish(`j${index}`, { at: index })
    }
    const kept = Array.from({ length: 100 }, (_, index) => `j${index}`).filter((id) => jobs.get(id) !== undefined)
    expect(kept).toHaveLength(10)
    // The most recent ones, contiguous up to the last.
    expect(kept.at(-1)).toBe('j99')
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, index) => `j${100 - kept.length + index}`))
  })

  it('gives back every field of a finished job as it was when it ended', () => {
    const jobs = new JobRegistry({ maxFinished: 3 })
    jobs.add({ ...record('run'), kind: 'batch', stream: true, model: 'qwen', createdAt: 1.5 })
    jobs.start('run', { upstream: 'gpu1', slot: 0, at: 2.25 })
    jobs.finish('run', { at: 7.75, error: 'upstream failed' })
    jobs.add({ ...record('never'), model: undefined, createdAt: 3 })
    jobs.finish('never', { at: 4 })
    expect(jobs.get('run')).toEqual({ id: 'run', status: 'error', kind: 'batch', model: 'qwen', stream: true, upstream: 'gpu1', slot: 0, createdAt: 1.5, startedAt: 2.25, endedAt: 7.75, error: 'upstream failed' })
    expect(jobs.get('never')).toEqual({ id: 'never', status: 'done', kind: 'interactive', model: undefined, stream: false, upstream: undefined, slot: undefined, createdAt: 3, startedAt: undefined, endedAt: 4, error: undefined })
    expect(jobs.get('missing')).toBeUndefined()
  })
})
