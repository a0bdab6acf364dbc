/**
 * The full-text side of the embedded memory: one MiniSearch index (BM25+) over one namespace's
 * notes. Terms are lower-cased words (Unicode letters and digits), common English function words
 * left out (they match every note and only cost time); a query term of three letters or more
 * also matches longer words it begins (`cat` finds `cats`), at a lower weight.
 * @module
 */
import MiniSearch from 'minisearch'

/** Words too common to rank by. */
const STOP_WORDS = new Set(
  'a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it its just me my of on or our she so than that the their them then there these they this to was we were what when where which who why will with would you your'.split(' '),
)

/** A note as the index sees it. */
interface Doc {
  id: number
  text: string
}

/** A hit: the note's id and its BM25 score. */
export interface TextHit {
  id: number
  score: number
}

/** One namespace's full-text index. */
export class TextIndex {
  readonly #search = new MiniSearch<Doc>({
    fields: ['text'],
    storeFields: [],
    processTerm: (term) => {
      const lower = term.toLowerCase()
      return STOP_WORDS.has(lower) ? null : lower
    },
    searchOptions: { prefix: (term) => term.length >= 3, combineWith: 'OR' },
  })

  add(id: number, text: string): void {
    this.#search.add({ id, text })
  }

  /** Removes a note added before, with the text it was added with. */
  remove(id: number, text: string): void {
    this.#search.remove({ id, text })
  }

  /** Notes matching any term of `query`, best first (none when no term is left after the stop words). */
  search(query: string): readonly TextHit[] {
    // MiniSearch's results carry more fields; ids are the numbers added.
    return this.#search.search(query) as unknown as readonly TextHit[]
  }
}
