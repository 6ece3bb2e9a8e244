import path from 'node:path'

import sharp from 'sharp'
import { describe, expect, it } from 'vitest'

import { decodeToModelRgb, ImageDecodeError } from '../../../src/main/imaging/decode'
import { imageTokens, paletteTokenize } from '../../../src/main/ml/palette/palette'
import { importHfImageGpt } from '../../../src/main/ml/interop/hf-imagegpt'
import { LM_DIR, lmReference } from '../ml/pixelgpt/fixtures'

function columns(cols: [number, number, number][], height: number): Promise<Buffer> {
  const w = cols.length
  const raw = Buffer.alloc(w * height * 3)
  for (let y = 0; y < height; y++) for (let x = 0; x < w; x++) raw.set(cols[x]!, (y * w + x) * 3)
  return sharp(raw, { raw: { width: w, height, channels: 3 } }).png().toBuffer()
}

describe('decodeToModelRgb', () => {
  it('decodes the fixture images to the reference tokens', async () => {
    const { model } = await importHfImageGpt(LM_DIR)
    for (const img of lmReference().images) {
      const { rgb } = await decodeToModelRgb(path.join(LM_DIR, img.file), 8)
      expect([...paletteTokenize(rgb, model.palette)]).toEqual(img.tokens)
      expect([...(await imageTokens(path.join(LM_DIR, img.file), model.palette, 8))]).toEqual(img.tokens)
    }
  })

  it('centre-crops or squashes, as asked', async () => {
    const A: [number, number, number] = [200, 0, 0]
    const B: [number, number, number] = [0, 200, 0]
    const C: [number, number, number] = [0, 0, 200]
    const png = await columns([A, B, B, C], 2)
    const crop = await decodeToModelRgb(png, 2, { resize: 'crop' })
    expect([...crop.rgb]).toEqual([...B, ...B, ...B, ...B])
    const squash = await decodeToModelRgb(png, 2, { resize: 'squash' })
    expect(squash.rgb.length).toBe(12)
    // Left output pixel mixes A and B, right mixes B and C.
    expect(squash.rgb[0]).toBeGreaterThan(20)
    expect(squash.rgb[1]).toBeGreaterThan(20)
    expect(squash.rgb[5]).toBeGreaterThan(20)
  })

  it('applies EXIF orientation', async () => {
    const red: [number, number, number] = [255, 0, 0]
    const blue: [number, number, number] = [0, 0, 255]
    // 16x8: left half red, right half blue; orientation 6 means "rotate 90 degrees clockwise to view".
    const raw = await columns([...Array<typeof red>(8).fill(red), ...Array<typeof blue>(8).fill(blue)], 8)
    const jpeg = await sharp(raw).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer()
    const out = await decodeToModelRgb(jpeg, 2, { resize: 'squash' })
    // Top row red, bottom row blue.
    expect(out.rgb[0]).toBeGreaterThan(200)
    expect(out.rgb[2]).toBeLessThan(50)
    expect(out.rgb[6]).toBeLessThan(50)
    expect(out.rgb[8]).toBeGreaterThan(200)
  })

  it('composites alpha on white and handles grayscale and 16-bit input', async () => {
    const halfRed = await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer()
    const a = await decodeToModelRgb(halfRed, 2)
    expect(a.rgb[0]).toBe(255)
    expect(Math.abs(a.rgb[1]! - 127.5)).toBeLessThanOrEqual(1)
    const grey16 = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 100, g: 100, b: 100 } } }).toColourspace('grey16').png().toBuffer()
    expect((await sharp(grey16).metadata()).depth).toBe('ushort')
    const g = await decodeToModelRgb(grey16, 2)
    expect([...g.rgb]).toEqual(Array(12).fill(100))
    const rgba16 = await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 1 } } }).toColourspace('rgb16').png().toBuffer()
    expect([...(await decodeToModelRgb(rgba16, 1)).rgb]).toEqual([0, 0, 255])
  })

  it('refuses unreadable images and decompression bombs with a sentence', async () => {
    await expect(decodeToModelRgb(Buffer.from('definitely not an image'), 8, { label: 'notes.txt' })).rejects.toThrow(/^notes\.txt could not be read as an image/)
    await expect(decodeToModelRgb('/no/such/file.png', 8)).rejects.toThrow(ImageDecodeError)
    const png = await columns(Array(20).fill([1, 2, 3]), 20)
    await expect(decodeToModelRgb(png, 8, { maxPixels: 100, label: 'big.png' })).rejects.toThrow('big.png is 20x20 pixels, more than the limit of 100 pixels')
    const truncated = (await sharp({ create: { width: 64, height: 64, channels: 3, background: '#123456' } }).jpeg().toBuffer()).subarray(0, 200)
    await expect(decodeToModelRgb(truncated, 8, { label: 'cut.jpg' })).rejects.toThrow(/^cut\.jpg could not be (read as an image|decoded)/)
  })
})
