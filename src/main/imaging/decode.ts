// Image decode for the models: any format sharp reads -> RGB bytes at the model's side.
// EXIF orientation applied, alpha composited on white, grayscale expanded to RGB, 16-bit reduced
// to 8-bit, and a pixel limit against decompression bombs checked before any pixel is decoded.

import sharp, { type Metadata, type Sharp } from 'sharp'

/** An image the decoder refuses; the message is a sentence for the user. */
export class ImageDecodeError extends Error {
  readonly code = 'UNSUPPORTED' as const
  constructor(message: string) {
    super(message)
    this.name = 'ImageDecodeError'
  }
}

export type ResizeMode = 'crop' | 'squash'

export const RESAMPLE_KERNELS = ['linear', 'box', 'cubic', 'lanczos3', 'nearest'] as const
export type ResampleKernel = (typeof RESAMPLE_KERNELS)[number]

/** Largest reduction the box path averages at full resolution; beyond it sharp first shrinks to this multiple of the side. */
const BOX_MAX_FACTOR = 8

export interface DecodeOptions {
  /**
   * 'crop' (default): scale the short side to `side` and cut the centre square; 'squash': scale
   * both sides to `side`, as the Hugging Face ImageGPT processor does.
   */
  resize?: ResizeMode
  /**
   * Resampling kernel; default 'linear', the closest to the bilinear resize (resample=2) of the
   * Hugging Face ImageGPT processor, so tokens match Python's more often. 'box' is an exact area
   * average (PIL's BOX, resample=4): each output pixel is the mean of the source area it covers,
   * so an integer reduction (28 -> 14) averages whole k x k blocks, as a model pretrained on
   * box-filtered images (tessera-digits) saw them.
   */
  kernel?: ResampleKernel
  /** Largest input (width * height) accepted; default 100 megapixels. */
  maxPixels?: number
  /** Name used in error messages (defaults to the path, or "the image"). */
  label?: string
}

export interface DecodedImage {
  /** side * side * 3 bytes, raster order. */
  rgb: Uint8Array
  side: number
}

export const DEFAULT_MAX_PIXELS = 100_000_000

/**
 * One sharp pipeline per image: sharp checks the pixel limit from the header before it decodes a
 * pixel, so no separate metadata() pass is made (on small images that pass cost about as much as
 * the decode). Only a refused image is looked at again, to say why in a sentence.
 */
export async function decodeToModelRgb(input: string | Buffer, side: number, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const label = opts.label ?? (typeof input === 'string' ? input : 'the image')
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS
  try {
    if (opts.kernel === 'box') return await boxDecode(input, side, maxPixels, opts.resize ?? 'crop')
    const { data, info } = await pipeline(input, maxPixels)
      .resize(side, side, { fit: opts.resize === 'squash' ? 'fill' : 'cover', position: 'centre', kernel: opts.kernel ?? 'linear' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
    if (info.width !== side || info.height !== side || info.channels !== 3 || data.length !== side * side * 3) {
      throw new Error(`unexpected decoded layout ${info.width}x${info.height}x${info.channels}`)
    }
    return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), side }
  } catch (err) {
    throw await decodeError(input, label, maxPixels, err)
  }
}

/** First frame, EXIF orientation applied, alpha on white, sRGB; sharp refuses more than maxPixels from the header. */
function pipeline(input: string | Buffer, maxPixels: number): Sharp {
  return sharp(input, { limitInputPixels: maxPixels, failOn: 'error', pages: 1 }).rotate().flatten({ background: { r: 255, g: 255, b: 255 } }).toColourspace('srgb')
}

/** The sentence for an image sharp refused: not an image at all, too many pixels, or damaged. */
async function decodeError(input: string | Buffer, label: string, maxPixels: number, err: unknown): Promise<ImageDecodeError> {
  let meta: Metadata
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata()
  } catch (e) {
    return new ImageDecodeError(`${label} could not be read as an image (${reason(e)}).`)
  }
  const w = meta.width
  const h = meta.height
  if (!w || !h) return new ImageDecodeError(`${label} could not be read as an image (no dimensions).`)
  if (w * h > maxPixels) return new ImageDecodeError(`${label} is ${w}x${h} pixels, more than the limit of ${maxPixels} pixels; it was not decoded.`)
  return new ImageDecodeError(`${label} could not be decoded (${reason(err)}).`)
}

