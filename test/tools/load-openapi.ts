/**
 * Reads an OpenAPI fixture from test/fixtures/openapi/.
 * @module
 */
import { readFileSync } from 'node:fs'

/** The parsed fixture `name` (without `.json`). */
export function loadOpenApi(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/openapi/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>
}
