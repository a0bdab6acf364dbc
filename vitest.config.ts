import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    // Subpaths before `queuegate`: an alias also matches `queuegate/...`, and the first match wins.
    alias: {
      'queuegate/server': fileURLToPath(new URL('./src/server/index.ts', import.meta.url)),
      'queuegate/toolcalls': fileURLToPath(new URL('./src/toolcalls/index.ts', import.meta.url)),
      'queuegate/queue': fileURLToPath(new URL('./src/queue/index.ts', import.meta.url)),
      'queuegate/observe': fileURLToPath(new URL('./src/observe/index.ts', import.meta.url)),
      queuegate: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
})
