import { describe, expect, it } from 'vitest'

import { Prng } from '../../../../src/main/ml/sample/prng'
import { argmax, sampleToken, samplingDistribution, validateSampling } from '../../../../src/main/ml/sample/sampler'

const logits = [1, 3, 2, 0, 3]

describe('sampler', () => {
  it('greedy takes the argmax, lowest index on ties', () => {
    expect(argmax(logits)).toBe(1)
    expect(sampleToken(logits, { greedy: true, temperature: 100 }, new Prng(1))).toBe(1)
  })

  it('temperature, top-k and top-p shape the distribution as their definitions say', () => {
    const softmax = (xs: number[]): number[] => {
      const e = xs.map((x) => Math.exp(x))
      const s = e.reduce((a, b) => a + b)
      return e.map((x) => x / s)
    }
    const plain = samplingDistribution(logits, {})
    softmax(logits).forEach((p, i) => expect(plain[i]).toBeCloseTo(p, 12))
    const hot = samplingDistribution(logits, { temperature: 2 })
    softmax(logits.map((x) => x / 2)).forEach((p, i) => expect(hot[i]).toBeCloseTo(p, 12))
    // top-k 3 keeps tokens 1, 4 (logit 3) and 2 (logit 2).
    const k3 = samplingDistribution(logits, { topK: 3 })
    const kept = softmax([3, 2, 3])
    expect([...k3]).toEqual([0, expect.closeTo(kept[0]!, 12), expect.closeTo(kept[1]!, 12), 0, expect.closeTo(kept[2]!, 12)])
    // top-p: p(1) = p(4) ~ 0.39 each; 0.5 needs both, 0.3 needs only the first in order (index 1).
    expect([...samplingDistribution(logits, { topP: 0.3 })]).toEqual([0, 1, 0, 0, 0])
    const p5 = samplingDistribution(logits, { topP: 0.5 })
    expect([...p5]).toEqual([0, 0.5, 0, 0, 0.5])
  })

  it('draws with the stated frequencies and is reproducible from the seed', () => {
    const rng = new Prng(7)
    const counts = [0, 0, 0, 0, 0]
    const n = 20000
    for (let i = 0; i < n; i++) counts[sampleToken(logits, { temperature: 1.5 }, rng)]!++
    const p = samplingDistribution(logits, { temperature: 1.5 })
    counts.forEach((c, i) => expect(Math.abs(c / n - p[i]!)).toBeLessThan(0.015))
    const draw = (seed: number): number[] => {
      const r = new Prng(seed)
      return Array.from({ length: 50 }, () => sampleToken(logits, {}, r))
    }
    expect(draw(3)).toEqual(draw(3))
    expect(draw(3)).not.toEqual(draw(4))
  })

  it('refuses bad settings with a sentence', () => {
    expect(() => validateSampling({ temperature: 0 })).toThrow(/Temperature must be a positive number/)
    expect(() => validateSampling({ topK: 1.5 })).toThrow(/top-k/)
    expect(() => validateSampling({ topP: 0 })).toThrow(/top-p must be in/)
  })

  it('the PRNG is uniform enough and its normals have unit variance', () => {
    const r = new Prng(123)
    let s = 0
    let s2 = 0
    const n = 50000
    for (let i = 0; i < n; i++) {
      const u = r.next()
      expect(u >= 0 && u < 1).toBe(true)
      s += u
    }
    expect(Math.abs(s / n - 0.5)).toBeLessThan(0.01)
    s = 0
    for (let i = 0; i < n; i++) {
      const z = r.normal()
      s += z
      s2 += z * z
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02)
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03)
    expect(new Prng(5).nextU32()).toBe(new Prng(5).nextU32())
    expect(new Prng(5).nextU32()).not.toBe(new Prng(6).nextU32())
  })
})
