// The 'box' resample (exact area average) against independent references: the pretraining
// script's own 2x2 block mean (scripts/lib/mnist.ts downsample) and a brute-force supersampled
// mean for fractional factors; and how a model's resample travels (HF import/export, token
// cache key, the tokens the product makes).

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import sharp from 'sharp'
import { afterAll, describe, expect, it } from 'vitest'

import { downsample } from '../../../scripts/lib/mnist'
import { areaAverage, decodeToModelRgb } from '../../../src/main/imaging/decode'
import { exportHfImageGpt, importHfImageGpt } from '../../../src/main/ml/interop/hf-imagegpt'
import { modelImageTokens, paletteTokenize } from '../../../src/main/ml/palette/palette'
import { tokenCacheKey } from '../../../src/main/ml/train/data'
import { LM_DIR } from '../ml/pixelgpt/fixtures'

function seeded(n: number, seed: number): Uint8Array {
  let s = seed >>> 0
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = s >>> 24
  }
  return out
}

/**
 * Reference area average: blow every source pixel up to an m x m block (m = lcm-friendly
 * supersampling so every output boundary falls on a sub-pixel edge), then take the plain mean of
 * each output's block of sub-pixels. No weights, no separability.
 */
function supersampledMean(src: Uint8Array, W: number, H: number, side: number): Uint8Array {
  const m = side // W*side/side and H*side/side are integers: output boundaries at multiples of W, H sub-pixels
  const SW = W * m
  const SH = H * m
  const out = new Uint8Array(side * side)
  const bw = SW / side
  const bh = SH / side
  for (let i = 0; i < side; i++) {
    for (let j = 0; j < side; j++) {
      let sum = 0
      for (let y = i * bh; y < (i + 1) * bh; y++) for (let x = j * bw; x < (j + 1) * bw; x++) sum += src[Math.floor(y / m) * W + Math.floor(x / m)] as number
      out[i * side + j] = Math.round(sum / (bw * bh))
    }
  }
  return out
}

