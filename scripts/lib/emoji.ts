// Noto emoji from the `emoji-datasource-google` npm package (fetched on demand): the
// 64x64 PNGs with their category from emoji.json, decoded at the model side with alpha
// composited on white.

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeToModelRgb } from '../../src/main/imaging/decode'
import { paletteTokenize } from '../../src/main/ml/palette/palette'
import { Prng } from '../../src/main/ml/sample/prng'
import { type TokenSet } from './pretrain'
import { ensureDataPackage } from './data-packages'

interface EmojiEntry {
  image: string
  short_name: string
  category: string
  has_img_google: boolean
}

export interface EmojiSet {
  /** count * side * side * 3 RGB bytes. */
  rgb: Uint8Array
  /** Category index per image into `categories`. */
  labels: Int32Array
  names: string[]
  categories: string[]
  count: number
}

/** Every Google emoji image except skin-tone swatches (category "Component"). */
export async function loadEmoji(side: number): Promise<EmojiSet> {
  const dir = ensureDataPackage('emoji-datasource-google')
  const entries = (JSON.parse(readFileSync(join(dir, 'emoji.json'), 'utf8')) as EmojiEntry[]).filter((e) => e.has_img_google && e.category !== 'Component')
  entries.sort((a, b) => a.image.localeCompare(b.image))
  const categories = [...new Set(entries.map((e) => e.category))].sort()
  const rgb = new Uint8Array(entries.length * side * side * 3)
  const labels = new Int32Array(entries.length)
  const names: string[] = []
  let count = 0
  for (const e of entries) {
    const file = join(dir, 'img', 'google', '64', e.image)
    if (!existsSync(file)) continue
    const img = await decodeToModelRgb(file, side, { resize: 'squash' })
    rgb.set(img.rgb, count * side * side * 3)
    labels[count] = categories.indexOf(e.category)
    names.push(e.short_name)
    count++
  }
  return { rgb: rgb.subarray(0, count * side * side * 3), labels: labels.subarray(0, count), names, categories, count }
}

/** The seed of tessera-emoji's pretraining, palette and hold-out. */
export const EMOJI_SEED = 20261128

/** The seeded 10% hold-out of `count` emoji (indices into the set), the same every run. */
export function emojiSplit(count: number, seed = EMOJI_SEED): { train: number[]; heldOut: number[] } {
  const rng = new Prng(seed)
  const order = Array.from({ length: count }, (_, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[order[i], order[j]] = [order[j] as number, order[i] as number]
  }
  const nVal = Math.round(count * 0.1)
  return { heldOut: order.slice(0, nVal), train: order.slice(nVal) }
}

/** The emoji as palette tokens, split into the training emoji and the seeded 10% hold-out. */
export function emojiTokenSets(set: EmojiSet, palette: Float32Array, side: number, seed = EMOJI_SEED): { train: TokenSet; heldOut: TokenSet } {
  const T = side * side
  const tokens = new Int32Array(set.count * T)
  for (let i = 0; i < set.count; i++) tokens.set(paletteTokenize(set.rgb.subarray(i * T * 3, (i + 1) * T * 3), palette), i * T)
  const pick = (idx: number[]): TokenSet => {
    const t = new Int32Array(idx.length * T)
    const l = new Int32Array(idx.length)
    idx.forEach((src, dst) => {
      t.set(tokens.subarray(src * T, src * T + T), dst * T)
      l[dst] = set.labels[src] as number
    })
    return { tokens: t, labels: l, count: idx.length }
  }
  const split = emojiSplit(set.count, seed)
  return { train: pick(split.train), heldOut: pick(split.heldOut) }
}
