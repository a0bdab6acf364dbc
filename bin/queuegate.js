#!/usr/bin/env node
// The queuegate command: runs the built CLI (dist/ comes from `npm run build`, which `npm install` runs).
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `queuegate: needs Node >= 22.19, this is ${process.version}. In the checkout, \`npx queuegate\` runs on the pinned Node 24 (node_modules/.bin/node).\n`,
  )
  process.exit(1)
}
try {
  await import('../dist/cli/index.js')
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/index.js')) {
    process.stderr.write('queuegate: the package is not built (dist/ is missing); run `npm run build` in the checkout first\n')
    process.exit(1)
  }
  throw error
}
