/**
 * The dashboard page: one HTML document with its styles and script inline, shipped as a string in
 * the package (so `dist/` holds it with no build step for the user and no files to find at run
 * time). The script reads `v1/dashboard/events` with `fetch` (so it can send the gateway key,
 * which `EventSource` cannot), draws every snapshot with DOM calls (no `innerHTML` of data), ticks
 * elapsed times locally, and draws the rates as small SVG charts. Paths are relative to where
 * the page is mounted (`/`, `/dashboard`, or behind a prefix).
 *
 * Written inside `String.raw`: no backtick and no dollar-brace in the text below.
 * @module
 */

/** The page's HTML. */
export const DASHBOARD_PAGE = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>queuegate</title>
<style>
:root { --bg: #0f1216; --panel: #171b21; --line: #262c35; --text: #dde3ea; --dim: #8a95a3; --busy: #3b82f6; --ok: #22c55e; --warn: #f59e0b; --bad: #ef4444; --batch: #a855f7; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; align-items: center; gap: 16px; padding: 12px 20px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 16px; margin: 0; letter-spacing: .02em; }
header .summary { color: var(--dim); }
#conn { margin-left: auto; font-size: 12px; color: var(--dim); display: flex; align-items: center; gap: 6px; }
#conn::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--warn); }
#conn[data-state="live"]::before { background: var(--ok); }
#conn[data-state="error"]::before, #conn[data-state="key"]::before { background: var(--bad); }
main { padding: 16px 20px 40px; display: grid; gap: 18px; }
h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .08em; color: var(--dim); margin: 0 0 8px; font-weight: 600; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
#upstreams { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px; }
.upstream header { padding: 0 0 8px; border: 0; gap: 8px; flex-wrap: wrap; }
.upstream .name { font-weight: 600; word-break: break-all; }
.badge { font-size: 11px; padding: 1px 7px; border-radius: 10px; border: 1px solid currentColor; }
.upstream[data-health="healthy"] .badge { color: var(--ok); }
.upstream[data-health="unknown"] .badge { color: var(--dim); }
.upstream[data-health="loading"] .badge { color: var(--warn); }
.upstream[data-health="ejected"] .badge, .upstream[data-health="down"] .badge { color: var(--bad); }
.upstream[data-health="ejected"], .upstream[data-health="down"] { border-color: var(--bad); }
.models { color: var(--dim); font-size: 12px; width: 100%; }
.slots { display: grid; gap: 6px; }
.slot { border: 1px dashed var(--line); border-radius: 6px; padding: 6px 8px; min-height: 44px; display: grid; grid-template-columns: 22px 1fr auto; gap: 2px 8px; align-items: center; }
.slot .index { color: var(--dim); font-size: 11px; grid-row: span 2; }
.slot[data-job=""] .what { color: var(--dim); }
.slot:not([data-job=""]) { border: 1px solid var(--busy); background: rgba(59, 130, 246, .08); }
.slot[data-class="batch"]:not([data-job=""]) { border-color: var(--batch); background: rgba(168, 85, 247, .08); }
.slot .sub { color: var(--dim); font-size: 11px; grid-column: 2 / 4; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.foot { color: var(--dim); font-size: 12px; margin-top: 8px; }
.foot .error { color: var(--bad); display: block; word-break: break-word; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--dim); font-weight: 500; font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { color: var(--bad); }
.empty { color: var(--dim); padding: 6px 8px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
@media (max-width: 900px) { .two { grid-template-columns: 1fr; } }
#charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
.chart .value { font-size: 18px; font-weight: 600; }
.chart .label { color: var(--dim); font-size: 12px; }
.chart svg { width: 100%; height: 56px; display: block; margin-top: 4px; }
#key-form { display: none; gap: 8px; align-items: center; }
#key-form[data-open="true"] { display: flex; }
#key-form input { background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; min-width: 280px; }
#key-form button { background: var(--busy); color: white; border: 0; border-radius: 6px; padding: 6px 12px; cursor: pointer; }
</style>
</head>
<body>
<header>
  <h1>queuegate</h1>
  <span class="summary" id="summary">connecting…</span>
  <span id="conn" data-state="connecting">connecting</span>
</header>
<main>
  <form id="key-form" class="panel" autocomplete="off">
    <span>This gateway needs a key (one of its <code>--api-key</code> values):</span>
    <input id="key" type="password" name="key" placeholder="gateway key" aria-label="gateway key">
    <button type="submit">Connect</button>
  </form>
  <section>
    <h2>Upstreams and slots</h2>
    <div id="upstreams"></div>
  </section>
  <section>
    <h2>Last minutes</h2>
    <div id="charts"></div>
  </section>
  <section class="two">
    <div class="panel"><h2>Queue: interactive</h2><div id="queue-interactive"></div></div>
    <div class="panel"><h2>Queue: batch</h2><div id="queue-batch"></div></div>
  </section>
  <section class="panel">
    <h2>Recent jobs</h2>
    <div id="recent"></div>
  </section>
</main>
<script>
(() => {
  'use strict'
  const base = location.pathname.replace(/\/?(dashboard\/?)?$/, '/')
  const KEY = 'queuegate.dashboard.key'
  let key = null
  try { key = localStorage.getItem(KEY) } catch (error) { key = null }
  let skew = 0
  let controller = null
  let retry = null
  const byId = (id) => document.getElementById(id)

  function h(tag, attrs, children) {
    const element = document.createElement(tag)
    for (const name in attrs || {}) {
      const value = attrs[name]
      if (value === undefined || value === null || value === false) continue
      if (name === 'class') element.className = value
      else element.setAttribute(name, String(value))
    }
    for (const child of children || []) {
      if (child === null || child === undefined) continue
      element.append(typeof child === 'object' ? child : document.createTextNode(String(child)))
    }
    return element
  }
  const shortId = (id) => (id.length > 12 ? id.slice(0, 8) : id)
  function duration(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return '–'
    if (ms < 1000) return Math.max(0, Math.round(ms)) + ' ms'
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s'
    const minutes = Math.floor(ms / 60000)
    return minutes + 'm ' + Math.floor((ms % 60000) / 1000) + 's'
  }
  const clockTime = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false })
  const serverNow = () => Date.now() - skew
  function since(start) { return h('span', { 'data-since': start }, [duration(serverNow() - start)]) }

  function health(upstream) {
    if (upstream.state === 'loading') return ['loading', 'loading model']
    if (upstream.state === 'ejected') return ['ejected', 'ejected']
    if (!upstream.serving) return ['down', 'out of rotation']
    if (upstream.state === 'unknown') return ['unknown', 'not probed yet']
    return ['healthy', 'healthy']
  }

  function drawUpstreams(snapshot) {
    const cards = snapshot.upstreams.map((upstream) => {
      const [state, label] = health(upstream)
      const slots = upstream.slotJobs.map((job, index) => {
        if (job === null) return h('div', { class: 'slot', 'data-slot': index, 'data-job': '' }, [h('span', { class: 'index' }, ['#' + index]), h('span', { class: 'what' }, ['free'])])
        return h('div', { class: 'slot', 'data-slot': index, 'data-job': job.job, 'data-class': job.class, title: 'job ' + job.job }, [
          h('span', { class: 'index' }, ['#' + index]),
          h('span', { class: 'what' }, [h('span', { class: 'mono' }, [shortId(job.job)]), ' ', job.model || '']),
          since(job.startedAt),
          h('span', { class: 'sub' }, [job.class + (job.thread ? ' · conversation ' + job.thread : '') + ' · waited ' + duration(job.waitedMs)]),
        ])
      })
      const foot = [upstream.running + '/' + upstream.slots + ' busy · ' + upstream.queued + ' waiting for it']
      if (upstream.failures > 0) foot.push(' · ' + upstream.failures + ' failures in a row')
      if (upstream.lastError && state !== 'healthy') foot.push(h('span', { class: 'error' }, [upstream.lastError]))
      return h('section', { class: 'panel upstream', 'data-upstream': upstream.id, 'data-health': state }, [
        h('header', {}, [h('span', { class: 'name' }, [upstream.id]), h('span', { class: 'badge' }, [label]), h('span', { class: 'models' }, [upstream.models === null ? 'any model' : upstream.models.join(', ') || 'no models'])]),
        h('div', { class: 'slots' }, slots),
        h('div', { class: 'foot' }, foot),
      ])
    })
    byId('upstreams').replaceChildren(...cards)
  }

  function drawQueue(jobs, element, unlisted) {
    if (jobs.length === 0) {
      element.replaceChildren(h('div', { class: 'empty' }, ['nobody waiting']))
      return
    }
    const rows = jobs.map((job) => h('tr', { 'data-queued-job': job.job }, [
      h('td', { class: 'num', 'data-position': job.position }, [job.position]),
      h('td', { class: 'mono', title: job.job }, [shortId(job.job)]),
      h('td', {}, [job.model || '–']),
      h('td', {}, [job.upstream || '–']),
      h('td', { class: 'mono' }, [job.thread || '–']),
      h('td', { class: 'num' }, [since(job.queuedAt)]),
      h('td', { class: 'num' }, [job.etaMs === null ? '–' : '~' + duration(job.etaMs)]),
    ]))
    const head = h('tr', {}, ['#', 'job', 'model', 'upstream', 'conversation', 'waiting', 'starts in'].map((name, index) => h('th', { class: index === 0 || index > 4 ? 'num' : '' }, [name])))
    const table = h('table', {}, [h('thead', {}, [head]), h('tbody', {}, rows)])
    element.replaceChildren(table, unlisted > 0 ? h('div', { class: 'empty' }, ['and ' + unlisted + ' more']) : '')
  }

  function drawRecent(jobs) {
    const element = byId('recent')
    if (jobs.length === 0) {
      element.replaceChildren(h('div', { class: 'empty' }, ['no finished jobs yet']))
      return
    }
    const head = h('tr', {}, ['ended', 'job', 'model', 'upstream', 'status', 'wait', 'first token', 'tokens/s', 'tool calls recovered'].map((name, index) => h('th', { class: index >= 4 ? 'num' : '' }, [name])))
    const rows = jobs.map((job) => h('tr', { class: job.error !== null || job.status >= 400 ? 'failed' : '', 'data-recent-job': job.job, title: job.error || '' }, [
      h('td', {}, [clockTime(job.endedAt)]),
      h('td', { class: 'mono', title: job.job }, [shortId(job.job)]),
      h('td', {}, [job.model || '–']),
      h('td', {}, [job.upstream || '–']),
      h('td', { class: 'num' }, [job.error !== null && job.status < 400 ? job.status + ' (error)' : job.status]),
      h('td', { class: 'num' }, [duration(job.waitMs)]),
      h('td', { class: 'num' }, [job.ttftMs === null ? '–' : duration(job.ttftMs)]),
      h('td', { class: 'num' }, [job.tokensPerSecond === null ? '–' : job.tokensPerSecond.toFixed(1)]),
      h('td', { class: 'num' }, [job.toolCallsRecovered === null ? '–' : job.toolCallsRecovered]),
    ]))
    element.replaceChildren(h('table', {}, [h('thead', {}, [head]), h('tbody', {}, rows)]))
  }

  const SVG = 'http://www.w3.org/2000/svg'
  function svg(tag, attrs) {
    const element = document.createElementNS(SVG, tag)
    for (const name in attrs) element.setAttribute(name, String(attrs[name]))
    return element
  }
  /** A small chart of one series; the big figure is over the last minute (the newest bucket is still filling). */
  function chart(label, values, color, format, current) {
    const width = 240
    const height = 56
    const peak = Math.max(0, ...values)
    const top = peak > 0 ? peak : 1
    const step = values.length > 1 ? width / (values.length - 1) : width
    const points = values.map((value, index) => (index * step).toFixed(1) + ',' + (height - 2 - (value / top) * (height - 6)).toFixed(1))
    const graphic = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, preserveAspectRatio: 'none', role: 'img', 'aria-label': label })
    graphic.append(svg('polygon', { points: '0,' + height + ' ' + points.join(' ') + ' ' + width + ',' + height, fill: color, 'fill-opacity': '0.15' }))
    graphic.append(svg('polyline', { points: points.join(' '), fill: 'none', stroke: color, 'stroke-width': '1.5', 'vector-effect': 'non-scaling-stroke' }))
    return h('div', { class: 'panel chart', 'data-chart': label }, [h('div', { class: 'label' }, [label + ' · peak ' + format(peak)]), h('div', { class: 'value' }, [format(current)]), graphic])
  }
  function drawCharts(rates) {
    const perMinute = 60000 / rates.bucketMs
    const perSecond = 1000 / rates.bucketMs
    const lastMinute = (values) => values.slice(-Math.max(1, Math.round(perMinute)))
    const sum = (values) => values.reduce((total, value) => total + value, 0)
    const meanWait = rates.waitMs.map((total, index) => (rates.requests[index] > 0 ? total / rates.requests[index] / 1000 : 0))
    const minuteRequests = sum(lastMinute(rates.requests))
    byId('charts').replaceChildren(
      chart('requests / min', rates.requests.map((n) => n * perMinute), '#3b82f6', (n) => Math.round(n), minuteRequests),
      chart('errors / min', rates.errors.map((n) => n * perMinute), '#ef4444', (n) => Math.round(n), sum(lastMinute(rates.errors))),
      chart('queue depth (max)', rates.queued, '#f59e0b', (n) => Math.round(n), Math.max(0, ...lastMinute(rates.queued))),
      chart('mean wait (s)', meanWait, '#a855f7', (n) => n.toFixed(1), minuteRequests > 0 ? sum(lastMinute(rates.waitMs)) / minuteRequests / 1000 : 0),
      chart('tokens / s', rates.tokens.map((n) => n * perSecond), '#22c55e', (n) => n.toFixed(0), sum(lastMinute(rates.tokens)) / 60),
    )
  }

  function draw(snapshot) {
    skew = Date.now() - snapshot.now
    const slots = snapshot.upstreams.reduce((sum, upstream) => sum + upstream.slots, 0)
    byId('summary').textContent = snapshot.running + '/' + slots + ' slots busy · ' + snapshot.queued + ' waiting · ' + snapshot.upstreams.length + ' upstream' + (snapshot.upstreams.length === 1 ? '' : 's')
    drawUpstreams(snapshot)
    drawQueue(snapshot.queue.interactive, byId('queue-interactive'), 0)
    drawQueue(snapshot.queue.batch, byId('queue-batch'), snapshot.queue.unlisted)
    drawCharts(snapshot.rates)
    drawRecent(snapshot.recent)
  }

  function status(state, text) {
    const element = byId('conn')
    element.dataset.state = state
    element.textContent = text
  }

  function askForKey(message) {
    status('key', message)
    byId('key-form').dataset.open = 'true'
    byId('key').focus()
  }

  async function connect() {
    if (controller) controller.abort()
    controller = new AbortController()
    clearTimeout(retry)
    status('connecting', 'connecting')
    const headers = key ? { authorization: 'Bearer ' + key } : {}
    try {
      const response = await fetch(base + 'v1/dashboard/events', { headers, cache: 'no-store', signal: controller.signal })
      if (response.status === 401) {
        askForKey(key ? 'key refused' : 'key needed')
        return
      }
      if (!response.ok || !response.body) throw new Error('HTTP ' + response.status)
      byId('key-form').dataset.open = 'false'
      status('live', 'live')
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        buffer += value
        let end
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = event.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n')
          if (data) draw(JSON.parse(data))
        }
        if (buffer.length > 4194304) throw new Error('event too large')
      }
      throw new Error('stream ended')
    } catch (error) {
      if (error && error.name === 'AbortError') return
      status('error', 'disconnected, retrying')
      retry = setTimeout(connect, 2000)
    }
  }

  byId('key-form').addEventListener('submit', (event) => {
    event.preventDefault()
    key = byId('key').value.trim() || null
    try {
      if (key) localStorage.setItem(KEY, key)
      else localStorage.removeItem(KEY)
    } catch (error) { /* private mode: keep it for this page only */ }
    connect()
  })

  setInterval(() => {
    for (const element of document.querySelectorAll('[data-since]')) element.textContent = duration(serverNow() - Number(element.dataset.since))
  }, 500)
  connect()
})()
</script>
</body>
</html>
`
