import sharp from 'sharp'
import { describe, expect, it } from 'vitest'

import { addPngText, kmeansPalette, paletteTokenize, readPngText, rgbToUnit, tokensToPng, tokensToRgb } from '../../../../src/main/ml/palette/palette'
import { importHfImageGpt } from '../../../../src/main/ml/interop/hf-imagegpt'
import { LM_DIR } from '../pixelgpt/fixtures'

describe('palette', () => {
  it('tokenizes by nearest squared distance after x / 127.5 - 1 (brute force reference)', async () => {
    const { model } = await importHfImageGpt(LM_DIR)
    const rgb = new Uint8Array(3 * 500)
    let s = 12345
    for (let i = 0; i < rgb.length; i++) {
      s = (s * 1103515245 + 12345) % 2147483648
      rgb[i] = s % 256
    }
    const tokens = paletteTokenize(rgb, model.palette)
    for (let i = 0; i < 500; i++) {
      const d = Array.from({ length: 16 }, (_, k) =>
        [0, 1, 2].reduce((acc, c) => acc + (rgb[i * 3 + c]! / 127.5 - 1 - model.palette[k * 3 + c]!) ** 2, 0)
      )
      expect(tokens[i]).toBe(d.indexOf(Math.min(...d)))
    }
  })

  it('maps tokens back to palette colours and to a PNG that decodes to the same tokens', async () => {
    const { model } = await importHfImageGpt(LM_DIR)
    const tokens = Array.from({ length: 64 }, (_, i) => (i * 7) % 16)
    const rgb = tokensToRgb(tokens, model.palette)
    expect([...paletteTokenize(rgb, model.palette)]).toEqual(tokens)
    const png = await tokensToPng(tokens, model.palette, 8, { scale: 4, text: { tessera: '{"seed":1,"name":"é"}' } })
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true })
    expect([info.width, info.height, info.channels]).toEqual([32, 32, 3])
    // Pixel (row 1, col 2) of the model grid sits at (4..7, 8..11) after the 4x upscale.
    const at = (x: number, y: number): number[] => [...data.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3)]
    expect(at(9, 5)).toEqual([...rgb.subarray((8 + 2) * 3, (8 + 2) * 3 + 3)])
    expect(JSON.parse(readPngText(png).tessera!)).toEqual({ seed: 1, name: 'é' })
  })

  it('writes tEXt chunks that a PNG decoder accepts (CRC checked)', async () => {
    const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#ff0000' } }).png().toBuffer()
    const withText = addPngText(png, { a: 'b', Comment: 'hello' })
    expect(readPngText(withText)).toEqual({ a: 'b', Comment: 'hello' })
    const meta = await sharp(withText).metadata()
    expect(meta.width).toBe(2)
    expect((await sharp(withText, { failOn: 'warning' }).raw().toBuffer()).length).toBe(12)
    const corrupt = Buffer.from(withText)
    corrupt[8 + 25 + 12 + 3] = corrupt[8 + 25 + 12 + 3]! ^ 0xff // flip a byte inside the first tEXt data: CRC mismatch
    await expect(sharp(corrupt, { failOn: 'warning' }).raw().toBuffer()).rejects.toThrow()
  })

  it('k-means++ finds well-separated clusters, is seeded, and stays in [-1, 1]', () => {
    const truth = [
      [-0.8, -0.8, -0.8],
      [0.9, 0.1, -0.5],
      [0.0, 0.7, 0.7],
      [0.5, -0.6, 0.9]
    ]
    const px = new Float32Array(4000 * 3)
    let s = 7
    const rnd = (): number => {
      s = (s * 1103515245 + 12345) % 2147483648
      return s / 2147483648 - 0.5
    }
    for (let i = 0; i < 4000; i++) for (let c = 0; c < 3; c++) px[i * 3 + c] = truth[i % 4]![c]! + 0.05 * rnd()
    const a = kmeansPalette(px, 4, { seed: 1 })
    const b = kmeansPalette(px, 4, { seed: 1 })
    expect([...a]).toEqual([...b])
    for (const t of truth) {
      const best = Math.min(...[0, 1, 2, 3].map((k) => Math.hypot(a[k * 3]! - t[0]!, a[k * 3 + 1]! - t[1]!, a[k * 3 + 2]! - t[2]!)))
      expect(best).toBeLessThan(0.01)
    }
    for (const v of a) expect(Math.abs(v)).toBeLessThanOrEqual(1)
    // More colours than distinct pixels still yields k centres drawn from the data.
    const few = kmeansPalette(rgbToUnit(new Uint8Array([0, 0, 0, 255, 255, 255])), 3, { seed: 2 })
    expect(few.length).toBe(9)
    for (const v of few) expect(Math.abs(v)).toBe(1)
  })
})