/**
 * The 'box' path: sharp decodes (orientation, alpha on white, sRGB) at full size, or, for a
 * reduction larger than BOX_MAX_FACTOR, shrinks to BOX_MAX_FACTOR times the side on the way; the
 * area average then runs here, in JS.
 */
async function boxDecode(input: string | Buffer, side: number, maxPixels: number, mode: ResizeMode): Promise<DecodedImage> {
  const target = BOX_MAX_FACTOR * side
  // No-ops unless the image is larger than the target (withoutEnlargement); 'outside' keeps the
  // aspect ratio with the short side at the target, so the crop below still takes the centre.
  const { data, info } = await pipeline(input, maxPixels)
    .resize(target, target, { fit: mode === 'squash' ? 'fill' : 'outside', withoutEnlargement: true, kernel: 'linear' })
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) throw new Error(`unexpected decoded layout ${info.width}x${info.height}x${info.channels}`)
  const src = new Uint8Array(data.buffer, data.byteOffset, data.length)
  const W = info.width
  const H = info.height
  let x0 = 0
  let y0 = 0
  let rw = W
  let rh = H
  if (mode === 'crop') {
    const s = Math.min(W, H)
    x0 = (W - s) / 2
    y0 = (H - s) / 2
    rw = s
    rh = s
  }
  return { rgb: areaAverage(src, W, H, 3, x0, y0, rw, rh, side), side }
}

interface Taps {
  first: Int32Array
  count: Int32Array
  weights: Float64Array
  stride: number
}

/** For each of n outputs over the source interval [start, start + len): the source pixels it covers and their overlap weights (summing to 1). */
function areaTaps(start: number, len: number, n: number, limit: number): Taps {
  const step = len / n
  const stride = Math.ceil(step) + 2
  const first = new Int32Array(n)
  const count = new Int32Array(n)
  const weights = new Float64Array(n * stride)
  for (let j = 0; j < n; j++) {
    const a = start + j * step
    const b = a + step
    const lo = Math.max(0, Math.floor(a))
    const hi = Math.min(limit, Math.ceil(b))
    first[j] = lo
    let k = 0
    let total = 0
    for (let p = lo; p < hi; p++, k++) {
      const wgt = Math.min(b, p + 1) - Math.max(a, p)
      weights[j * stride + k] = wgt > 0 ? wgt : 0
      total += weights[j * stride + k] as number
    }
    count[j] = k
    for (let q = 0; q < k; q++) weights[j * stride + q] = (weights[j * stride + q] as number) / total
  }
  return { first, count, weights, stride }
}

/**
 * Exact area-average resample of the region [x0, x0+rw) x [y0, y0+rh) of an interleaved 8-bit
 * image to side x side, rounded to the nearest integer. Separable: rows first, then columns; for
 * an integer factor k each output is the plain mean of a k x k block (exact in float64).
 */
export function areaAverage(src: Uint8Array, W: number, H: number, C: number, x0: number, y0: number, rw: number, rh: number, side: number): Uint8Array {
  const tx = areaTaps(x0, rw, side, W)
  const ty = areaTaps(y0, rh, side, H)
  const rowFirst = ty.first[0] as number
  const rowLast = (ty.first[side - 1] as number) + (ty.count[side - 1] as number)
  const rows = rowLast - rowFirst
  const mid = new Float64Array(rows * side * C)
  for (let r = 0; r < rows; r++) {
    const srcRow = (rowFirst + r) * W * C
    for (let j = 0; j < side; j++) {
      const f = tx.first[j] as number
      const n = tx.count[j] as number
      const o = (r * side + j) * C
      for (let k = 0; k < n; k++) {
        const wgt = tx.weights[j * tx.stride + k] as number
        const s = srcRow + (f + k) * C
        for (let c = 0; c < C; c++) mid[o + c] = (mid[o + c] as number) + wgt * (src[s + c] as number)
      }
    }
  }
  const out = new Uint8Array(side * side * C)
  for (let i = 0; i < side; i++) {
    const f = (ty.first[i] as number) - rowFirst
    const n = ty.count[i] as number
    for (let j = 0; j < side; j++) {
      for (let c = 0; c < C; c++) {
        let v = 0
        for (let k = 0; k < n; k++) v += (ty.weights[i * ty.stride + k] as number) * (mid[((f + k) * side + j) * C + c] as number)
        const r = Math.round(v)
        out[(i * side + j) * C + c] = r < 0 ? 0 : r > 255 ? 255 : r
      }
    }
  }
  return out
}

function reason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err)
  return msg.replace(/\s+/g, ' ').trim().replace(/\.$/, '')
}
