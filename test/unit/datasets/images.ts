// Synthetic pictures for import and duplicate tests: a few seeded random shapes over
// a gradient, so that different seeds give clearly different pictures (as photos
// do) and the same seed gives the same picture at any size or quality.

import sharp from 'sharp'
import { seededRandom } from '../../../src/main/datasets/splits'

export type Format = 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff' | 'avif'

export function pictureSvg(seed: number, width: number, height: number): string {
  const r = seededRandom(seed * 7919 + 17)
  const col = (): string => `rgb(${Math.floor(r() * 256)},${Math.floor(r() * 256)},${Math.floor(r() * 256)})`
  const shapes: string[] = []
  for (let i = 0; i < 6; i++) {
    const x = r() * 100
    const y = r() * 100
    const s = 10 + r() * 40
    shapes.push(
      r() < 0.5
        ? `<circle cx="${x}" cy="${y}" r="${s / 2}" fill="${col()}"/>`
        : `<rect x="${x - s / 2}" y="${y - s / 2}" width="${s}" height="${s * (0.5 + r())}" fill="${col()}" transform="rotate(${r() * 90} ${x} ${y})"/>`
    )
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 100 100" preserveAspectRatio="none">
    <defs><linearGradient id="g" x1="0" y1="0" x2="${r().toFixed(2)}" y2="1"><stop offset="0" stop-color="${col()}"/><stop offset="1" stop-color="${col()}"/></linearGradient></defs>
    <rect width="100" height="100" fill="url(#g)"/>${shapes.join('')}</svg>`
}

export async function picture(seed: number, format: Format = 'png', size: [number, number] = [96, 80], quality = 90): Promise<Buffer> {
  const img = sharp(Buffer.from(pictureSvg(seed, size[0], size[1])))
  switch (format) {
    case 'png':
      return img.png().toBuffer()
    case 'jpeg':
      return img.jpeg({ quality }).toBuffer()
    case 'webp':
      return img.webp({ quality }).toBuffer()
    case 'gif':
      return img.gif().toBuffer()
    case 'tiff':
      return img.tiff().toBuffer()
    case 'avif':
      return img.avif({ quality: 60 }).toBuffer()
  }
}
