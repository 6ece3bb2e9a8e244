// EXIF orientation at import: a JPEG whose EXIF says "rotate 90°" gets its upright size and an
// upright thumbnail; one without the tag (import skips the rotate step then) keeps its own.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { setupServices } from '../../helpers/services'

let cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

describe('import and EXIF orientation', () => {
  it('applies orientation 6 (size and thumbnail upright), leaves untagged files as stored', async () => {
    const s = setupServices(cleanups)
    mkdirSync(join(s.src, 'x'))
    // 60x40 pixels, left half red, right half blue.
    const pixels = Buffer.alloc(60 * 40 * 3)
    for (let y = 0; y < 40; y++) for (let x = 0; x < 60; x++) pixels.set(x < 30 ? [255, 0, 0] : [0, 0, 255], (y * 60 + x) * 3)
    const base = sharp(pixels, { raw: { width: 60, height: 40, channels: 3 } })
    writeFileSync(join(s.src, 'x', 'rotated.jpg'), await base.clone().jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer())
    writeFileSync(join(s.src, 'x', 'plain.jpg'), await base.clone().jpeg({ quality: 95 }).toBuffer())
    const job = await s.call('datasets.import', { name: 'Orient', source: s.src })
    expect((await s.ctx.jobs.wait(job.id)).state).toBe('done')
    const items = (await s.call('items.list', { dataset: 'Orient' })).items
    const rotated = items.find((i) => i.name === 'x/rotated.jpg')!
    const plain = items.find((i) => i.name === 'x/plain.jpg')!
    expect([rotated.width, rotated.height]).toEqual([40, 60])
    expect([plain.width, plain.height]).toEqual([60, 40])
    const thumb = async (sha: string) => {
      const file = s.ctx.library.resolveInside(s.ctx.repos.media.get(sha)!.thumb_path!)
      return sharp(file).raw().toBuffer({ resolveWithObject: true })
    }
    const t = await thumb(rotated.sha256)
    expect([t.info.width, t.info.height]).toEqual([40, 60])
    // Orientation 6 turns the picture 90° clockwise: the red left half ends up on top.
    const at = (x: number, y: number) => Array.from(t.data.subarray((y * 40 + x) * t.info.channels, (y * 40 + x) * t.info.channels + 3))
    expect(at(20, 5)[0]).toBeGreaterThan(200)
    expect(at(20, 55)[2]).toBeGreaterThan(200)
    const p = await thumb(plain.sha256)
    expect([p.info.width, p.info.height]).toEqual([60, 40])
  })
})
