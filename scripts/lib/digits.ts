// What pretrain:digits and eval:digits share: MNIST at 14x14 with a 16-level grey
// k-means palette (ordered dark to light), deterministic from the seed.

import { kmeansPalette, paletteTokenize } from '../../src/main/ml/palette/palette'
import { downsample, loadMnist, MNIST_SIDE } from './mnist'

export const DIGITS_SIDE = 14
export const DIGITS_PALETTE = 16
export const DIGITS_SEED = 20261128
export const DIGITS_VAL = 5000
export const DIGIT_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']

export function greyToRgb(grey: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(grey.length * 3)
  for (let i = 0; i < grey.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i] as number
  return rgb
}

/** Grey k-means palette, ordered dark to light so token order follows brightness. */
export function greyPalette(images: Uint8Array, k = DIGITS_PALETTE, seed = DIGITS_SEED): Float32Array {
  const sample = images.subarray(0, Math.min(images.length, 2_000_000))
  const unit = new Float32Array(sample.length * 3)
  for (let i = 0; i < sample.length; i++) unit[3 * i] = unit[3 * i + 1] = unit[3 * i + 2] = (sample[i] as number) / 127.5 - 1
  const centres = kmeansPalette(unit, k, { seed, maxSamples: 200_000 })
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => (centres[3 * a] as number) - (centres[3 * b] as number))
  const sorted = new Float32Array(k * 3)
  order.forEach((src, dst) => sorted.set(centres.subarray(3 * src, 3 * src + 3), 3 * dst))
  return sorted
}

export function tokenizeGrey(images: Uint8Array, count: number, side: number, palette: Float32Array): Int32Array {
  const T = side * side
  const out = new Int32Array(count * T)
  for (let n = 0; n < count; n++) out.set(paletteTokenize(greyToRgb(images.subarray(n * T, n * T + T)), palette), n * T)
  return out
}

export interface DigitsData {
  palette: Float32Array
  /** Training images without the validation hold-out. */
  train: { tokens: Int32Array; labels: Int32Array; count: number }
  /** The last DIGITS_VAL training images. */
  val: { tokens: Int32Array; labels: Int32Array; count: number }
  test: { tokens: Int32Array; labels: Int32Array; count: number }
}

/** MNIST tokenized at 14x14; the palette is learnt from the training images (or given). */
export function loadDigits(palette?: Float32Array): DigitsData {
  const T = DIGITS_SIDE * DIGITS_SIDE
  const factor = MNIST_SIDE / DIGITS_SIDE
  const train = loadMnist('train')
  const small = downsample(train.images, train.count, MNIST_SIDE, factor)
  const pal = palette ?? greyPalette(small)
  const tokens = tokenizeGrey(small, train.count, DIGITS_SIDE, pal)
  const labels = Int32Array.from(train.labels)
  const n = train.count - DIGITS_VAL
  const test = loadMnist('test')
  const testSmall = downsample(test.images, test.count, MNIST_SIDE, factor)
  return {
    palette: pal,
    train: { tokens: tokens.subarray(0, n * T), labels: labels.subarray(0, n), count: n },
    val: { tokens: tokens.subarray(n * T), labels: labels.subarray(n), count: DIGITS_VAL },
    test: { tokens: tokenizeGrey(testSmall, test.count, DIGITS_SIDE, pal), labels: Int32Array.from(test.labels), count: test.count }
  }
}
