// Central finite-difference gradient checks: build f, take loss = sum(f * R) for a fixed random
// R, and compare gradients(loss) with (L(p + eps) - L(p - eps)) / 2eps for every element.

import { type DType, gradients, Graph, mul, reduceSum, type Value } from '../../../../src/main/ml/graph'
import { type HostTensor, hostTensor, Runtime } from '../../../../src/main/ml/runtime'

export const runtime = new Runtime({ intraOpThreads: 1 })

/** A seeded uniform(-1, 1) stream (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1
  }
}

export function randn(r: () => number, dtype: DType, dims: number[], scale = 1, shift = 0): HostTensor {
  const n = dims.reduce((p, q) => p * q, 1)
  return hostTensor(dtype, dims, Array.from({ length: n }, () => r() * scale + shift))
}

export interface Check {
  /** Parameter name -> the worst |analytic - numeric| / (atol + rtol |numeric|) (<= 1 passes). */
  worst: Record<string, number>
  maxAbsGrad: number
}

/**
 * Check gradients of `build`'s output with respect to the values it returns as `wrt`
 * (graph inputs by name in `feeds`).
 */
export async function gradCheck(
  build: (g: Graph) => { out: Value; wrt: Value[] },
  feeds: Record<string, HostTensor>,
  opts: { eps?: number; atol?: number; rtol?: number; seed?: number } = {}
): Promise<Check> {
  const g = new Graph('gradcheck')
  const { out, wrt } = build(g)
  const dims = out.shape.map((d) => {
    if (typeof d !== 'number') throw new Error('gradCheck needs a static output shape')
    return d
  })
  const r = rng(opts.seed ?? 7)
  const R = randn(r, out.dtype, dims)
  const loss = reduceSum(mul(out, g.constant({ dtype: R.dtype, dims: R.dims, data: R.data })))
  g.output(loss, 'loss')
  const grads = gradients(loss, wrt)
  grads.forEach((d, i) => g.output(d, `grad_${i}`))
  const s = await runtime.compile(g)
  const base = await s.runHost(feeds)
  const eps = opts.eps ?? (out.dtype === 'float64' ? 1e-6 : 1e-2)
  const atol = opts.atol ?? (out.dtype === 'float64' ? 1e-7 : 2e-3)
  const rtol = opts.rtol ?? (out.dtype === 'float64' ? 1e-6 : 2e-2)
  const worst: Record<string, number> = {}
  let maxAbsGrad = 0
  for (let i = 0; i < wrt.length; i++) {
    const w = wrt[i] as Value
    const feed = feeds[w.name]
    if (!feed) throw new Error(`gradCheck: no feed for ${w.name}`)
    const an = base[`grad_${i}`]?.data as Float64Array | Float32Array
    let bad = 0
    const data = feed.data as Float64Array | Float32Array
    for (let j = 0; j < data.length; j++) {
      const orig = data[j] as number
      const plus = Float64Array.from(data)
      plus[j] = orig + eps
      const minus = Float64Array.from(data)
      minus[j] = orig - eps
      const L = async (arr: Float64Array): Promise<number> => {
        const t = hostTensor(feed.dtype, feed.dims, feed.dtype === 'float64' ? arr : Float32Array.from(arr))
        const o = await s.runHost({ ...feeds, [w.name]: t }, ['loss'])
        return Number(o.loss?.data[0])
      }
      const num = ((await L(plus)) - (await L(minus))) / (2 * eps)
      const a = an[j] as number
      maxAbsGrad = Math.max(maxAbsGrad, Math.abs(a))
      bad = Math.max(bad, Math.abs(a - num) / (atol + rtol * Math.abs(num)))
    }
    worst[w.name] = bad
  }
  return { worst, maxAbsGrad }
}
