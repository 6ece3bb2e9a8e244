import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type PixelGptConfig } from '../../../src/main/ml/pixelgpt/model'
import { Prng } from '../../../src/main/ml/sample/prng'
import { batchAt, lrAt, pretrain, totalSteps, type PretrainOptions, type TokenSet } from '../../../scripts/lib/pretrain'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function tinyOptions(outDir: string): PretrainOptions {
  const config: PixelGptConfig = { side: 4, paletteSize: 4, width: 8, layers: 1, heads: 2, innerWidth: 16, eps: 1e-5, numClasses: 2 }
  const rng = new Prng(7)
  const n = 12
  const tokens = new Int32Array(n * 16)
  const labels = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2
    // Class 0 images are dark (tokens 0-1), class 1 light (tokens 2-3): a learnable pattern.
    for (let t = 0; t < 16; t++) tokens[i * 16 + t] = (i % 2) * 2 + rng.int(2)
  }
  const set: TokenSet = { tokens, labels, count: n }
  return {
    name: 'tiny',
    config,
    palette: Float32Array.from([-1, -1, -1, -0.3, -0.3, -0.3, 0.3, 0.3, 0.3, 1, 1, 1]),
    conditionClasses: ['dark', 'light'],
    train: set,
    val: set,
    outDir,
    seed: 3,
    steps: 8,
    batchSize: 5,
    peakLr: 1e-2,
    warmupSteps: 2,
    minLrRatio: 0.1,
    weightDecay: 0.01,
    clipNorm: 1,
    uncondRate: 0.3,
    augment: (img) => img.reverse(),
    evalEvery: 1000,
    checkpointEveryS: 3600
  }
}

const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'tessera-pretrain-'))
  dirs.push(d)
  return d
}

describe('pretraining loop', () => {
  it('warms up linearly, then decays by a cosine to the floor', () => {
    const o = { steps: 102, peakLr: 1, warmupSteps: 2, minLrRatio: 0.1 }
    expect(lrAt(0, o)).toBeCloseTo(0.5, 12)
    expect(lrAt(1, o)).toBeCloseTo(1, 12)
    expect(lrAt(2, o)).toBeCloseTo(1, 12)
    expect(lrAt(52, o)).toBeCloseTo(0.55, 12)
    expect(lrAt(102, o)).toBeCloseTo(0.1, 12)
  })

  it('builds shifted next-token batches that start with a class token or SOS', () => {
    const o = tinyOptions(tmp())
    const { ids, targets } = batchAt(o, 0, new Map())
    const starts = new Set<number>()
    for (let b = 0; b < o.batchSize; b++) {
      starts.add(Number(ids[b * 16]))
      for (let t = 1; t < 16; t++) expect(ids[b * 16 + t]).toBe(targets[b * 16 + t - 1])
    }
    for (const s of starts) expect([4, 5, 6]).toContain(s) // SOS = K = 4, classes 5 and 6
  })

  it('resumes from a checkpoint to exactly the weights of an uninterrupted run', async () => {
    const straight = await pretrain(tinyOptions(tmp()))
    expect(straight.finished).toBe(true)

    const dir = tmp()
    const first = await pretrain({ ...tinyOptions(dir), stopAtStep: 3 })
    expect(first.finished).toBe(false)
    expect(first.step).toBe(3)
    const resumed = await pretrain(tinyOptions(dir))
    expect(resumed.finished).toBe(true)
    expect(resumed.step).toBe(8)

    for (const [name, t] of straight.model.weights) {
      const other = resumed.model.weights.get(name)
      expect(other, name).toBeDefined()
      expect(Array.from(other!.data)).toEqual(Array.from(t.data))
    }
  })

  it('continues a finished run on a warm-restart schedule, to the same weights whether interrupted or not', async () => {
    const o = { steps: 10, peakLr: 1, warmupSteps: 2, minLrRatio: 0.1, extendSteps: 20, extendPeakLr: 0.5 }
    expect(totalSteps(o)).toBe(30)
    expect(lrAt(9, o)).toBeLessThan(0.2) // the first schedule ends near its floor
    expect(lrAt(10, o)).toBeCloseTo(0.25, 12) // warmup of the continuation: min(2, 20/10) steps
    expect(lrAt(11, o)).toBeCloseTo(0.5, 12)
    expect(lrAt(30, o)).toBeCloseTo(0.05, 12) // floor of the continuation: 0.1 x 0.5

    // Uninterrupted 8 + 4 vs. finished 8, then continued with a stop in the middle.
    const straight = await pretrain({ ...tinyOptions(tmp()), extendSteps: 4, extendPeakLr: 5e-3 })
    expect(straight.step).toBe(12)
    const dir = tmp()
    expect((await pretrain(tinyOptions(dir))).step).toBe(8)
    const part = await pretrain({ ...tinyOptions(dir), extendSteps: 4, extendPeakLr: 5e-3, stopAtStep: 10 })
    expect(part.finished).toBe(false)
    await expect(pretrain({ ...tinyOptions(dir), extendSteps: 6, extendPeakLr: 5e-3 })).rejects.toThrow(/--extend-steps 4/)
    const done = await pretrain({ ...tinyOptions(dir), extendSteps: 4, extendPeakLr: 5e-3 })
    expect(done.step).toBe(12)
    for (const [name, t] of straight.model.weights) expect(Array.from(done.model.weights.get(name)!.data), name).toEqual(Array.from(t.data))
  })
})
