/**
 * `npm run bench`: every benchmark in one run, in the order the README reports them.
 * Each file also runs alone (`node_modules/.bin/node --import tsx bench/FILE.ts`).
 * @module
 */
import { run as runGateway } from './gateway.js'
import { run as runCore } from './core.js'
import { run as runScheduler } from './scheduler.js'
import { run as runRoutingSim } from './routing-sim.js'
import { run as runCacheRouting } from './cache-routing.js'
import { run as runDetector } from './detector.js'
import { run as runToolLoop } from './tool-loop.js'
import { run as runDashboard } from './dashboard.js'
import { run as runMemory } from './memory.js'

const started = performance.now()
for (const [name, run] of [
  ['gateway overhead', runGateway],
  ['gateway core', runCore],
  ['scheduler cost', runScheduler],
  ['routing simulation', runRoutingSim],
  ['cache-aware routing end to end', runCacheRouting],
  ['tool-call detector', runDetector],
  ['tool loop (execute mode)', runToolLoop],
  ['dashboard load', runDashboard],
  ['chat memory', runMemory],
] as const) {
  console.log(`\n=== ${name} ===`)
  await run()
}
console.log(`\nall benchmarks: ${((performance.now() - started) / 1000).toFixed(1)} s`)
