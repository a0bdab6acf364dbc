/**
 * `withTimeout()`: a deadline for any promise a test awaits.
 * @module
 */

/**
 * Resolves or rejects like `promise`, or rejects with an `Error` naming `label` once `ms` have
 * passed. The timer is cleared either way, so a passing test leaves nothing behind.
 * @example await withTimeout(upstream.waitFor((u) => u.active === 1), 2000, 'first request running')
 */
export function withTimeout<T>(promise: PromiseLike<T>, ms: number, label = 'operation'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} timed out after ${ms} ms`)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
