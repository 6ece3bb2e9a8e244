import { describe, expect, it } from 'vitest'
import { summaryLine } from '../../../src/main/cli/models'
import type { ModelSummary } from '../../../src/shared/contract'

describe('tessera model list lines', () => {
  const base: ModelSummary = { id: 'b1', name: 'tessera-digits', kind: 'imagegpt (generate + classify)', source: 'builtin', createdAt: '2026-01-01T00:00:00Z', parentId: null, classes: [], conditionClasses: [] }
  const tuned: ModelSummary = { ...base, id: 't1', name: 'digits (joint)', source: 'trained', parentId: 'b1' }

  it('word the source as the Models panel does and name a fine-tune\'s base', () => {
    const names = new Map([[base.id, base.name]])
    expect(summaryLine(base, names)).toBe('b1  tessera-digits  imagegpt (generate + classify)  (built-in)')
    expect(summaryLine(tuned, names)).toBe('t1  digits (joint)  imagegpt (generate + classify)  (fine-tuned from tessera-digits)')
    // A base that is gone (or not in the list) is named by its id.
    expect(summaryLine(tuned)).toBe('t1  digits (joint)  imagegpt (generate + classify)  (fine-tuned from b1)')
  })
})
