/**
 * The memory tools of a fake tool server (the first version's contract): `memory_query` answers
 * from a list of notes, `memory_upsert` appends to it, `memory_forget` (optional) empties a namespace.
 * @module
 */
const string = { type: 'string' }
/** The memory tools of a tool server: memory_query answers from `notes`, memory_upsert appends to it. */
/** Tools for `startFakeToolServer({ tools })` over `notes` (changed in place). */
export function memoryTools(notes: Array<{ namespace: string; text: string; score?: number }>, options: { forget?: boolean } = {}) {
  return {
    memory_query: {
      schema: { type: 'object', properties: { namespace: string, query: string, k: { type: 'integer' } }, required: ['namespace', 'query'] },
      handler: (args: Record<string, unknown>) => ({
        results: notes.filter((note) => note.namespace === args.namespace).slice(0, Number(args.k ?? 8)).map((note) => ({ text: note.text, score: note.score ?? 0.5 })),
      }),
    },
    memory_upsert: {
      schema: { type: 'object', properties: { namespace: string, text: string, role: string, source: string, ts_unix: { type: 'integer' } }, required: ['namespace', 'text'] },
      handler: (args: Record<string, unknown>) => {
        notes.push({ namespace: String(args.namespace), text: String(args.text) })
        return { ok: true }
      },
    },
    ...(options.forget === true
      ? {
          memory_forget: {
            schema: { type: 'object', properties: { namespace: string }, required: ['namespace'] },
            handler: (args: Record<string, unknown>) => {
              for (let index = notes.length - 1; index >= 0; index--) if (notes[index]?.namespace === args.namespace) notes.splice(index, 1)
              return { ok: true }
            },
          },
        }
      : {}),
  }
}

