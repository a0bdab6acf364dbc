import { fileURLToPath } from 'node:url'
import { defineConfig } from 'tsup'
import type { Options } from 'tsup'

const nodeVersionGuard = fileURLToPath(new URL('./src/node-version-guard.ts', import.meta.url))

/**
 * `src/node-version-guard.ts` is imported for its effect alone (it throws on a Node.js older than 22.19), and
 * esbuild drops such an import when package.json says `"sideEffects": false`: mark that one file as having
 * side effects. test/packaging/built-package.test.ts checks on the build that it fires before undici runs.
 */
const keepNodeVersionGuard: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'keep-node-version-guard',
  setup(build) {
    build.onResolve({ filter: /(^|\/)node-version-guard\.js$/ }, () => ({ path: nodeVersionGuard, sideEffects: true }))
  },
}

export default defineConfig({
  // Keep `index` and `server/index` the first two entries. esbuild (0.28) orders an entry's imports of shared chunks by
  // the set of entries sharing each chunk, so the guard's chunk (shared by exactly these two) is imported
  // first and evaluated before the chunk that imports undici (which fails at evaluation, not at link, on Node 20).
  entry: {
    index: 'src/index.ts',
    'server/index': 'src/server/index.ts',
    // For browsers, edge workers and older Node: no undici, no node:*, no version guard.
    'toolcalls/index': 'src/toolcalls/index.ts',
    'queue/index': 'src/queue/index.ts',
    'cli/index': 'src/cli/index.ts',
    // Metrics (prom-client) and logs (pino): loaded only by who asks for them.
    'observe/index': 'src/observe/index.ts',
  },
  format: ['esm'],
  target: 'node22',
  platform: 'node',
  // Declarations come from tsc (tsconfig.build.json): TypeScript 7 has no compiler API for tsup's dts.
  dts: false,
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
  esbuildPlugins: [keepNodeVersionGuard],
})
