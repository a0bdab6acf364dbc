import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'server/index': 'src/server/index.ts',
    'cli/index': 'src/cli/index.ts',
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
})
