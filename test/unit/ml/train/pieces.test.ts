// The training pipeline's pure pieces against hand-worked values: metrics, augmentation,
// batch plans, schedules and the auto plan.

import { describe, expect, it } from 'vitest'
import { augmentTokens, BatchPlan } from '../../../../src/main/ml/train/data'
import { classificationMetrics } from '../../../../src/main/ml/train/metrics'
import { makePlan, type PlanFacts } from '../../../../src/main/ml/train/plan'
import { lrAt } from '../../../../src/main/ml/train/schedule'
import { Prng } from '../../../../src/main/ml/sample/prng'

describe('classification metrics', () => {
  it('accuracy, per-class precision/recall/F1, confusion and ECE as worked by hand', () => {
    // true: a a b b c ; predicted: a b b b a (confidences .9 .6 .8 .7 .5)
    const probs = [
      [0.9, 0.05, 0.05],
      [0.3, 0.6, 0.1],
      [0.1, 0.8, 0.1],
      [0.2, 0.7, 0.1],
      [0.5, 0.2, 0.3]
    ]
    const m = classificationMetrics(probs, [0, 0, 1, 1, 2], ['a', 'b', 'c'], 10)
    expect(m.accuracy).toBeCloseTo(3 / 5, 12)
    expect(m.confusion).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 0]
    ])
    const [a, b, c] = m.perClass
    expect(a!.precision).toBeCloseTo(1 / 2, 12)
    expect(a!.recall).toBeCloseTo(1 / 2, 12)
    expect(b!.precision).toBeCloseTo(2 / 3, 12)
    expect(b!.recall).toBe(1)
    expect(b!.f1).toBeCloseTo((2 * (2 / 3)) / (2 / 3 + 1), 12)
    expect(c!.f1).toBe(0)
    // Bins of width 0.1: 0.9 (hit) | 0.6 (miss) | 0.8 (hit) | 0.7 (hit) | 0.5 (miss)
    const ece = (Math.abs(1 - 0.9) + Math.abs(0 - 0.6) + Math.abs(1 - 0.8) + Math.abs(1 - 0.7) + Math.abs(0 - 0.5)) / 5
    expect(m.ece).toBeCloseTo(ece, 12)
    const loss = -(Math.log(0.9) + Math.log(0.3) + Math.log(0.8) + Math.log(0.7) + Math.log(0.3)) / 5
    expect(m.loss).toBeCloseTo(loss, 12)
  })
})

describe('token augmentation', () => {
  const side = 4
  const grid = Int32Array.from({ length: 16 }, (_, i) => i)
  it('flips rows left-right and shifts with edge pixels repeated; each draw is one of those', () => {
    const seen = new Set<string>()
    for (let s = 0; s < 200; s++) {
      const t = grid.slice()
      augmentTokens(t, side, { flip: true, shift: 1 }, new Prng(s))
      // Rebuild the expected image for every (flip, dx, dy) and require one to match.
      let match = ''
      for (const flip of [false, true])
        for (let dx = -1; dx <= 1; dx++)
          for (let dy = -1; dy <= 1; dy++) {
            const e = new Int32Array(16)
            for (let y = 0; y < side; y++)
              for (let x = 0; x < side; x++) {
                let sx = Math.min(side - 1, Math.max(0, x - dx))
                const sy = Math.min(side - 1, Math.max(0, y - dy))
                if (flip) sx = side - 1 - sx
                e[y * side + x] = sy * side + sx
              }
            if (e.every((v, i) => v === t[i])) match = `${flip}${dx}${dy}`
          }
      expect(match).not.toBe('')
      seen.add(match)
    }
    expect(seen.size).toBe(18)
  })
  it('with both off leaves the image alone', () => {
    const t = grid.slice()
    augmentTokens(t, side, { flip: false, shift: 0 }, new Prng(1))
    expect(Array.from(t)).toEqual(Array.from(grid))
  })
})

