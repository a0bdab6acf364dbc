import { describe, expect, it } from 'vitest'
import { ModelLabels } from '../../src/observe/model-labels.js'

describe('ModelLabels', () => {
  it('names known models, `other` for the rest, `none` without one, and reads the known set again after a change', () => {
    let known = ['a']
    let reads = 0
    const labels = new ModelLabels()
    labels.source(() => {
      reads++
      return known
    })
    expect(labels.label('a')).toBe('a')
    expect(labels.label(undefined)).toBe('none')
    expect(labels.label('b')).toBe('other')
    const before = reads
    // Unknown names do not re-read the set on every request.
    for (let i = 0; i < 100; i++) expect(labels.label(`x${i}`)).toBe('other')
    expect(reads).toBe(before)
    known = ['a', 'b']
    labels.changed()
    expect(labels.label('b')).toBe('b')
  })
})
