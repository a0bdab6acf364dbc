/**
 * The full-text side of the embedded memory: one MiniSearch index (BM25+) over one namespace's
 * notes. Terms are lower-cased words (Unicode letters and digits), common English function words
 * left out (they match every note and only cost time); a query term of four letters or more
 * also matches longer words it begins (`walk` finds `walking`), at a lower weight (shorter
 * terms would expand to many unrelated words: `car` to `card`, `care`, `career`).
 * @module
 */
import MiniSearch from 'minisearch'

/** Words too common to rank by (English function words and chat filler). */
const STOP_WORDS = new Set(
  'a about all also an and any are as at be been but by can could did do does for from get had has have he hello her hi his how i if in into is it its just know like me more my no not of ok okay on or our please really she should so some sure than thank thanks that the their them then there these they think this to tell very want was we were what when where which who why will with would yes you your'.split(' '),
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
    searchOptions: { prefix: (term) => term.length >= 4, combineWith: 'OR' },
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
