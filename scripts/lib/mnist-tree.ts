// MNIST as a folder tree the product imports with `tessera dataset import --split-from-folders`:
// <root>/train/<digit>/, <root>/val/<digit>/, <root>/test/<digit>/ of 28x28 grey PNGs.
// val = the last 5,000 training images (the hold-out tessera-digits was pretrained without).
// Pure parts (planning, stratified subsets, writing from arrays) live here so tests need no data.

import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'

export type MnistTreeSplit = 'train' | 'val' | 'test'

/** One image of the tree: where it comes from and where it goes. */
export interface TreeEntry {
  split: MnistTreeSplit
  /** Which source array: MNIST's training file or its test file. */
  source: 'train' | 'test'
  /** Index into that source. */
  index: number
  label: number
}

export interface TreeOptions {
  /** Training images that are validation: the last `holdOut` of the training file (5,000). */
  holdOut: number
  /** At most this many train images per class (the first ones, in file order); all when absent. */
  trainPerClass?: number
  valPerClass?: number
  testPerClass?: number
}

/**
 * The first `perClass` of each label among `indices`, in their order (MNIST's files are
 * already shuffled, so this is a stratified subset; deterministic). `perClass` undefined: all.
 */
export function stratifiedSubset(labels: ArrayLike<number>, indices: readonly number[], perClass?: number): number[] {
  if (perClass === undefined) return [...indices]
  if (!Number.isInteger(perClass) || perClass < 0) throw new Error(`per-class count must be a whole number >= 0, not ${perClass}.`)
  const taken = new Map<number, number>()
  const out: number[] = []
  for (const i of indices) {
    const l = labels[i]
    if (l === undefined) throw new Error(`index ${i} has no label (${labels.length} labels).`)
    const k = taken.get(l) ?? 0
    if (k >= perClass) continue
    taken.set(l, k + 1)
    out.push(i)
  }
  return out
}

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i)

/** Every image of the tree, train and val from the training file, test from the test file. */
export function planTree(trainLabels: ArrayLike<number>, testLabels: ArrayLike<number>, opts: TreeOptions): TreeEntry[] {
  const n = trainLabels.length
  if (opts.holdOut < 0 || opts.holdOut > n) throw new Error(`hold-out ${opts.holdOut} is not within the ${n} training images.`)
  const cut = n - opts.holdOut
  const entry = (split: MnistTreeSplit, source: 'train' | 'test', labels: ArrayLike<number>) => (index: number): TreeEntry => ({
    split,
    source,
    index,
    label: labels[index]!
  })
  return [
    ...stratifiedSubset(trainLabels, range(0, cut), opts.trainPerClass).map(entry('train', 'train', trainLabels)),
    ...stratifiedSubset(trainLabels, range(cut, n), opts.valPerClass).map(entry('val', 'train', trainLabels)),
    ...stratifiedSubset(testLabels, range(0, testLabels.length), opts.testPerClass).map(entry('test', 'test', testLabels))
  ]
}

/** Path of an entry inside the tree: `<split>/<digit>/mnist-<source>-<index>.png`. */
export function entryPath(root: string, e: TreeEntry): string {
  return join(root, e.split, String(e.label), `mnist-${e.source}-${String(e.index).padStart(5, '0')}.png`)
}

export interface WriteTreeResult {
  written: number
  kept: number
}

/**
 * Writes each entry's `side`x`side` grey image (from `images[source]`, n*side*side bytes) as a PNG.
 * Idempotent: a file already there (non-empty) is kept; each new file is written to a temporary
 * name and renamed, so an interrupted run never leaves a half-written PNG under its final name.
 */
export async function writeTree(
  root: string,
  entries: readonly TreeEntry[],
  images: { train: Uint8Array; test: Uint8Array },
  side: number,
  onProgress?: (done: number, total: number) => void
): Promise<WriteTreeResult> {
  const px = side * side
  let written = 0
  let kept = 0
  const dirs = new Set<string>()
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    const file = entryPath(root, e)
    if (existsSync(file) && statSync(file).size > 0) {
      kept++
    } else {
      const src = images[e.source]
      if ((e.index + 1) * px > src.length) throw new Error(`image ${e.index} of MNIST ${e.source} is outside its ${src.length / px} images.`)
      const dir = join(root, e.split, String(e.label))
      if (!dirs.has(dir)) {
        mkdirSync(dir, { recursive: true })
        dirs.add(dir)
      }
      const png = await sharp(Buffer.from(src.subarray(e.index * px, (e.index + 1) * px)), { raw: { width: side, height: side, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toBuffer()
      writeFileSync(file + '.part', png)
      renameSync(file + '.part', file)
      written++
    }
    if (onProgress && ((i + 1) % 2000 === 0 || i + 1 === entries.length)) onProgress(i + 1, entries.length)
  }
  return { written, kept }
}

/** Images per split and per class of a plan, for the log and the results. */
export function treeCounts(entries: readonly TreeEntry[]): Record<MnistTreeSplit, number[]> {
  const counts: Record<MnistTreeSplit, number[]> = { train: new Array<number>(10).fill(0), val: new Array<number>(10).fill(0), test: new Array<number>(10).fill(0) }
  for (const e of entries) counts[e.split][e.label] = (counts[e.split][e.label] ?? 0) + 1
  return counts
}
