// The MNIST folder tree behind `npm run import:mnist`: stratified subsets, the train/val/test
// plan (val = the last hold-out training images), and PNGs written from arrays (no MNIST
// needed): decoded back pixel for pixel, and a second write keeps what is there.

import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { entryPath, planTree, stratifiedSubset, treeCounts, writeTree } from '../../../scripts/lib/mnist-tree'
import { tempDir } from '../library/tmp'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

describe('stratifiedSubset', () => {
  const labels = [3, 1, 3, 3, 0, 1, 1, 3, 0]
  it('keeps the first N of each label in order', () => {
    expect(stratifiedSubset(labels, [0, 1, 2, 3, 4, 5, 6, 7, 8], 2)).toEqual([0, 1, 2, 4, 5, 8])
    expect(stratifiedSubset(labels, [8, 7, 6, 5, 4, 3, 2], 1)).toEqual([8, 7, 6])
    expect(stratifiedSubset(labels, [2, 0], undefined)).toEqual([2, 0])
    expect(stratifiedSubset(labels, [0, 1], 0)).toEqual([])
  })
  it('refuses a bad count or an index without a label', () => {
    expect(() => stratifiedSubset(labels, [0], 1.5)).toThrow(/whole number/)
    expect(() => stratifiedSubset(labels, [9], 1)).toThrow(/no label/)
  })
})

describe('planTree', () => {
  // 12 training images (labels 0,1,2 repeating), 6 test images.
  const trainLabels = Uint8Array.from({ length: 12 }, (_, i) => i % 3)
  const testLabels = Uint8Array.from([2, 2, 1, 0, 1, 2])
  it('val is the last hold-out training images; test comes from the test file', () => {
    const plan = planTree(trainLabels, testLabels, { holdOut: 3 })
    expect(plan.filter((e) => e.split === 'train').map((e) => e.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    expect(plan.filter((e) => e.split === 'val').map((e) => [e.source, e.index, e.label])).toEqual([
      ['train', 9, 0],
      ['train', 10, 1],
      ['train', 11, 2]
    ])
    expect(plan.filter((e) => e.split === 'test').map((e) => [e.source, e.index, e.label])).toEqual(testLabels.reduce<[string, number, number][]>((a, l, i) => [...a, ['test', i, l]], []))
  })
  it('subsets each split per class and never lets val overlap train', () => {
    const plan = planTree(trainLabels, testLabels, { holdOut: 6, trainPerClass: 1, valPerClass: 2, testPerClass: 1 })
    const c = treeCounts(plan)
    expect(c.train.slice(0, 3)).toEqual([1, 1, 1])
    expect(c.val.slice(0, 3)).toEqual([2, 2, 2])
    expect(c.test.slice(0, 3)).toEqual([1, 1, 1])
    const trainIdx = new Set(plan.filter((e) => e.split === 'train').map((e) => e.index))
    for (const e of plan.filter((x) => x.split === 'val')) expect(trainIdx.has(e.index)).toBe(false)
    expect(plan.filter((e) => e.split === 'test').map((e) => e.index)).toEqual([0, 2, 3])
    expect(() => planTree(trainLabels, testLabels, { holdOut: 13 })).toThrow(/hold-out/)
  })
})

describe('writeTree', () => {
  it('writes grey PNGs that decode to the source pixels, into split/digit folders, and is idempotent', async () => {
    const t = tempDir()
    cleanup = t.cleanup
    const side = 4
    const train = Uint8Array.from({ length: 3 * 16 }, (_, i) => (i * 37) % 256)
    const test = Uint8Array.from({ length: 2 * 16 }, (_, i) => 255 - i)
    const plan = planTree(Uint8Array.from([7, 3, 7]), Uint8Array.from([0, 9]), { holdOut: 1 })
    const root = join(t.dir, 'tree')
    expect(await writeTree(root, plan, { train, test }, side)).toEqual({ written: 5, kept: 0 })
    expect(readdirSync(root).sort()).toEqual(['test', 'train', 'val'])
    expect(readdirSync(join(root, 'train')).sort()).toEqual(['3', '7'])
    expect(readdirSync(join(root, 'val'))).toEqual(['7'])
    expect(readdirSync(join(root, 'test')).sort()).toEqual(['0', '9'])
    for (const e of plan) {
      const meta = await sharp(entryPath(root, e)).metadata()
      expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', side, side, 1])
      const { data } = await sharp(entryPath(root, e)).extractChannel(0).raw().toBuffer({ resolveWithObject: true })
      const src = (e.source === 'train' ? train : test).subarray(e.index * 16, e.index * 16 + 16)
      expect(Array.from(data)).toEqual(Array.from(src))
    }
    const before = statSync(entryPath(root, plan[0]!)).mtimeMs
    expect(await writeTree(root, plan, { train, test }, side)).toEqual({ written: 0, kept: 5 })
    expect(statSync(entryPath(root, plan[0]!)).mtimeMs).toBe(before)
    await expect(writeTree(join(t.dir, 'bad'), [{ split: 'train', source: 'train', index: 3, label: 1 }], { train, test }, side)).rejects.toThrow(/outside/)
  })
})
