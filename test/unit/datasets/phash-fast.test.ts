// The one-pass perceptual hash (what import uses) gives exactly the two-pass reference's hashes
// on images of many sizes and channel counts, including ones smaller than the 32x32 grid.

import { describe, expect, it } from 'vitest'
import { perceptualHashes, perceptualHashesReference } from '../../../src/main/datasets/phash'
import { seededRandom } from '../../../src/main/datasets/splits'

function image(w: number, h: number, ch: number, seed: number) {
  const r = seededRandom(seed)
  // Smooth structure plus noise, so hashes are not trivially all zero.
  const data = new Uint8Array(w * h * ch)
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < ch; c++) data[(y * w + x) * ch + c] = Math.min(255, Math.floor(128 + 100 * Math.sin((x * (c + 1)) / 9 + y / 7) + r() * 40 - 20))
  return { data, width: w, height: h, channels: ch }
}

describe('perceptualHashes (one pass)', () => {
  it('equals the reference bit for bit', () => {
    let seed = 1
    for (const [w, h] of [[256, 192], [192, 256], [255, 171], [33, 32], [32, 300], [1000, 37], [20, 20], [31, 64], [7, 5]] as const)
      for (const ch of [1, 2, 3, 4]) {
        const img = image(w, h, ch, seed++)
        expect(perceptualHashes(img), `${w}x${h}x${ch}`).toEqual(perceptualHashesReference(img))
      }
  })
})
