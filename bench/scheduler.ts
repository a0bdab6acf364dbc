/**
 * Scheduler cost with many waiting jobs: 100 000 jobs wait over 4 upstreams (2 slots each); µs per enqueue
 * (`acquire` of a job that has to wait), per cancel (its AbortSignal aborts), per dispatch (a lease is
 * released and the next job starts), per `position()`, and heap bytes per waiting job.
 *
 * Jobs are a realistic mix: 80 % interactive, 20 % batch, 3 models (one upstream serves only two of them),
 * thread keys from 20 000 conversations, and each job has its own AbortSignal, as every gateway request does.
 *
 * Run: `node_modules/.bin/node --import tsx bench/scheduler.ts` (heap is measured after a full gc: `global.gc`
 * under `--expose-gc`, else enabled at run time through `v8.setFlagsFromString`; the output says which).
 * @module
 */
import { pathToFileURL } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { AbortError } from '../src/errors.js'
import { QueueScheduler } from '../src/queue/queue-scheduler.js'
import type { JobClass, JobRequest, Lease } from '../src/queue/queue-scheduler.js'
import { seededRandom as random } from '../test/helpers/seeded-random.js'

const WAITING = 100_000
const CANCELS = 20_000
const DISPATCHES = 40_000
const POSITIONS = 20_000


/** `global.gc` when node runs with --expose-gc, else one obtained by setting the flag at run time. */
function findGc(): { gc: (() => void) | undefined; source: string } {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (typeof exposed === 'function') return { gc: exposed, source: 'exposed by --expose-gc' }
  try {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as unknown
    if (typeof gc === 'function') return { gc: gc as () => void, source: 'not exposed; enabled at run time via v8.setFlagsFromString' }
  } catch {
    // Fall through: heap figures without a full gc.
  }
  return { gc: undefined, source: 'NOT available: heap figure is approximate' }
}

function format(value: number, digits = 2): string {
  return value.toFixed(digits)
}

/** Runs the benchmark and prints its figures. */
export async function run(): Promise<void> {
  const { gc, source: gcSource } = findGc()
  const collectGarbage = () => {
    if (gc !== undefined) for (let round = 0; round < 3; round++) gc()
  }
  const next = random(42)
  const scheduler = new QueueScheduler({
    upstreams: [
      { id: 'gpu1', slots: 2, slotAffinity: true },
      { id: 'gpu2', slots: 2, slotAffinity: true },
      { id: 'gpu3', slots: 2 },
      { id: 'gpu4', slots: 2, models: ['m1', 'm2'] },
    ],
    maxQueued: WAITING + 10,
  })
  const ready: Lease[] = []
  const onLease = (lease: Lease) => {
    ready.push(lease)
  }
  const ignore = () => {}
  // Fill every slot first so the measured jobs all wait.
  const first = Array.from({ length: 8 }, (_, index) => scheduler.acquire({ id: `run-${index}` }))
  for (const lease of await Promise.all(first)) ready.push(lease)

  const jobs: JobRequest[] = Array.from({ length: WAITING }, (_, index) => ({
    id: `job-${index}`,
    class: (next() < 0.8 ? 'interactive' : 'batch') as JobClass,
    threadKey: `chat-${Math.floor(next() * 20_000)}`,
    model: ['m1', 'm2', 'm3'][Math.floor(next() * 3)] as string,
  }))
  const controllers = jobs.map(() => new AbortController())
  const promises: Array<Promise<Lease>> = new Array(WAITING)

  collectGarbage()
  const heapBefore = process.memoryUsage().heapUsed
  let started = performance.now()
  for (let index = 0; index < WAITING; index++) promises[index] = scheduler.acquire(jobs[index] as JobRequest, { signal: (controllers[index] as AbortController).signal })
  const enqueueMs = performance.now() - started
  collectGarbage()
  const heapAfter = process.memoryUsage().heapUsed
  for (const promise of promises) promise.then(onLease, ignore)

  // position(): random waiting jobs.
  started = performance.now()
  let positionSum = 0
  for (let index = 0; index < POSITIONS; index++) positionSum += scheduler.position(`job-${Math.floor(next() * WAITING)}`)?.position ?? 0
  const positionMs = performance.now() - started

  // Cancel: abort random waiting jobs (each leaves its lane at once and its promise rejects).
  const victims = new Set<number>()
  while (victims.size < CANCELS) victims.add(Math.floor(next() * WAITING))
  started = performance.now()
  for (const index of victims) (controllers[index] as AbortController).abort()
  const cancelMs = performance.now() - started

  // Dispatch: release running leases; each release starts the next job. Only the release calls are timed;
  // the microtask turn that hands over the new leases is not.
  let dispatched = 0
  let dispatchMs = 0
  while (dispatched < DISPATCHES) {
    await Promise.resolve()
    await Promise.resolve()
    const batch = ready.splice(0)
    if (batch.length === 0) throw new Error('no lease ready')
    started = performance.now()
    for (const lease of batch) lease.release()
    dispatchMs += performance.now() - started
    dispatched += batch.length
  }
  const snapshot = scheduler.snapshot()

  // Baselines for the cancel figure: what any client disconnect costs without a scheduler.
  const spare = Array.from({ length: CANCELS }, () => new AbortController())
  started = performance.now()
  for (const controller of spare) controller.abort()
  const bareAbortMs = performance.now() - started
  started = performance.now()
  for (let index = 0; index < CANCELS; index++) new AbortError(undefined, index)
  const errorMs = performance.now() - started

  started = performance.now()
  scheduler.close()
  const closeMs = performance.now() - started

  console.log(`scheduler bench: ${WAITING} waiting jobs over 4 upstreams x 2 slots (gc ${gcSource})`)
  console.log(`  enqueue   ${format((enqueueMs * 1000) / WAITING)} µs/job   (${WAITING} jobs in ${format(enqueueMs, 1)} ms)`)
  console.log(`  cancel    ${format((cancelMs * 1000) / CANCELS)} µs/job   (${CANCELS} aborts in ${format(cancelMs, 1)} ms, AbortSignal dispatch included)`)
  console.log(`            of which ${format((bareAbortMs * 1000) / CANCELS)} µs is AbortController.abort() alone and ${format((errorMs * 1000) / CANCELS)} µs building the AbortError (stack capture): queue work ${format(((cancelMs - bareAbortMs - errorMs) * 1000) / CANCELS)} µs`)
  console.log(`  dispatch  ${format((dispatchMs * 1000) / dispatched)} µs/job   (${dispatched} release+start in ${format(dispatchMs, 1)} ms)`)
  console.log(`  position  ${format((positionMs * 1000) / POSITIONS)} µs/call  (${POSITIONS} calls, mean position ${Math.round(positionSum / POSITIONS)})`)
  console.log(`  heap      ${Math.round((heapAfter - heapBefore) / WAITING)} bytes/waiting job (job record, lane entry, promise, abort listener)`)
  console.log(`  close     ${format(closeMs, 1)} ms to reject ${snapshot.queued} waiting jobs`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
