/**
 * The `queuegate` command (bin/queuegate.js imports this file).
 * @module
 */
import { ConfigError } from './load-config.js'
import { main } from './main.js'

try {
  await main({ argv: process.argv, env: process.env })
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`queuegate: ${error.message}\n`)
    process.exit(2)
  }
  const code = (error as { code?: string; exitCode?: number }).code
  if (typeof code === 'string' && code.startsWith('commander.')) process.exit((error as { exitCode?: number }).exitCode ?? 1)
  process.stderr.write(`queuegate: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
}
