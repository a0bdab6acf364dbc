/**
 * The dashboard (`dashboard: true`, the CLI's default): `GET /` and `/dashboard` serve the page
 * (dashboard-page.ts: one HTML document with its script and styles, shipped inside the package,
 * no build step for the user); `GET /v1/dashboard/state` answers one snapshot and
 * `GET /v1/dashboard/events` streams them (SSE). Those two sit under `/v1/`, so they need a
 * gateway key when keys are set; the page asks for one.
 * @module
 */
import { NotFoundError, UnavailableError } from '../errors.js'
import type { Clock } from '../gateway/clock.js'
import type { GatewayEvent } from '../gateway/gateway-events.js'
import { lightResponse } from '../gateway/light-response.js'
import { DashboardFeed } from './dashboard-feed.js'
import { DASHBOARD_PAGE } from './dashboard-page.js'
import { DashboardState } from './dashboard-state.js'
import type { DashboardSources } from './dashboard-state.js'

/** The gateway's dashboard. */
export interface Dashboard {
  /** Answers a `GET`/`HEAD` of the page or its state, or undefined for any other path. */
  route(path: string): Response | undefined
  /** Takes the gateway's events (finished requests, health). */
  onEvent(event: GatewayEvent): void
  /** Ends the open streams and stops listening. */
  close(): void
}

/** The page's paths. */
export const DASHBOARD_PATHS: readonly string[] = ['/', '/dashboard']

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  // Everything is in the one document; its script talks only to this gateway, and the page may not be framed.
  'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const

/** Builds the dashboard over the gateway's scheduler, health and job records. */
export function createDashboard(sources: DashboardSources & { clock: Clock }): Dashboard {
  let feed: DashboardFeed | undefined
  const state = new DashboardState(sources, { onChange: () => feed?.changed() })
  feed = new DashboardFeed({ snapshot: () => JSON.stringify(state.snapshot()), clock: sources.clock })
  const events = feed
  return {
    route(path) {
      if (DASHBOARD_PATHS.includes(path)) return lightResponse(DASHBOARD_PAGE, 200, { ...PAGE_HEADERS })
      if (!path.startsWith('/v1/dashboard/')) return undefined
      if (path === '/v1/dashboard/state') return lightResponse(JSON.stringify(state.snapshot()), 200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      if (path === '/v1/dashboard/events') {
        if (events.full) throw new UnavailableError('Too many dashboard pages are open.', 'too_many_streams')
        return lightResponse(events.open(), 200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' })
      }
      throw new NotFoundError(`No route for GET ${path}.`, 'route_not_found')
    },
    onEvent(event) {
      state.onEvent(event)
    },
    close() {
      events.close()
      state.close()
    },
  }
}
