// Image decode for the models: any format sharp reads -> RGB bytes at the model's side.
// EXIF orientation applied, alpha composited on white, grayscale expanded to RGB, 16-bit reduced
// to 8-bit, and a pixel limit against decompression bombs checked before any pixel is decoded.

import sharp, { type Metadata } from 'sharp'

/** An image the decoder refuses; the message is a sentence for the user. */
export class ImageDecodeError extends Error {
  readonly code = 'UNSUPPORTED' as const
  constructor(message: string) {
    super(message)
    this.name = 'ImageDecodeError'
  }
}

export type ResizeMode = 'crop' | 'squash'

export interface DecodeOptions {
  /**
   * 'crop' (default): scale the short side to `side` and cut the centre square; 'squash': scale
   * both sides to `side`, as the Hugging Face ImageGPT processor does.
   */
  resize?: ResizeMode
  /**
   * Resampling kernel; default 'linear', the closest to the bilinear resize (resample=2) of the
   * Hugging Face ImageGPT processor, so tokens match Python's more often.
   */
  kernel?: 'linear' | 'cubic' | 'lanczos3' | 'nearest'
  /** Largest input (width * height) accepted; default 100 megapixels. */
  maxPixels?: number
  /** Name used in error messages (defaults to the path, or "the image"). */
  label?: string
}

export interface DecodedImage {
  /** side * side * 3 bytes, raster order. */
  rgb: Uint8Array
  side: number
  /** Size of the source after EXIF orientation. */
  sourceWidth: number
  sourceHeight: number
}

export const DEFAULT_MAX_PIXELS = 100_000_000

export async function decodeToModelRgb(input: string | Buffer, side: number, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const label = opts.label ?? (typeof input === 'string' ? input : 'the image')
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS
  let meta: Metadata
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata()
  } catch (err) {
    throw new ImageDecodeError(`${label} could not be read as an image (${reason(err)}).`)
  }
  const w = meta.width
  const h = meta.height
  if (!w || !h) throw new ImageDecodeError(`${label} could not be read as an image (no dimensions).`)
  if (w * h > maxPixels) {
    throw new ImageDecodeError(`${label} is ${w}x${h} pixels, more than the limit of ${maxPixels} pixels; it was not decoded.`)
  }
  // Orientations 5-8 swap width and height.
  const swapped = (meta.orientation ?? 1) >= 5
  const sourceWidth = swapped ? h : w
  const sourceHeight = swapped ? w : h
  try {
    const { data, info } = await sharp(input, { limitInputPixels: maxPixels, failOn: 'error', pages: 1 })
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .resize(side, side, { fit: opts.resize === 'squash' ? 'fill' : 'cover', position: 'centre', kernel: opts.kernel ?? 'linear' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
    if (info.width !== side || info.height !== side || info.channels !== 3 || data.length !== side * side * 3) {
      throw new Error(`unexpected decoded layout ${info.width}x${info.height}x${info.channels}`)
    }
    return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), side, sourceWidth, sourceHeight }
  } catch (err) {
    throw new ImageDecodeError(`${label} could not be decoded (${reason(err)}).`)
  }
}

function reason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err)
  return msg.replace(/\s+/g, ' ').trim().replace(/\.$/, '')
}
