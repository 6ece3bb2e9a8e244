// Colour palettes for ImageGPT: k-means (k-means++ initialisation) over pixels in [-1, 1],
// the nearest-cluster tokenizer, and tokens back to RGB / PNG.

import sharp from 'sharp'

import { type DecodeOptions, decodeToModelRgb, type ResampleKernel } from '../../imaging/decode'

import { Prng } from '../sample/prng'

/** Pixel bytes -> model colour space, as the Hugging Face image processor does: x / 127.5 - 1. */
export function normalizePixel(x: number): number {
  return x / 127.5 - 1
}

/**
 * Token of each pixel: index of the palette colour nearest by squared distance in [-1, 1] space.
 * `rgb` is n*3 bytes in raster order, `palette` K*3 floats. Ties go to the lowest index.
 */
export function paletteTokenize(rgb: Uint8Array | Uint8ClampedArray, palette: Float32Array): Int32Array {
  const n = Math.floor(rgb.length / 3)
  const K = palette.length / 3
  const out = new Int32Array(n)
  // Only 256^3 inputs exist but images repeat colours a lot: a small cache keyed by the packed colour.
  const cache = new Map<number, number>()
  for (let i = 0; i < n; i++) {
    const r8 = rgb[i * 3] as number
    const g8 = rgb[i * 3 + 1] as number
    const b8 = rgb[i * 3 + 2] as number
    const key = (r8 << 16) | (g8 << 8) | b8
    let best = cache.get(key)
    if (best === undefined) {
      const r = normalizePixel(r8)
      const g = normalizePixel(g8)
      const b = normalizePixel(b8)
      let bestD = Infinity
      best = 0
      for (let k = 0; k < K; k++) {
        const dr = r - (palette[k * 3] as number)
        const dg = g - (palette[k * 3 + 1] as number)
        const db = b - (palette[k * 3 + 2] as number)
        const d = dr * dr + dg * dg + db * db
        if (d < bestD) {
          bestD = d
          best = k
        }
      }
      if (cache.size < 1 << 16) cache.set(key, best)
    }
    out[i] = best
  }
  return out
}

/** Palette colour of each token as bytes: round((c + 1) * 127.5), clamped. Out-of-range tokens are drawn black. */
export function tokensToRgb(tokens: ArrayLike<number>, palette: Float32Array): Uint8Array {
  const K = palette.length / 3
  const out = new Uint8Array(tokens.length * 3)
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as number
    if (t < 0 || t >= K) continue
    for (let c = 0; c < 3; c++) {
      const v = Math.round(((palette[t * 3 + c] as number) + 1) * 127.5)
      out[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v
    }
  }
  return out
}

export interface PngOptions {
  /** Nearest-neighbour upscale factor for viewing (1 = model resolution). */
  scale?: number
  /** tEXt chunks to embed (keyword -> text), e.g. generation parameters as JSON. */
  text?: Record<string, string>
}

/**
 * Token grid -> PNG bytes. `tokens` may hold fewer than side*side entries (a partial image during
 * generation): the rest is drawn black.
 */
export async function tokensToPng(tokens: ArrayLike<number>, palette: Float32Array, side: number, opts: PngOptions = {}): Promise<Buffer> {
  const full = new Int32Array(side * side).fill(-1)
  for (let i = 0; i < Math.min(tokens.length, full.length); i++) full[i] = tokens[i] as number
  const rgb = tokensToRgb(full, palette)
  const scale = Math.max(1, Math.floor(opts.scale ?? 1))
  let img = sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width: side, height: side, channels: 3 } })
  if (scale > 1) img = img.resize(side * scale, side * scale, { kernel: 'nearest' })
  const png = await img.png().toBuffer()
  return opts.text ? addPngText(png, opts.text) : png
}

// ---- PNG tEXt chunks (sharp 0.35 writes EXIF/XMP but not arbitrary tEXt) ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** Inserts tEXt chunks after IHDR. Keywords are Latin-1, 1-79 chars; text is written as Latin-1 (JSON with \u escapes is safe). */
export function addPngText(png: Buffer, text: Record<string, string>): Buffer {
  const ihdrEnd = 8 + 8 + 13 + 4
  const chunks: Buffer[] = [png.subarray(0, ihdrEnd)]
  for (const [keyword, value] of Object.entries(text)) {
    if (keyword.length < 1 || keyword.length > 79) throw new RangeError(`PNG text keyword "${keyword}" must be 1 to 79 characters.`)
    const ascii = value.replace(/[^\x20-\x7e\n]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
    const data = Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(ascii, 'latin1')])
    const typeAndData = Buffer.concat([Buffer.from('tEXt', 'latin1'), data])
    const chunk = Buffer.alloc(12 + data.length)
    chunk.writeUInt32BE(data.length, 0)
    typeAndData.copy(chunk, 4)
    chunk.writeUInt32BE(crc32(typeAndData), 8 + data.length)
    chunks.push(chunk)
  }
  chunks.push(png.subarray(ihdrEnd))
  return Buffer.concat(chunks)
}

