/**
 * Imported first by `src/index.ts` and `src/server/index.ts`: on a Node.js older than the floor it throws one
 * Error with a one-line message, before undici is evaluated (else the import dies in a TypeError deep inside
 * undici). Its only effect is that throw; tsup.config.ts keeps it despite `"sideEffects": false`, and
 * test/packaging checks on the built package that it runs before undici.
 * @module
 */
import { isSupportedNodeVersion, unsupportedNodeMessage } from './node-version.js'

// Outside Node.js (no `process`) there is no floor to report: leave it to the runtime.
const version = globalThis.process?.versions?.node
if (typeof version === 'string' && !isSupportedNodeVersion(version)) throw new Error(unsupportedNodeMessage(version))
