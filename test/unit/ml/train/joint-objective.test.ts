// The joint objective's two losses against an independent reference: the model's own inference
// graphs (PixelGptRunner). L_clf must be the mean cross-entropy of Hugging Face's classifier on
// the plain pixel tokens; L_gen the mean next-token NLL of [start, t1 .. t_{T-1}] -> [t1 .. tT],
// exactly what `model score` and generation read, with a class token as start where asked.

import { describe, expect, it } from 'vitest'

import { Graph } from '../../../../src/main/ml/graph/graph'
import { classToken, initPixelGpt, type PixelGptConfig, seqLen, sosToken } from '../../../../src/main/ml/pixelgpt/model'
import { PixelGptRunner } from '../../../../src/main/ml/pixelgpt/runner'
import { hostTensor, runGraph } from '../../../../src/main/ml/runtime'
import { Prng } from '../../../../src/main/ml/sample/prng'
import { jointLosses } from '../../../../src/main/ml/train/objectives'

describe('joint objective (L_clf on pixels + L_gen on the generation sequence)', () => {
  it('equals the classifier cross-entropy and the scored NLL of the same items, class-conditional starts included', async () => {
    const c: PixelGptConfig = { side: 4, paletteSize: 5, width: 16, layers: 2, heads: 2, innerWidth: 64, eps: 1e-5, numClasses: 3 }
    const N = 3
    const model = initPixelGpt(c, { seed: 11, lmHead: true, classes: ['a', 'b', 'c'], conditionClasses: ['a', 'b', 'c'] })
    // Larger weights than the N(0, 0.02) init, so the losses are far from uniform and differ per item.
    for (const t of model.weights.values()) for (let i = 0; i < t.data.length; i++) t.data[i] = (t.data[i] as number) * 8
    const T = seqLen(c)
    const rng = new Prng(5)
    const items = Array.from({ length: 4 }, () => Int32Array.from({ length: T }, () => Math.floor(rng.next() * c.paletteSize)))
    const labels = [0, 2, 1, 2]
    const starts = [classToken(c, 0), sosToken(c), classToken(c, 1), classToken(c, 2)]

    const g = new Graph('joint-test')
    const { clf, gen } = jointLosses(g, c, N)
    g.output(clf, 'clf')
    g.output(gen, 'gen')
    const B = items.length
    const ids = new BigInt64Array(2 * B * T)
    const targets = new BigInt64Array(B * T)
    items.forEach((img, b) => {
      for (let t = 0; t < T; t++) {
        ids[2 * b * T + t] = BigInt(img[t]!)
        ids[(2 * b + 1) * T + t] = BigInt(t === 0 ? starts[b]! : img[t - 1]!)
        targets[b * T + t] = BigInt(img[t]!)
      }
    })
    const feeds: Record<string, ReturnType<typeof hostTensor>> = {
      ids: hostTensor('int64', [2 * B, T], ids),
      targets: hostTensor('int64', [B, T], targets),
      labels: hostTensor('int64', [B], BigInt64Array.from(labels.map(BigInt)))
    }
    for (const v of g.params) {
      const w = model.weights.get(v.name)!
      feeds[v.name] = hostTensor('float32', w.shape, w.data)
    }
    const out = await runGraph(g, feeds)

    const runner = new PixelGptRunner(model)
    const probs = await runner.classProbabilities(items)
    const clfRef = probs.reduce((s, p, b) => s - Math.log(p[labels[b]!]!), 0) / B
    const nll = await runner.nll(items, starts)
    const genRef = nll.reduce((s, x) => s + x, 0) / B
    // Sanity: the references are not degenerate (distinct per item, away from uniform).
    expect(new Set(nll.map((x) => x.toFixed(4))).size).toBe(B)
    expect(Math.abs(genRef - Math.log(c.paletteSize))).toBeGreaterThan(0.05)

    expect((out.clf!.data as Float32Array)[0]).toBeCloseTo(clfRef, 5)
    expect((out.gen!.data as Float32Array)[0]).toBeCloseTo(genRef, 5)
    // The generation rows are what counts for L_gen: with SOS starts everywhere the loss changes.
    const sosNll = await runner.nll(items, items.map(() => sosToken(c)))
    expect(Math.abs(sosNll.reduce((s, x) => s + x, 0) / B - genRef)).toBeGreaterThan(1e-4)
  })
})
