/**
 * `GET /v1/memory/{namespace}?q=…&k=…` (the notes a query finds, or the newest without `q`) and
 * `DELETE /v1/memory/{namespace}` (forget them): behind the gateway keys when those are configured
 * (checked before routing), each key seeing only its own conversations' notes.
 * @module
 */
import { InvalidRequestError, NotFoundError, QueuegateError, UnavailableError } from '../errors.js'
import type { ChatMemory } from './chat-memory.js'
import { memoryNamespace } from './chat-memory.js'
import type { GatewayKey } from './gateway-keys.js'
import { lightResponse } from './light-response.js'

/** The path prefix of the memory routes. */
export const MEMORY_PATH = '/v1/memory/'

/** Largest `k` a request may ask for. */
const MAX_K = 200

/**
 * Answers a memory route (`path` starts with {@link MEMORY_PATH}). With gateway keys, a key reaches only the
 * namespaces of its own conversations (see {@link memoryNamespace}); the response names the namespace as asked.
 */
export async function memoryRoute(memory: ChatMemory | undefined, request: Request, path: string, key?: GatewayKey | undefined): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'DELETE') {
    throw new QueuegateError(`Method ${request.method} is not allowed on ${path}.`, { status: 405, type: 'invalid_request_error', code: 'method_not_allowed' })
  }
  if (memory === undefined) throw new NotFoundError('Chat memory is not enabled on this gateway (--memory local or toolserver).', 'memory_not_enabled')
  const namespace = namespaceOf(path)
  const stored = memoryNamespace(key, namespace)
  if (request.method === 'DELETE') {
    await guard(memory.forget(stored))
    return json({ object: 'queuegate.memory.deleted', namespace, deleted: true })
  }
  const params = new URL(request.url).searchParams
  const q = params.get('q') ?? undefined
  const kText = params.get('k')
  const k = kText === null ? 20 : Number(kText)
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new InvalidRequestError(`k must be a whole number from 1 to ${MAX_K}.`, { param: 'k', code: 'invalid_k' })
  const items = await guard(memory.inspect(stored, q, k))
  return json({ object: 'list', namespace, data: items.map((item) => ({ text: item.text, role: item.role ?? null, score: item.score, ts: item.ts })) })
}

function namespaceOf(path: string): string {
  let namespace: string
  try {
    namespace = decodeURIComponent(path.slice(MEMORY_PATH.length))
  } catch (error) {
    throw new InvalidRequestError('The namespace in the path has a malformed percent escape.', { code: 'invalid_namespace', cause: error })
  }
  if (namespace === '') throw new InvalidRequestError('The path needs a namespace: /v1/memory/{namespace}.', { code: 'invalid_namespace' })
  return namespace
}

/** A store failure as a 503 (a QueuegateError passes as it is). */
async function guard<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending
  } catch (error) {
    if (QueuegateError.isInstance(error)) throw error
    throw new UnavailableError(`The memory store failed: ${error instanceof Error ? error.message : String(error)}`, 'memory_unavailable')
  }
}

function json(body: unknown): Response {
  return lightResponse(JSON.stringify(body), 200, { 'content-type': 'application/json' })
}