/** Reads the tEXt chunks of a PNG. */
export function readPngText(png: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let pos = 8
  while (pos + 12 <= png.length) {
    const len = png.readUInt32BE(pos)
    const type = png.toString('latin1', pos + 4, pos + 8)
    if (type === 'tEXt') {
      const data = png.subarray(pos + 8, pos + 8 + len)
      const zero = data.indexOf(0)
      if (zero > 0) out[data.toString('latin1', 0, zero)] = data.toString('latin1', zero + 1)
    }
    if (type === 'IEND') break
    pos += 12 + len
  }
  return out
}

export interface KmeansOptions {
  seed: number
  /** Lloyd iterations after k-means++ (stops early when no assignment changes). */
  iterations?: number
  /** At most this many pixels are used (a seeded uniform sample); k-means on millions of pixels is wasteful. */
  maxSamples?: number
}

/**
 * k-means palette of `k` colours from `pixels` (n*3 floats in [-1, 1]).
 * Returns K*3 floats in [-1, 1]. Deterministic for a given seed.
 */
export function kmeansPalette(pixels: Float32Array, k: number, opts: KmeansOptions): Float32Array {
  const rng = new Prng(opts.seed)
  let n = Math.floor(pixels.length / 3)
  if (n === 0) throw new RangeError('k-means needs at least one pixel.')
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k-means needs a positive number of colours, got ${k}.`)
  let data = pixels
  const maxSamples = opts.maxSamples ?? 200_000
  if (n > maxSamples) {
    data = new Float32Array(maxSamples * 3)
    for (let i = 0; i < maxSamples; i++) {
      const j = rng.int(n)
      data.set(pixels.subarray(j * 3, j * 3 + 3), i * 3)
    }
    n = maxSamples
  }
  const centers = new Float32Array(k * 3)
  // k-means++: first centre uniform, each next one with probability proportional to D(x)^2.
  const dist = new Float64Array(n).fill(Infinity)
  let pick = rng.int(n)
  for (let c = 0; c < k; c++) {
    centers.set(data.subarray(pick * 3, pick * 3 + 3), c * 3)
    let total = 0
    for (let i = 0; i < n; i++) {
      const d = sq(data, i, centers, c)
      if (d < (dist[i] as number)) dist[i] = d
      total += dist[i] as number
    }
    if (c + 1 === k) break
    if (total === 0) {
      pick = rng.int(n) // fewer distinct colours than k: duplicate centres, harmless
      continue
    }
    let r = rng.next() * total
    pick = n - 1
    for (let i = 0; i < n; i++) {
      r -= dist[i] as number
      if (r < 0) {
        pick = i
        break
      }
    }
  }
  const assign = new Int32Array(n).fill(-1)
  const sums = new Float64Array(k * 3)
  const counts = new Int32Array(k)
  for (let it = 0; it < (opts.iterations ?? 30); it++) {
    let changed = 0
    sums.fill(0)
    counts.fill(0)
    for (let i = 0; i < n; i++) {
      let best = 0
      let bestD = Infinity
      for (let c = 0; c < k; c++) {
        const d = sq(data, i, centers, c)
        if (d < bestD) {
          bestD = d
          best = c
        }
      }
      if (assign[i] !== best) changed++
      assign[i] = best
      dist[i] = bestD
      counts[best] = (counts[best] as number) + 1
      for (let j = 0; j < 3; j++) sums[best * 3 + j] = (sums[best * 3 + j] as number) + (data[i * 3 + j] as number)
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        // Empty cluster: move it to the point worst served by its centre.
        let far = 0
        for (let i = 1; i < n; i++) if ((dist[i] as number) > (dist[far] as number)) far = i
        centers.set(data.subarray(far * 3, far * 3 + 3), c * 3)
        dist[far] = 0
        changed++
      } else {
        for (let j = 0; j < 3; j++) centers[c * 3 + j] = (sums[c * 3 + j] as number) / (counts[c] as number)
      }
    }
    if (changed === 0) break
  }
  return centers
}

function sq(data: Float32Array, i: number, centers: Float32Array, c: number): number {
  const a = (data[i * 3] as number) - (centers[c * 3] as number)
  const b = (data[i * 3 + 1] as number) - (centers[c * 3 + 1] as number)
  const d = (data[i * 3 + 2] as number) - (centers[c * 3 + 2] as number)
  return a * a + b * b + d * d
}

/** Bytes (n*3) -> floats in [-1, 1], for k-means. */
export function rgbToUnit(rgb: Uint8Array | Uint8ClampedArray): Float32Array {
  const out = new Float32Array(rgb.length)
  for (let i = 0; i < rgb.length; i++) out[i] = normalizePixel(rgb[i] as number)
  return out
}

/**
 * An image file (or bytes) as palette tokens at the model's side: decode with EXIF orientation,
 * alpha on white, centre-crop or squash resize, then the nearest-cluster tokenizer.
 */
export async function imageTokens(input: string | Buffer, palette: Float32Array, side: number, opts: DecodeOptions = {}): Promise<Int32Array> {
  const { rgb } = await decodeToModelRgb(input, side, opts)
  return paletteTokenize(rgb, palette)
}

/** An image as the model's tokens: its palette, its side and its resample kernel (config.resample). */
export function modelImageTokens(input: string | Buffer, model: { palette: Float32Array; config: { side: number; resample?: ResampleKernel } }, opts: DecodeOptions = {}): Promise<Int32Array> {
  return imageTokens(input, model.palette, model.config.side, { kernel: model.config.resample ?? 'linear', ...opts })
}
