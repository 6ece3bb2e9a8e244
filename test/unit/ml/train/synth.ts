// Synthetic data for training tests: 8x8 images drawn straight from a 16-colour palette (so
// tokenization is exact) in three classes with different structure (horizontal stripes,
// vertical stripes, a checkerboard) and colour groups, and a tiny ImageGPT
// pretrained on them for a few dozen AdamW steps.

import sharp from 'sharp'
import { type Library } from '../../../../src/main/library/library'
import { storeBytes } from '../../../../src/main/library/media'
import { DatasetsRepo } from '../../../../src/main/library/datasets'
import { ItemsRepo, type Split } from '../../../../src/main/library/items'
import { initPixelGpt, type PixelGptConfig, type PixelGptModel, seqLen, sosToken } from '../../../../src/main/ml/pixelgpt/model'
import { buildPixelGptTrainStep } from '../../../../src/main/ml/pixelgpt/train'
import { lmBatch } from '../../../../src/main/ml/pixelgpt/runner'
import { Prng } from '../../../../src/main/ml/sample/prng'
import { defaultRuntime, hostTensor, Trainer } from '../../../../src/main/ml/runtime'

export const SIDE = 8
export const CLASSES = ['hstripes', 'vstripes', 'checker']

export function palette16(): Float32Array {
  // Colours on a 0..255 grid that map exactly to x / 127.5 - 1.
  const rng = new Prng(99)
  const p = new Float32Array(16 * 3)
  for (let i = 0; i < p.length; i++) p[i] = (rng.int(256)) / 127.5 - 1
  return p
}

/**
 * Tokens of image `seed` of class `cls`: two colours from the class's own group of five palette
 * entries, in the class's pattern (horizontal stripes, vertical stripes, checkerboard).
 */
export function synthTokens(cls: number, seed: number): Int32Array {
  const rng = new Prng(seed * 7 + cls * 1000 + 5)
  const a = cls * 5 + rng.int(5)
  const b = cls * 5 + ((a - cls * 5 + 1 + rng.int(4)) % 5)
  const t = new Int32Array(SIDE * SIDE)
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++) {
      const on = cls === 0 ? y % 2 === 0 : cls === 1 ? x % 2 === 0 : (x + y) % 2 === 0
      t[y * SIDE + x] = on ? a : b
    }
  return t
}

export async function tokensPng(tokens: ArrayLike<number>, palette: Float32Array): Promise<Buffer> {
  const raw = Buffer.alloc(SIDE * SIDE * 3)
  for (let i = 0; i < SIDE * SIDE; i++) for (let ch = 0; ch < 3; ch++) raw[i * 3 + ch] = Math.round((palette[(tokens[i] as number) * 3 + ch]! + 1) * 127.5)
  return sharp(raw, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toBuffer()
}

export interface SynthItem {
  cls: number | null
  split: Split | null
  png: Buffer
  name: string
}

/** A dataset of the given items in the library; returns its id. */
export function addDataset(lib: Library, name: string, classes: string[], items: SynthItem[]): string {
  const ds = new DatasetsRepo(lib.db).create({ name, classes })
  const repo = new ItemsRepo(lib.db)
  for (const it of items) {
    const media = storeBytes(lib, it.png, { ext: 'png', mime: 'image/png', width: SIDE, height: SIDE })
    const { item } = repo.add(ds.id, media.sha256, { originalName: it.name })
    if (it.cls !== null) repo.setLabels([item.id], ds.classes[it.cls]!.id, 'human')
    if (it.split) repo.setSplit([item.id], it.split)
  }
  return ds.id
}

/** n items per class, splits cycling train x3, val, test (seeded, distinct images). */
export async function synthItems(perClass: number, palette: Float32Array, offset = 0): Promise<SynthItem[]> {
  const out: SynthItem[] = []
  const cycle: Split[] = ['train', 'train', 'train', 'val', 'test']
  for (let cls = 0; cls < CLASSES.length; cls++)
    for (let i = 0; i < perClass; i++) {
      const tokens = synthTokens(cls, i + offset)
      out.push({ cls, split: cycle[i % cycle.length]!, png: await tokensPng(tokens, palette), name: `${CLASSES[cls]}-${i}.png` })
    }
  return out
}

export const TINY: PixelGptConfig = { side: SIDE, paletteSize: 16, width: 32, layers: 2, heads: 2, innerWidth: 128, eps: 1e-5, numClasses: 0 }

/** A tiny unconditional ImageGPT pretrained generatively on synthetic images for `steps` AdamW steps. */
export async function pretrainTiny(steps: number, palette: Float32Array): Promise<PixelGptModel> {
  const model = initPixelGpt(TINY, { seed: 1, palette })
  const spec = buildPixelGptTrainStep(TINY, { kind: 'lm' }, { optimizer: { kind: 'adamw', weightDecay: 0 } })
  const init = Object.fromEntries([...model.weights].map(([k, t]) => [k, hostTensor('float32', t.shape, t.data)]))
  const trainer = await Trainer.create(defaultRuntime(), spec, init)
  const T = seqLen(TINY)
  for (let s = 0; s < steps; s++) {
    const imgs = Array.from({ length: 24 }, (_, b) => synthTokens(b % 3, 10_000 + s * 24 + b))
    const { ids, targets } = lmBatch(imgs, T, sosToken(TINY))
    await trainer.step({ ids: hostTensor('int64', [24, T], ids), targets: hostTensor('int64', [24, T], targets) }, 3e-3)
  }
  const p = trainer.params()
  trainer.release()
  for (const [k, t] of model.weights) model.weights.set(k, { shape: t.shape, data: p[k]!.data as Float32Array })
  return model
}
