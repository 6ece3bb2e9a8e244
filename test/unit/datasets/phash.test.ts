// Perceptual hashes against an independent reference: the DCT checked against a
// direct O(N^4) evaluation of the DCT-II sum, hashes stable under resize/recompress
// and far apart between different pictures.

import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { dHashOfGrey, hamming, lowDct, pHashOfGrey, perceptualHashes } from '../../../src/main/datasets/phash'
import { groupByHash } from '../../../src/main/datasets/duplicates'
import { picture } from './images'

async function hashesOf(buf: Buffer) {
  const { data, info } = await sharp(buf).raw().toBuffer({ resolveWithObject: true })
  return perceptualHashes({ data, width: info.width, height: info.height, channels: info.channels })
}

describe('perceptual hashes', () => {
  it('lowDct matches the DCT-II double sum to 1e-9 relative', () => {
    const g = Uint8Array.from({ length: 32 * 32 }, (_, i) => (i * 37 + ((i * i) % 251)) % 256)
    const d = lowDct(g)
    for (const [u, v] of [[0, 0], [1, 0], [0, 3], [7, 7], [5, 2]] as const) {
      let s = 0
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) s += g[y * 32 + x]! * Math.cos(((2 * x + 1) * u * Math.PI) / 64) * Math.cos(((2 * y + 1) * v * Math.PI) / 64)
      expect(Math.abs(d[v * 8 + u]! - s)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(s)))
    }
  })

  it('dHash of a left-to-right ramp is all zeros, of its mirror all ones; pHash has 64 bits', () => {
    const ramp = Uint8Array.from({ length: 72 }, (_, i) => (i % 9) * 20)
    expect(dHashOfGrey(ramp)).toBe('0'.repeat(16))
    expect(dHashOfGrey(Uint8Array.from(ramp, (v) => 255 - v))).toBe('f'.repeat(16))
    expect(pHashOfGrey(Uint8Array.from({ length: 1024 }, (_, i) => i % 256))).toMatch(/^[0-9a-f]{16}$/)
    expect(hamming('0'.repeat(16), 'f'.repeat(16))).toBe(64)
    expect(hamming('8000000000000001', '0000000000000000')).toBe(2)
  })

  it('resized and recompressed copies stay within 6 bits; 40 different pictures stay above 12 of each other', async () => {
    for (const seed of [1, 2, 3]) {
      const base = await hashesOf(await picture(seed, 'png', [160, 120]))
      for (const copy of [await picture(seed, 'jpeg', [80, 60], 55), await picture(seed, 'webp', [240, 180], 60), await picture(seed, 'png', [64, 48])]) {
        const h = await hashesOf(copy)
        expect(hamming(base.phash, h.phash)).toBeLessThanOrEqual(6)
      }
    }
    const hs = await Promise.all(Array.from({ length: 40 }, async (_, i) => (await hashesOf(await picture(100 + i))).phash))
    let min = 64
    for (let i = 0; i < hs.length; i++) for (let j = i + 1; j < hs.length; j++) min = Math.min(min, hamming(hs[i]!, hs[j]!))
    expect(min).toBeGreaterThan(12)
    expect(groupByHash(hs.map((_, i) => String(i)), hs, 6)).toEqual([])
  })

  it('groupByHash links chains and reports the largest distance to the first member', () => {
    const groups = groupByHash(['a', 'b', 'c', 'd'], ['0000000000000000', '0000000000000003', '000000000000000f', 'ffffffffffffffff'], 2)
    expect(groups).toEqual([{ itemIds: ['a', 'b', 'c'], maxDistance: 4 }])
  })
})
