import { describe, expect, it } from 'vitest'
import { createCallPlan } from '../../../src/gateway/call-plan.js'
import type { CallPlan } from '../../../src/gateway/call-plan.js'
import { endpointFor } from '../../../src/gateway/endpoints.js'
import { resolveGatewayOptions } from '../../../src/gateway/resolve-gateway-options.js'
import type { GatewayOptions } from '../../../src/gateway/gateway-options.js'
import { defaultStages } from '../../../src/gateway/stages/index.js'
import { createRouteJobStage } from '../../../src/gateway/stages/route-job.js'
import { prefixHashesOf } from '../../../src/queue/prefix-hashes.js'

const messages = [
  { role: 'system', content: 'You are an agent.' },
  { role: 'user', content: 'hi' },
]

function plan(): CallPlan {
  const path = '/v1/chat/completions'
  const request = new Request(`http://x${path}`, { method: 'POST', body: '{}' })
  return createCallPlan({ jobId: 'j', request, headers: request.headers, path, endpoint: endpointFor(path)!, text: '{}', body: { model: 'm', messages }, toolMode: 'passthrough' })
}

function routed(options: { routesByKey: boolean; prefixHashes?: boolean }): CallPlan {
  const p = plan()
  void createRouteJobStage({ stickyHeader: 'X-Chat-Id', ...options }).prepare(p)
  return p
}

describe('the route-job stage', () => {
  it('hashes the prompt prefix only when asked (cache-aware routing), so the default path costs nothing', () => {
    expect(routed({ routesByKey: true }).prefix).toBeUndefined()
    expect(routed({ routesByKey: true, prefixHashes: true }).prefix).toEqual(prefixHashesOf(messages))
    expect(routed({ routesByKey: true, prefixHashes: true }).prefix?.hashes).toHaveLength(2)
  })

  it('is turned on by routing: cache-aware when there is a routing choice', () => {
    const stage = (options: Partial<GatewayOptions>, routesByKey: boolean) => {
      const resolved = resolveGatewayOptions({ upstreams: ['http://u'], ...options })
      const stages = defaultStages({ options: resolved, catalog: undefined as never, routesByKey })
      const p = plan()
      void stages.find((candidate) => candidate.name === 'route-job')!.prepare!(p)
      return p
    }
    expect(stage({ routing: 'cache-aware' }, true).prefix?.hashes).toHaveLength(2)
    expect(stage({ routing: 'cache-aware' }, false).prefix).toBeUndefined()
    expect(stage({}, true).prefix).toBeUndefined()
    expect(() => resolveGatewayOptions({ upstreams: ['http://u'], routing: 'radix' as never })).toThrow(/routing must be 'sticky' or 'cache-aware'/)
  })
})
