#!/usr/bin/env node
// The queuegate command: runs the built CLI (dist/ comes from `npm run build`, which `npm install` runs).
try {
  await import('../dist/cli/index.js')
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/index.js')) {
    process.stderr.write('queuegate: the package is not built (dist/ is missing); run `npm run build` in the checkout first\n')
    process.exit(1)
  }
  throw error
}
