import { describe, expect, it } from 'vitest'
import { onnx } from 'onnx-proto'
import {
  add,
  causalMask,
  concat,
  gather,
  Graph,
  GraphError,
  matmul,
  mul,
  reduceMean,
  reshape,
  slice,
  softmax,
  split,
  toOnnx,
  transpose,
  type Value,
  where
} from '../../../../src/main/ml/graph'
import { hostTensor, Runtime, runGraph } from '../../../../src/main/ml/runtime'

const seq = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i))

describe('graph builder', () => {
  it('infers shapes with symbolic dims and broadcasting', () => {
    const g = new Graph()
    const x = g.input('x', 'float32', ['B', 'T', 8])
    const w = g.param('w', [8, 4])
    const y = add(matmul(x, w), g.param('b', [4]))
    expect(y.shape).toEqual(['B', 'T', 4])
    const h = reshape(y, ['B', 'T', 2, 2])
    expect(h.shape).toEqual(['B', 'T', 2, 2])
    expect(reshape(x, [0, 0, 2, 4]).shape).toEqual(['B', 'T', 2, 4])
    expect(reshape(x, [-1, 8]).shape[1]).toBe(8)
    expect(transpose(h, [0, 2, 1, 3]).shape).toEqual(['B', 2, 'T', 2])
    expect(reduceMean(y, [-1], true).shape).toEqual(['B', 'T', 1])
    const [a, b] = split(y, [1, 3], -1)
    expect(a?.shape).toEqual(['B', 'T', 1])
    expect(concat([b!, a!], 2).shape).toEqual(['B', 'T', 4])
    expect(slice(x, [2], [5], [2]).shape).toEqual(['B', 'T', 3])
    const ids = g.input('ids', 'int64', ['B', 'T'])
    expect(gather(g.param('emb', [10, 8]), ids).shape).toEqual(['B', 'T', 8])
  })

  it('names the op and the shapes in shape errors', () => {
    const g = new Graph()
    const x = g.input('x', 'float32', [3, 5])
    const w = g.param('w', [4, 2])
    expect(() => matmul(x, w)).toThrow(GraphError)
    expect(() => matmul(x, w)).toThrow(/MatMul.*\[3, 5\].*\[4, 2\]/)
    expect(() => add(x, g.input('y', 'float32', [4]))).toThrow(/Add: shapes \[3, 5\] and \[4\] do not broadcast/)
    expect(() => reshape(x, [4, 4])).toThrow(/Reshape/)
    expect(() => g.input('x', 'float32', [1])).toThrow(/already used/)
  })

  it('serialises to opset 17 / ir 8 with params as graph inputs', () => {
    const g = new Graph()
    const x = g.input('x', 'float32', ['B', 2])
    const w = g.param('w', [2, 2])
    g.output(matmul(x, w), 'y')
    const m = onnx.ModelProto.decode(toOnnx(g))
    expect(Number(m.irVersion)).toBe(8)
    expect(Number(m.opsetImport[0]?.version)).toBe(17)
    expect(m.graph?.input?.map((i) => i.name)).toEqual(['x', 'w'])
    expect(m.graph?.output?.map((i) => i.name)).toEqual(['y'])
    expect(m.graph?.input?.[0]?.type?.tensorType?.shape?.dim?.[0]?.dimParam).toBe('B')
  })

  it('runs a small attention-like graph and matches a plain JS reference', async () => {
    const T = 3
    const D = 4
    const g = new Graph()
    const x = g.input('x', 'float32', ['B', T, D])
    const w = g.param('w', [D, D])
    const q = matmul(x, w) // (B, T, D)
    const s = mul(matmul(q, transpose(x, [0, 2, 1])), 0.5) // (B, T, T)
    const p = softmax(where(causalMask(g, T), s, -1e9))
    g.output(matmul(p, x), 'y')
    const xs = seq(2 * T * D, (i) => Math.sin(i))
    const ws = seq(D * D, (i) => Math.cos(i) / 2)
    const out = await runGraph(g, { x: hostTensor('float32', [2, T, D], xs), w: hostTensor('float32', [D, D], ws) })
    const y = out.y!
    expect(y.dims).toEqual([2, T, D])
    for (let b = 0; b < 2; b++) {
      const X = (t: number, d: number): number => xs[(b * T + t) * D + d]!
      for (let t = 0; t < T; t++) {
        const qv = seq(D, (j) => seq(D, (k) => X(t, k) * ws[k * D + j]!).reduce((u, v) => u + v, 0))
        const sc = seq(t + 1, (u) => 0.5 * seq(D, (j) => qv[j]! * X(u, j)).reduce((a, c) => a + c, 0))
        const m = Math.max(...sc)
        const e = sc.map((v) => Math.exp(v - m))
        const z = e.reduce((a, c) => a + c, 0)
        for (let d = 0; d < D; d++) {
          const ref = e.reduce((a, c, u) => a + (c / z) * X(u, d), 0)
          expect(Math.abs((y.data[(b * T + t) * D + d] as number) - ref)).toBeLessThan(1e-5)
        }
      }
    }
  })

  it('caches sessions by model hash', async () => {
    const rt = new Runtime({ intraOpThreads: 1 })
    const build = (): Graph => {
      const g = new Graph()
      g.output(add(g.input('x', 'float32', [2]), 1), 'y')
      return g
    }
    const s1 = await rt.compile(build())
    const s2 = await rt.compile(build())
    expect(s1).toBe(s2)
    const out = await s1.runHost({ x: hostTensor('float32', [2], [1, 2]) })
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 3])
    expect(rt.report().active).toBe('cpu')
    await rt.dispose()
  })
})

