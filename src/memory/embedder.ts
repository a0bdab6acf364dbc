/**
 * What semantic ranking needs: texts in, vectors out. The gateway's embedder calls an
 * upstream's `/v1/embeddings` through its own queue (`gateway/memory-embedder.ts`); a test or a
 * library user may pass any other.
 * @module
 */

/** Turns texts into embedding vectors. */
export interface Embedder {
  /** The model's id: stored with each vector, so vectors of another model are never compared. */
  readonly model: string
  /** One vector per text, in order. Rejects when they cannot be had (the store then ranks by full text). */
  embed(texts: string[], options?: { signal?: AbortSignal | undefined }): Promise<number[][]>
}

/** `vector` scaled to length 1 (all zeros stays zeros), as 32-bit floats: a dot product is then the cosine. */
export function unitVector(vector: readonly number[]): Float32Array {
  let sum = 0
  for (const x of vector) sum += x * x
  const out = new Float32Array(vector.length)
  if (sum === 0 || !Number.isFinite(sum)) return out
  const scale = 1 / Math.sqrt(sum)
  for (let index = 0; index < vector.length; index++) out[index] = (vector[index] as number) * scale
  return out
}

/** The dot product over the shorter length (unit vectors: their cosine). */
export function dot(a: Float32Array, b: Float32Array): number {
  const length = Math.min(a.length, b.length)
  let sum = 0
  for (let index = 0; index < length; index++) sum += (a[index] as number) * (b[index] as number)
  return sum
}