describe('batch plan', () => {
  it('is a function of (seed, step); every epoch visits every item once', () => {
    const p1 = new BatchPlan(10, 5, 3, [], false)
    const p2 = new BatchPlan(10, 5, 3, [], false)
    expect(p1.indices(7)).toEqual(p2.indices(7))
    expect([...p1.indices(2), ...p1.indices(3)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(p1.indices(2)).not.toEqual(p1.indices(0))
  })
  it('balanced sampling draws each class about equally however skewed the set', () => {
    const labels = [...new Array<number>(90).fill(0), ...new Array<number>(10).fill(1)]
    const p = new BatchPlan(100, 50, 1, labels, true)
    let ones = 0
    for (let s = 0; s < 40; s++) ones += p.indices(s).filter((i) => labels[i] === 1).length
    expect(ones / 2000).toBeGreaterThan(0.45)
    expect(ones / 2000).toBeLessThan(0.55)
  })
})

describe('schedule', () => {
  it('warms up linearly, then decays on a cosine to the floor', () => {
    const s = { kind: 'cosine' as const, peakLr: 1, warmupSteps: 4, totalSteps: 104, minLrRatio: 0.1 }
    expect(lrAt(s, 0)).toBeCloseTo(0.25, 12)
    expect(lrAt(s, 3)).toBeCloseTo(1, 12)
    expect(lrAt(s, 54)).toBeCloseTo(0.1 + 0.9 * 0.5, 12)
    expect(lrAt(s, 104)).toBeCloseTo(0.1, 12)
    expect(lrAt({ ...s, kind: 'constant' }, 50)).toBe(1)
  })
})

describe('auto plan', () => {
  const facts: PlanFacts = { trainCount: 100, valCount: 10, trainClasses: 0, labelledTrain: 0, layers: 4, width: 64, parameters: 2e5, device: 'cpu' }
  it('generative for unlabelled data, a probe for few labels, joint with enough; one sentence why', () => {
    expect(makePlan({ dataset: 'd', base: 'm' }, facts).objective).toBe('generative')
    const probe = makePlan({ dataset: 'd', base: 'm' }, { ...facts, trainClasses: 3, labelledTrain: 90 })
    expect(probe.objective).toBe('probe')
    expect(probe.layer).toBe(2)
    expect(probe.reason).toMatch(/^Training a linear probe, because 90 labelled images are too few/)
    expect(makePlan({ dataset: 'd', base: 'm' }, { ...facts, trainCount: 3000, trainClasses: 3, labelledTrain: 3000 }).objective).toBe('joint')
  })
  it("flips follow the base model's mirror unless the request says otherwise, and the sentence says why", () => {
    const labelled = { ...facts, trainCount: 3000, trainClasses: 3, labelledTrain: 3000 }
    expect(makePlan({ dataset: 'd', base: 'm' }, labelled).flip).toBe(true)
    const digits = makePlan({ dataset: 'd', base: 'm' }, { ...labelled, mirror: false })
    expect(digits).toMatchObject({ augment: true, flip: false })
    expect(digits.reason).toMatch(/shifts only, since the base model is for images whose mirror image means something else\.$/)
    const asked = makePlan({ dataset: 'd', base: 'm', flip: true }, { ...labelled, mirror: false })
    expect(asked.flip).toBe(true)
    expect(asked.reason).not.toMatch(/shifts only/)
    expect(makePlan({ dataset: 'd', base: 'm', flip: false }, labelled).flip).toBe(false)
  })
  it('one class cannot be classified', () => {
    expect(() => makePlan({ dataset: 'd', base: 'm', objective: 'classify' }, { ...facts, trainClasses: 1, labelledTrain: 50 })).toThrow(/only one class/)
  })
  it('the plain-SGD request is one unclipped constant-lr step over every item', () => {
    const p = makePlan({ dataset: 'd', base: 'm', objective: 'generative', optimizer: 'sgd', lr: 0.1, batchSize: 'all', augment: false, weightDecay: 0, steps: 1 }, facts)
    expect(p).toMatchObject({ steps: 1, batchSize: 100, clipNorm: null, warmupSteps: 0, schedule: 'constant', weightDecay: 0, augment: false, lr: 0.1 })
  })
})
