// Perceptual hashes for near-duplicate detection. Both are 64 bits, as 16 hex digits.
// dHash: 9x8 grey thumbnail, one bit per horizontal neighbour pair (left brighter than
// right). pHash: 32x32 grey thumbnail, 2-D DCT-II, the 8x8 lowest frequencies, one bit
// per coefficient above their median (DC left out of the median: it only says how
// bright the image is). Resizing and recompression barely move either; different
// images differ in about half their bits.

import sharp from 'sharp'

export interface GreyImage {
  data: Uint8Array | Buffer
  width: number
  height: number
  channels: number
}

async function grey(image: GreyImage, w: number, h: number): Promise<Uint8Array> {
  const { data } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels as 1 | 2 | 3 | 4 } })
    .flatten({ background: '#ffffff' })
    .greyscale()
    .resize(w, h, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer({ resolveWithObject: true })
  // greyscale() keeps 1 channel after flatten; guard in case sharp hands back more.
  if (data.length === w * h) return new Uint8Array(data)
  const ch = data.length / (w * h)
  const out = new Uint8Array(w * h)
  for (let i = 0; i < w * h; i++) out[i] = data[i * ch]!
  return out
}

function bitsToHex(bits: boolean[]): string {
  let hex = ''
  for (let i = 0; i < 64; i += 4) hex += ((+bits[i]! << 3) | (+bits[i + 1]! << 2) | (+bits[i + 2]! << 1) | +bits[i + 3]!).toString(16)
  return hex
}

export function dHashOfGrey(g: Uint8Array): string {
  // g: 9 wide x 8 high
  const bits: boolean[] = []
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) bits.push(g[y * 9 + x]! > g[y * 9 + x + 1]!)
  return bitsToHex(bits)
}

const N = 32
// DCT-II basis, cos((2x+1) u pi / 2N) for u < 8: only the lowest 8 frequencies are kept.
const COS: Float64Array = (() => {
  const c = new Float64Array(8 * N)
  for (let u = 0; u < 8; u++) for (let x = 0; x < N; x++) c[u * N + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N))
  return c
})()

/** The 8x8 low-frequency DCT-II coefficients (unnormalised) of a 32x32 grey image; [u*8+v]. */
export function lowDct(g: Uint8Array): Float64Array {
  // rows first: tmp[y][u] = sum_x g[y][x] cos_u(x)   (32 x 8)
  const tmp = new Float64Array(N * 8)
  for (let y = 0; y < N; y++)
    for (let u = 0; u < 8; u++) {
      let s = 0
      for (let x = 0; x < N; x++) s += g[y * N + x]! * COS[u * N + x]!
      tmp[y * 8 + u] = s
    }
  // then columns: out[v][u] = sum_y tmp[y][u] cos_v(y)   (8 x 8)
  const out = new Float64Array(64)
  for (let v = 0; v < 8; v++)
    for (let u = 0; u < 8; u++) {
      let s = 0
      for (let y = 0; y < N; y++) s += tmp[y * 8 + u]! * COS[v * N + y]!
      out[v * 8 + u] = s
    }
  return out
}

export function pHashOfGrey(g: Uint8Array): string {
  const d = lowDct(g)
  const ac = Array.from(d.subarray(1)).sort((a, b) => a - b)
  const median = (ac[31]! + ac[32]!) / 2
  return bitsToHex(Array.from(d, (c) => c > median))
}

export async function perceptualHashes(image: GreyImage): Promise<{ dhash: string; phash: string }> {
  const [d, p] = await Promise.all([grey(image, 9, 8), grey(image, N, N)])
  return { dhash: dHashOfGrey(d), phash: pHashOfGrey(p) }
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  x = (x + (x >>> 4)) & 0x0f0f0f0f
  return Math.imul(x, 0x01010101) >>> 24
}

/** A 64-bit hash as two 32-bit halves, for fast Hamming distances. */
export function hashWords(hex: string): [number, number] {
  return [parseInt(hex.slice(0, 8), 16) >>> 0, parseInt(hex.slice(8, 16), 16) >>> 0]
}

export function hamming(a: string, b: string): number {
  const [a0, a1] = hashWords(a)
  const [b0, b1] = hashWords(b)
  return popcount32((a0 ^ b0) >>> 0) + popcount32((a1 ^ b1) >>> 0)
}

/** Hamming distance over packed words: words[2i], words[2i+1] are hash i. */
export function hammingAt(words: Uint32Array, i: number, j: number): number {
  return popcount32((words[2 * i]! ^ words[2 * j]!) >>> 0) + popcount32((words[2 * i + 1]! ^ words[2 * j + 1]!) >>> 0)
}