describe('box resample (area average)', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'tessera-box-'))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))

  it('equals the pretraining 2x2 block mean exactly on MNIST-sized images', async () => {
    const grey = seeded(28 * 28 * 5, 7)
    const expected = downsample(grey, 5, 28, 2)
    for (let n = 0; n < 5; n++) {
      const img = grey.subarray(n * 784, (n + 1) * 784)
      const png = await sharp(Buffer.from(img), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer()
      const { rgb } = await decodeToModelRgb(png, 14, { kernel: 'box' })
      const got = Array.from({ length: 196 }, (_, i) => rgb[i * 3] as number)
      expect(got).toEqual([...expected.subarray(n * 196, (n + 1) * 196)])
      // Grey stays grey.
      for (let i = 0; i < 196; i++) expect([rgb[i * 3 + 1], rgb[i * 3 + 2]]).toEqual([rgb[i * 3], rgb[i * 3]])
    }
  })

  it('matches a brute-force supersampled mean for fractional factors (within rounding of ties)', () => {
    for (const [W, H, side] of [
      [10, 10, 4],
      [7, 7, 3],
      [9, 9, 6],
      [5, 5, 8]
    ] as const) {
      const src = seeded(W * H, W * 31 + side)
      const got = areaAverage(src, W, H, 1, 0, 0, W, H, side)
      const ref = supersampledMean(src, W, H, side)
      for (let i = 0; i < got.length; i++) expect(Math.abs((got[i] as number) - (ref[i] as number))).toBeLessThanOrEqual(1)
      // Mean brightness is preserved (area weights sum to one) to within rounding.
      const mean = (a: Uint8Array): number => a.reduce((s, v) => s + v, 0) / a.length
      expect(Math.abs(mean(got) - mean(src))).toBeLessThan(0.6)
    }
  })

  it('centre-crops a wide image before averaging, as the linear path does', async () => {
    // 6x2: columns A A | B B | C C; the centre 2x2 square is all B, so any 1x1 average is B.
    const raw = Buffer.alloc(6 * 2 * 3)
    const cols = [
      [200, 0, 0],
      [200, 0, 0],
      [0, 200, 0],
      [0, 200, 0],
      [0, 0, 200],
      [0, 0, 200]
    ]
    for (let y = 0; y < 2; y++) for (let x = 0; x < 6; x++) raw.set(cols[x]!, (y * 6 + x) * 3)
    const png = await sharp(raw, { raw: { width: 6, height: 2, channels: 3 } }).png().toBuffer()
    const crop = await decodeToModelRgb(png, 1, { kernel: 'box' })
    expect([...crop.rgb]).toEqual([0, 200, 0])
    const squash = await decodeToModelRgb(png, 1, { kernel: 'box', resize: 'squash' })
    expect([...squash.rgb]).toEqual([67, 67, 67])
  })

  it('averages very large reductions through a sharp pre-shrink and still refuses bad input', async () => {
    const big = await sharp({ create: { width: 1200, height: 900, channels: 3, background: { r: 10, g: 120, b: 230 } } }).png().toBuffer()
    const { rgb } = await decodeToModelRgb(big, 14, { kernel: 'box' })
    for (let i = 0; i < 196; i++) expect([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]]).toEqual([10, 120, 230])
    await expect(decodeToModelRgb(Buffer.from('not an image'), 14, { kernel: 'box', label: 'x.png' })).rejects.toThrow(/x\.png could not be read/)
  })

  it("travels with the model: PIL's resample 4 imports as box, exports back as 4, keys its own token cache, and decides the tokens", async () => {
    const { model } = await importHfImageGpt(LM_DIR)
    expect(model.config.resample).toBeUndefined()
    const boxModel = { ...model, config: { ...model.config, resample: 'box' as const, mirror: false } }
    const dir = path.join(tmp, 'export')
    await exportHfImageGpt(boxModel, dir)
    const pre = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(path.join(dir, 'preprocessor_config.json'), 'utf8'))) as { resample: number }
    expect(pre.resample).toBe(4)
    const back = await importHfImageGpt(dir)
    expect(back.model.config.resample).toBe('box')
    // mirror: false travels as tessera_mirror in config.json (absent when true, HF's own keys untouched)
    expect(back.model.config.mirror).toBe(false)
    expect(JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(path.join(dir, 'config.json'), 'utf8'))).tessera_mirror).toBe(false)

    expect(tokenCacheKey(model.palette, 8)).toBe(tokenCacheKey(model.palette, 8, 'linear'))
    expect(tokenCacheKey(model.palette, 8, 'box')).not.toBe(tokenCacheKey(model.palette, 8))

    // A 16x16 image whose 2x2 blocks mix dark and light: box averages them, linear samples differently.
    const src = seeded(16 * 16 * 3, 3)
    const png = await sharp(Buffer.from(src), { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer()
    const viaModel = await modelImageTokens(png, boxModel)
    const expected = paletteTokenize(areaAverage(src, 16, 16, 3, 0, 0, 16, 16, 8), model.palette)
    expect([...viaModel]).toEqual([...expected])
    // ... and the kernel matters: the same image through the default (linear) path tokenizes differently.
    const linear = await modelImageTokens(png, model)
    expect([...linear]).not.toEqual([...expected])
  })

  it('refuses a resample code Tessera does not know, naming it', async () => {
    const { model } = await importHfImageGpt(LM_DIR)
    const dir = path.join(tmp, 'bad')
    await exportHfImageGpt(model, dir)
    const fs = await import('node:fs')
    const file = path.join(dir, 'preprocessor_config.json')
    const pre = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>
    fs.writeFileSync(file, JSON.stringify({ ...pre, resample: 9 }))
    await expect(importHfImageGpt(dir)).rejects.toThrow(/resample 9/)
  })
})
