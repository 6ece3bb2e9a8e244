// Pure helpers of the Models panel: the lineage tree order and depth, palette colours, parameter
// counts, metric labels and the flattening of recorded metrics.

import { describe, expect, it } from 'vitest'
import type { ModelSummary } from '../../../src/shared/contract'
import { defaultBase, formatParameters, lineageRows, metricLabel, modelIdFromHash, paletteCss, scalarMetrics, trainingStepsText } from '../../../src/shared/model-view'

const m = (id: string, source: ModelSummary['source'], parentId: string | null = null, createdAt = '2026-01-01T00:00:00Z'): ModelSummary => ({
  id,
  name: id,
  kind: 'imagegpt',
  source,
  createdAt,
  parentId,
  classes: [],
  conditionClasses: []
})

describe('lineageRows', () => {
  it('puts fine-tunes under their base, depth first, roots built-in first', () => {
    const rows = lineageRows([
      m('ft2', 'trained', 'base', '2026-01-03T00:00:00Z'),
      m('imp', 'imported'),
      m('ft1', 'trained', 'base', '2026-01-02T00:00:00Z'),
      m('ft1a', 'trained', 'ft1', '2026-01-04T00:00:00Z'),
      m('base', 'builtin'),
      m('orphan', 'trained', 'gone')
    ])
    expect(rows.map((r) => [r.model.id, r.depth])).toEqual([
      ['base', 0],
      ['ft1', 1],
      ['ft1a', 2],
      ['ft2', 1],
      ['imp', 0],
      ['orphan', 0]
    ])
    expect(rows.find((r) => r.model.id === 'base')?.children).toBe(2)
  })

  it('lists every model once even with a parent cycle', () => {
    const rows = lineageRows([m('a', 'trained', 'b'), m('b', 'trained', 'a')])
    expect(rows.map((r) => r.model.id).sort()).toEqual(['a', 'b'])
  })
})

describe('formatting', () => {
  it('maps palette colours in [-1, 1] to CSS', () => {
    expect(paletteCss([-1, 0, 1])).toBe('rgb(0, 128, 255)')
    expect(paletteCss([-2, 2, 0.5])).toBe('rgb(0, 255, 191)')
  })
  it('formats parameter counts', () => {
    expect(formatParameters(950)).toBe('950')
    expect(formatParameters(28_416)).toBe('28.4 k')
    expect(formatParameters(825_104)).toBe('825.1 k')
    expect(formatParameters(124_000_000)).toBe('124.00 M')
  })
  it('reads the selected model from the address', () => {
    expect(modelIdFromHash('#/models/abc%20d')).toBe('abc d')
    expect(modelIdFromHash('#/models')).toBeNull()
    expect(modelIdFromHash('#/datasets/x')).toBeNull()
  })
  it('labels and flattens metrics, leaving out matrices and lists', () => {
    expect(metricLabel('bitsPerTokenConditional')).toBe('bits per token conditional')
    expect(metricLabel('classification.macroF1')).toBe('classification: macro F1')
    expect(
      scalarMetrics({ split: 'test', bitsPerToken: 0.5, classification: { accuracy: 0.975, confusion: [[1]], perClass: [], ece: 0.01 }, misclassified: [] })
    ).toEqual([
      { key: 'split', value: 'test' },
      { key: 'bitsPerToken', value: '0.5000' },
      { key: 'classification.accuracy', value: '0.9750' },
      { key: 'classification.ece', value: '0.0100' }
    ])
    // A built-in model's eval.json: two levels down, deeper tables left out.
    expect(
      scalarMetrics({ model: 'resources/models/tessera-digits', evaluatedAt: '2026-11-28T19:36:40.673Z', mnistTest: { model: 'x', linearProbe: { accuracy: 0.9544, layer: 4, validationAccuracyByLayer: { '1': 0.9384 } }, bitsPerTokenConditional: 0.731 } })
    ).toEqual([
      { key: 'evaluatedAt', value: '2026-11-28 19:36 UTC' },
      { key: 'mnistTest.linearProbe.accuracy', value: '0.9544' },
      { key: 'mnistTest.linearProbe.layer', value: '4' },
      { key: 'mnistTest.bitsPerTokenConditional', value: '0.7310' }
    ])
    expect(metricLabel('mnistTest.linearProbe.accuracy')).toBe('mnist test: linear probe: accuracy')
    expect(scalarMetrics(null)).toEqual([])
  })
})

describe('defaultBase', () => {
  const model = (name: string, source: ModelSummary['source'], classes: string[], conditionClasses: string[], createdAt = '2026-01-01T00:00:00Z', kind = 'imagegpt (generate)'): ModelSummary => ({
    id: name,
    name,
    kind,
    source,
    createdAt,
    parentId: null,
    classes,
    conditionClasses
  })
  const digits = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
  const emojiCats = ['Flags', 'Objects', 'Symbols']
  const library = [
    model('tessera-emoji', 'builtin', [], emojiCats, '2026-01-01T00:00:02Z'),
    model('my digits (joint)', 'trained', digits, digits, '2026-01-02T00:00:00Z'),
    model('tessera-digits-classifier', 'builtin', digits, digits, '2026-01-01T00:00:01Z'),
    model('tessera-digits', 'builtin', digits, digits, '2026-01-01T00:00:00Z'),
    model('resnet', 'imported', digits, [], '2026-01-03T00:00:00Z', 'onnx-classifier')
  ]

  it('picks the model that knows the dataset classes: digits for MNIST, emoji for emoji categories', () => {
    expect(defaultBase(library, digits)?.name).toBe('tessera-digits')
    expect(defaultBase(library, ['flags', 'Symbols', 'Smileys & Emotion'])?.name).toBe('tessera-emoji')
  })

  it('prefers a built-in over a fine-tune and the original over later models, and never an ONNX model', () => {
    expect(defaultBase(library.slice(0, 2), digits)?.name).toBe('my digits (joint)')
    expect(defaultBase(library, [])?.name).toBe('tessera-digits')
    expect(defaultBase([library[4]!], digits)).toBeNull()
  })
})

describe('trainingStepsText', () => {
  it('says when a run stopped early and which step its weights are from', () => {
    expect(trainingStepsText({ steps: 91, bestStep: 26, stoppedEarly: true, plan: { steps: 130, batchSize: 16 } })).toBe('stopped early at step 91 of 130 (batch 16) · weights of step 26, the best validation')
    expect(trainingStepsText({ steps: 130, bestStep: 117, stoppedEarly: false, plan: { steps: 130, batchSize: 16 } })).toBe('130 steps of 16 · weights of step 117, the best validation')
    expect(trainingStepsText({ steps: 130, bestStep: 130, stoppedEarly: false, plan: { steps: 130, batchSize: 16 } })).toBe('130 steps of 16')
    expect(trainingStepsText({ steps: 1, bestStep: null, stoppedEarly: false, plan: {} })).toBe('1 step')
    expect(trainingStepsText({ objective: 'probe' })).toBeNull()
  })
})
