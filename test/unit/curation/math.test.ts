// The curation maths on small synthetic cases: the softmax-regression gradient against finite
// differences, its optimum against the closed form, seeded stratified folds, the
// confident-learning rule, the kNN outlier score, similarity groups and robust z-scores.

import { describe, expect, it } from 'vitest'
import {
  centeredUnitRows,
  confidentLearning,
  fitSoftmax,
  neighbourScan,
  outOfFoldProbabilities,
  predictSoftmax,
  robustZ,
  softmaxObjective,
  standardize,
  stratifiedFolds
} from '../../../src/main/curation/math'
import { seededRandom } from '../../../src/main/datasets/splits'

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand())
}

describe('softmax regression', () => {
  it('has the gradient finite differences give', () => {
    const rand = seededRandom(3)
    const n = 7
    const d = 4
    const k = 3
    const data = { x: Float64Array.from({ length: n * d }, () => gaussian(rand)), y: Int32Array.from({ length: n }, (_, i) => i % k), n, d, k }
    const params = Float64Array.from({ length: d * k + k }, () => gaussian(rand) * 0.5)
    const grad = new Float64Array(params.length)
    const l2 = 0.3
    softmaxObjective(params, data, l2, grad)
    const scratch = new Float64Array(params.length)
    const h = 1e-6
    for (let p = 0; p < params.length; p++) {
      const plus = Float64Array.from(params)
      const minus = Float64Array.from(params)
      plus[p] = (plus[p] as number) + h
      minus[p] = (minus[p] as number) - h
      const fd = (softmaxObjective(plus, data, l2, scratch) - softmaxObjective(minus, data, l2, scratch)) / (2 * h)
      expect(grad[p]).toBeCloseTo(fd, 6)
    }
  })

  it('reaches the closed-form optimum: without features the probabilities are the class frequencies', async () => {
    // 6 of class 0, 3 of class 1, 1 of class 2; the one feature is always 0.
    const y = Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
    const m = await fitSoftmax({ x: new Float64Array(10), y, n: 10, d: 1, k: 3 }, { tolerance: 1e-10 })
    const p = predictSoftmax(m, new Float64Array(1), 1)
    expect(p[0]).toBeCloseTo(0.6, 6)
    expect(p[1]).toBeCloseTo(0.3, 6)
    expect(p[2]).toBeCloseTo(0.1, 6)
  })

  it('converges to a stationary point and separates separable classes', async () => {
    const rand = seededRandom(5)
    const n = 90
    const centres = [
      [3, 0],
      [-3, 0],
      [0, 3]
    ]
    const y = Int32Array.from({ length: n }, (_, i) => i % 3)
    const x = Float64Array.from({ length: n * 2 }, (_, j) => (centres[y[j >> 1] as number] as number[])[j & 1]! + 0.5 * gaussian(rand))
    const data = { x, y, n, d: 2, k: 3 }
    const m = await fitSoftmax(data, { l2: 1e-3, tolerance: 1e-8 })
    const grad = new Float64Array(2 * 3 + 3)
    softmaxObjective(Float64Array.from([...m.w, ...m.b]), data, 1e-3, grad)
    expect(Math.max(...grad.map(Math.abs))).toBeLessThan(1e-6)
    const p = predictSoftmax(m, x, n)
    for (let i = 0; i < n; i++) {
      const row = [p[i * 3]!, p[i * 3 + 1]!, p[i * 3 + 2]!]
      expect(row.indexOf(Math.max(...row))).toBe(y[i])
    }
  })
})

describe('stratified folds', () => {
  it('deal every class evenly over the folds, the same way for the same seed', () => {
    const y = Int32Array.from({ length: 53 }, (_, i) => (i < 30 ? 0 : i < 50 ? 1 : 2))
    const f = stratifiedFolds(y, 5, 11)
    expect(stratifiedFolds(y, 5, 11)).toEqual(f)
    expect(stratifiedFolds(y, 5, 12)).not.toEqual(f)
    for (const c of [0, 1]) {
      const counts = [0, 0, 0, 0, 0]
      y.forEach((v, i) => v === c && counts[f[i]!]!++)
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
    }
    const sizes = [0, 0, 0, 0, 0]
    f.forEach((v) => sizes[v]!++)
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
  })
})

