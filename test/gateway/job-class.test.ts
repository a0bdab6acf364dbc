import { describe, expect, it } from 'vitest'
import { jobClassFor } from '../../src/gateway/job-class.js'

describe('jobClassFor', () => {
  it.each([
    [{}, '/v1/chat/completions', 'interactive'],
    [{}, '/v1/agent/chat/completions', 'batch'],
    [{}, '/v1/agent/chat/completions/', 'batch'],
    [{}, '/prefix/v1/agent/chat/completions', 'batch'],
    [{ 'X-Job-Kind': 'agent' }, '/v1/chat/completions', 'batch'],
    [{ 'x-job-kind': 'agent_call' }, '/v1/chat/completions', 'batch'],
    [{ 'X-JOB-KIND': 'Repo_Agent' }, '/v1/chat/completions', 'batch'],
    [{ 'X-Job-Kind': 'chat' }, '/v1/chat/completions', 'interactive'],
  ] as const)('%j %s → %s', (headers, path, expected) => {
    expect(jobClassFor({ headers: new Headers(headers), path })).toBe(expected)
  })
})