describe('shape inference agrees with onnxruntime', () => {
  it('every op output has the dims the builder inferred', async () => {
    const { argMax, cast, expand, oneHot, pad, reduceMax, reduceSum, squeeze, unsqueeze, logSoftmax, gather: gth, Graph: G } = await import('../../../../src/main/ml/graph')
    const g = new G()
    const x = g.input('x', 'float32', ['B', 3, 4])
    const ids = g.input('ids', 'int64', ['B', 3])
    const w = g.param('w', [4, 6])
    const vals: Record<string, Value> = {
      matmul: matmul(x, w),
      bcast: add(x, g.param('b', [3, 1])),
      soft: softmax(x, 1),
      lsm: logSoftmax(x, -1),
      rsum: reduceSum(x, [0, 2], true),
      rmean: reduceMean(x, [1]),
      rmax: reduceMax(x),
      amax: argMax(x, -1),
      resh: reshape(x, ['B', 12]),
      resh0: reshape(x, [0, 2, -1]),
      tr: transpose(x, [2, 0, 1]),
      unsq: unsqueeze(x, [0, -1]),
      sq: squeeze(unsqueeze(x, [1]), [1]),
      exp: expand(unsqueeze(w, [0]), ['B', 4, 6], [x]),
      cat: concat([x, x], 1),
      split1: split(x, [1, 3], 2)[1]!,
      sl: slice(x, [1, -3], [3, 4], [1, 2]),
      gat: gather(w, ids, 0),
      gat1: gth(x, g.ints([2, 0]), 2),
      oh: oneHot(ids, 5),
      wh: where(causalMask(g, 3), softmax(matmul(x, transpose(x, [0, 2, 1]))), -1),
      cst: cast(x, 'float64'),
      pd: pad(x, [0, 1, 0, 0, 2, 1])
    }
    for (const [k, v] of Object.entries(vals)) g.output(v, k)
    const out = await runGraph(g, {
      x: hostTensor('float32', [2, 3, 4], seq(24, (i) => Math.sin(i))),
      ids: hostTensor('int64', [2, 3], [0, 1, 2, 3, 0, 1]),
      w: hostTensor('float32', [4, 6], seq(24, (i) => i / 24)),
      b: hostTensor('float32', [3, 1], [1, 2, 3])
    })
    for (const [k, v] of Object.entries(vals)) {
      const dims = out[k]!.dims
      expect(dims.length, k).toBe(v.rank)
      v.shape.forEach((d, i) => {
        if (d === 'B') expect(dims[i], `${k}[${i}]`).toBe(2)
        else if (typeof d === 'number') expect(dims[i], `${k}[${i}]`).toBe(d)
      })
    }
  })
})

describe('run-time dims', () => {
  it('range over a symbolic length positions a learned table', async () => {
    const { dimOf, range } = await import('../../../../src/main/ml/graph')
    const g = new Graph()
    const ids = g.input('ids', 'int64', ['B', 'T'])
    const pos = range(0, dimOf(ids, 1), 1, 'T') // (T)
    expect(pos.shape).toEqual(['T'])
    const wpe = g.param('wpe', [8, 2])
    g.output(gather(wpe, pos), 'p')
    const out = await runGraph(g, { ids: hostTensor('int64', [1, 3], [5, 5, 5]), wpe: hostTensor('float32', [8, 2], seq(16, (i) => i)) })
    expect(out.p!.dims).toEqual([3, 2])
    expect(Array.from(out.p!.data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5])
  })
})