describe('confident learning', () => {
  it('flags an item whose above-threshold argmax is another class, with that class suggested', () => {
    // Class thresholds: t0 = mean(0.9, 0.8, 0.1) = 0.6, t1 = mean(0.7, 0.9) = 0.8.
    const probs = Float64Array.from([
      0.9, 0.1, // labelled 0, clearly 0
      0.8, 0.2, // labelled 0, clearly 0
      0.1, 0.9, // labelled 0 but confidently 1: flagged, suggested 1
      0.3, 0.7, // labelled 1, under t1 = 0.8 and under t0: no confident class
      0.1, 0.9 // labelled 1, clearly 1
    ])
    const y = Int32Array.from([0, 0, 0, 1, 1])
    const r = confidentLearning(probs, y, 5, 2)
    expect(r.thresholds[0]).toBeCloseTo(0.6, 12)
    expect(r.thresholds[1]).toBeCloseTo(0.8, 12)
    expect([...r.flagged]).toEqual([0, 0, 1, 0, 0])
    expect([...r.suggested]).toEqual([0, 0, 1, -1, 1])
    expect(r.selfConfidence[2]).toBeCloseTo(0.1, 12)
  })

  it('finds most planted flips (10 of 300) in three Gaussian classes from out-of-fold probabilities', async () => {
    const rand = seededRandom(9)
    const n = 300
    const k = 3
    const d = 5
    const truth = Int32Array.from({ length: n }, (_, i) => i % k)
    const x = new Float64Array(n * d)
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = (j === truth[i] ? 3 : 0) + gaussian(rand)
    const y = Int32Array.from(truth)
    const flipped = [5, 17, 40, 77, 101, 150, 199, 230, 261, 290]
    for (const i of flipped) y[i] = (truth[i]! + 1) % k
    const probs = await outOfFoldProbabilities({ x: standardize(x, n, d), y, n, d, k }, { folds: 5, seed: 1 })
    const r = confidentLearning(probs, y, n, k)
    const found = flipped.filter((i) => r.flagged[i] === 1)
    // Measured: 8 of 10 found, no false positive (the two missed sit between two classes).
    expect(found.length).toBeGreaterThanOrEqual(7)
    for (const i of found) expect(r.suggested[i]).toBe(truth[i])
    const falsePositives = [...r.flagged].filter((f, i) => f === 1 && !flipped.includes(i)).length
    expect(falsePositives).toBeLessThanOrEqual(2)
  })
})

describe('neighbour scan', () => {
  it('scores the isolated point highest, with the mean cosine distance to its k nearest', async () => {
    // Unit vectors at angles 0, 10, 20, 30 degrees and one at 180.
    const angles = [0, 10, 20, 30, 180].map((a) => (a * Math.PI) / 180)
    const unit = Float64Array.from(angles.flatMap((a) => [Math.cos(a), Math.sin(a)]))
    const r = await neighbourScan(unit, 5, 2, { k: 2, threshold: 2 })
    const cosd = (deg: number): number => 1 - Math.cos((deg * Math.PI) / 180)
    expect(r.knnDistance[0]).toBeCloseTo((cosd(10) + cosd(20)) / 2, 12)
    expect(r.knnDistance[1]).toBeCloseTo(cosd(10), 12)
    expect(r.knnDistance[4]).toBeCloseTo((cosd(150) + cosd(160)) / 2, 12)
    expect(Math.max(...r.knnDistance)).toBe(r.knnDistance[4])
    expect(r.groups).toEqual([])
  })

  it('groups rows at or above the similarity threshold, transitively', async () => {
    const angles = [0, 1, 2, 60, 120, 121].map((a) => (a * Math.PI) / 180)
    const unit = Float64Array.from(angles.flatMap((a) => [Math.cos(a), Math.sin(a)]))
    const r = await neighbourScan(unit, 6, 2, { k: 1, threshold: Math.cos((1.5 * Math.PI) / 180) })
    expect(r.groups.map((g) => g.rows)).toEqual([
      [4, 5],
      [0, 1, 2]
    ])
    expect(r.groups[1]!.minSimilarity).toBeCloseTo(Math.cos((2 * Math.PI) / 180), 12)
  })

  it('links a pair above the threshold only when the link check agrees', async () => {
    const unit = Float64Array.from([1, 0, 1, 0, 1, 0])
    expect((await neighbourScan(unit, 3, 2, { k: 1, threshold: 0.99 })).groups.map((g) => g.rows)).toEqual([[0, 1, 2]])
    // 0-1 and 1-2 refused: 0 and 2 still link directly.
    const r = await neighbourScan(unit, 3, 2, { k: 1, threshold: 0.99, link: (i, j) => !(i === 0 && j === 1) && !(i === 1 && j === 2) })
    expect(r.groups.map((g) => g.rows)).toEqual([[0, 2]])
  })

  it('centres rows before normalising them', () => {
    const u = centeredUnitRows(Float64Array.from([1, 1, 3, 1]), 2, 2)
    expect([...u]).toEqual([-1, 0, 1, 0])
  })
})

describe('robust z', () => {
  it('is unmoved by the outlier it points at', () => {
    const z = robustZ([1, 2, 3, 4, 5, 1000])
    expect(z[5]).toBeGreaterThan(100)
    expect(Math.abs(z[2]!)).toBeLessThan(1)
    expect(Number.isNaN(robustZ([1, NaN, 2])[1])).toBe(true)
  })
})
