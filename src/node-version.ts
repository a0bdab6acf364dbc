/**
 * The Node.js floor of the gateway and server entries (`queuegate`, `queuegate/server`): undici 8 needs
 * 22.19. Pure, so the CLI can share the comparison; node-version-guard.ts applies it on import.
 * @module
 */

/** Oldest Node.js the gateway and server run on, as `[major, minor]`. */
export const NODE_VERSION_FLOOR = [22, 19] as const

/**
 * True when `version` (`process.version` or `process.versions.node`: `'v20.20.2'`, `'20.20.2'`) is at least
 * {@link NODE_VERSION_FLOOR}. A version it cannot read counts as supported: the check is there to turn a
 * known failure into a clear message, not to refuse runtimes it does not know.
 * @example isSupportedNodeVersion('v22.18.0') // false
 */
export function isSupportedNodeVersion(version: string): boolean {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number)
  if (major === undefined || minor === undefined || !Number.isInteger(major) || !Number.isInteger(minor)) return true
  const [floorMajor, floorMinor] = NODE_VERSION_FLOOR
  return major > floorMajor || (major === floorMajor && minor >= floorMinor)
}

/** The one-line message an import of `queuegate` or `queuegate/server` throws on an older Node.js. */
export function unsupportedNodeMessage(version: string): string {
  const shown = version.startsWith('v') ? version : `v${version}`
  return `queuegate needs Node.js >= ${NODE_VERSION_FLOOR.join('.')} (this is ${shown}); queuegate/toolcalls and queuegate/queue alone run on older versions.`
}
