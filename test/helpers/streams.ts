/**
 * Web-stream helpers for tests: array → `ReadableStream` → `pipeThrough(...)` → array.
 * @module
 */

/** A `ReadableStream` that yields `items` in order, then closes. */
export function arrayToStream<T>(items: Iterable<T>): ReadableStream<T> {
  const iterator = items[Symbol.iterator]()
  return new ReadableStream<T>({
    pull(controller) {
      const next = iterator.next()
      if (next.done === true) controller.close()
      else controller.enqueue(next.value)
    },
  })
}

/**
 * Reads a stream (or any async iterable, such as an `openai` client stream) to the end and
 * returns every item. Rejects with the stream's error.
 * @example const chunks = await collectStream(arrayToStream(input).pipeThrough(new ToolCallDetector({ tools })))
 */
export async function collectStream<T>(stream: ReadableStream<T> | AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of stream as AsyncIterable<T>) items.push(item)
  return items
}

/** Reads a byte stream (or a `Response` body) to the end as UTF-8 text. */
export async function readText(stream: ReadableStream<Uint8Array> | null): Promise<string> {
  if (stream === null) return ''
  return new Response(stream).text()
}
