import { describe, expect, it } from 'vitest'
import {
  abs,
  add,
  cast,
  concat,
  div,
  exp,
  expand,
  gather,
  type Graph,
  log,
  logSoftmax,
  matmul,
  max,
  min,
  mul,
  neg,
  pow,
  reciprocal,
  reduceMax,
  reduceMean,
  reduceSum,
  relu,
  reshape,
  sigmoid,
  slice,
  softmax,
  split,
  sqrt,
  squeeze,
  sub,
  tanh,
  transpose,
  unsqueeze,
  type Value,
  where
} from '../../../../src/main/ml/graph'
import { type HostTensor, hostTensor } from '../../../../src/main/ml/runtime'
import { gradCheck, randn, rng } from './gradcheck'

const F = 'float64'

interface Case {
  name: string
  inputs: Record<string, { dims: number[]; scale?: number; shift?: number; dtype?: 'float64' | 'float32' }>
  ints?: Record<string, { dims: number[]; values: number[] }>
  build: (g: Graph, v: Record<string, Value>) => Value
  tol?: { eps?: number; atol?: number; rtol?: number }
}

const cases: Case[] = [
  { name: 'add broadcast [2,3,4] + [3,1]', inputs: { a: { dims: [2, 3, 4] }, b: { dims: [3, 1] } }, build: (_g, v) => add(v.a!, v.b!) },
  { name: 'sub broadcast [4] - [2,3,4]', inputs: { a: { dims: [4] }, b: { dims: [2, 3, 4] } }, build: (_g, v) => sub(v.a!, v.b!) },
  { name: 'mul broadcast [2,1,4] * [3,1]', inputs: { a: { dims: [2, 1, 4] }, b: { dims: [3, 1] } }, build: (_g, v) => mul(v.a!, v.b!) },
  { name: 'div broadcast [2,3] / [3]', inputs: { a: { dims: [2, 3] }, b: { dims: [3], shift: 2 } }, build: (_g, v) => div(v.a!, v.b!) },
  { name: 'pow with both operands', inputs: { a: { dims: [2, 3], scale: 0.5, shift: 1.5 }, b: { dims: [3] } }, build: (_g, v) => pow(v.a!, v.b!) },
  { name: 'pow with a constant exponent', inputs: { a: { dims: [5] } }, build: (_g, v) => pow(v.a!, 3) },
  { name: 'neg, exp, tanh, sigmoid', inputs: { a: { dims: [6] } }, build: (_g, v) => add(neg(exp(v.a!)), mul(tanh(v.a!), sigmoid(v.a!))) },
  { name: 'log, sqrt, reciprocal', inputs: { a: { dims: [6], scale: 0.5, shift: 1.5 } }, build: (_g, v) => add(log(v.a!), mul(sqrt(v.a!), reciprocal(v.a!))) },
  { name: 'relu, abs (away from 0)', inputs: { a: { dims: [8], scale: 1 } }, build: (_g, v) => add(relu(v.a!), mul(abs(v.a!), 0.3)) },
  { name: 'max, min broadcast', inputs: { a: { dims: [2, 3] }, b: { dims: [3] } }, build: (_g, v) => add(max(v.a!, v.b!), mul(min(v.a!, v.b!), 2)) },
  { name: 'matmul 2-D', inputs: { a: { dims: [3, 4] }, b: { dims: [4, 2] } }, build: (_g, v) => matmul(v.a!, v.b!) },
  { name: 'matmul batch broadcast [2,1,3,4] @ [5,4,2]', inputs: { a: { dims: [2, 1, 3, 4] }, b: { dims: [5, 4, 2] } }, build: (_g, v) => matmul(v.a!, v.b!) },
  { name: 'matmul 3-D @ 2-D weight', inputs: { a: { dims: [2, 3, 4] }, b: { dims: [4, 5] } }, build: (_g, v) => matmul(v.a!, v.b!) },
  { name: 'matmul 1-D @ 2-D and 2-D @ 1-D', inputs: { a: { dims: [4] }, b: { dims: [4, 3] }, c: { dims: [3] } }, build: (_g, v) => matmul(matmul(v.a!, v.b!), v.c!) },
  { name: 'softmax last axis', inputs: { a: { dims: [2, 5] } }, build: (_g, v) => softmax(v.a!, -1) },
  { name: 'softmax middle axis', inputs: { a: { dims: [2, 3, 4] } }, build: (_g, v) => softmax(v.a!, 1) },
  { name: 'logSoftmax', inputs: { a: { dims: [3, 4] } }, build: (_g, v) => logSoftmax(v.a!, -1) },
  { name: 'reduceSum axis 1', inputs: { a: { dims: [2, 3, 4] } }, build: (_g, v) => reduceSum(v.a!, [1]) },
  { name: 'reduceSum all', inputs: { a: { dims: [2, 3] } }, build: (_g, v) => mul(reduceSum(v.a!), v.a!) },
  { name: 'reduceMean keepdims [0,2]', inputs: { a: { dims: [2, 3, 4] } }, build: (_g, v) => reduceMean(v.a!, [0, 2], true) },
  { name: 'reduceMax axis -1', inputs: { a: { dims: [3, 4] } }, build: (_g, v) => reduceMax(v.a!, [-1]) },
  { name: 'reshape, transpose', inputs: { a: { dims: [2, 3, 4] } }, build: (_g, v) => transpose(reshape(v.a!, [6, 2, 2]), [2, 0, 1]) },
  { name: 'unsqueeze, squeeze, expand', inputs: { a: { dims: [3, 1] } }, build: (_g, v) => expand(squeeze(unsqueeze(v.a!, [0]), [0]), [2, 3, 4]) },
  { name: 'concat', inputs: { a: { dims: [2, 3] }, b: { dims: [2, 1] } }, build: (_g, v) => concat([v.a!, v.b!, v.a!], 1) },
  { name: 'split (one piece unused)', inputs: { a: { dims: [2, 6] } }, build: (_g, v) => { const [p, , r] = split(v.a!, [1, 2, 3], 1); return mul(p!, reduceSum(r!, [1], true)) } },
  { name: 'slice with negative ends', inputs: { a: { dims: [4, 5] } }, build: (_g, v) => slice(v.a!, [1, -3], [3, -1], [0, 1]) },
  {
    name: 'gather axis 0 (embedding, repeated ids)',
    inputs: { emb: { dims: [5, 3] } },
    ints: { ids: { dims: [2, 3], values: [0, 2, 2, 4, 0, 0] } },
    build: (_g, v) => gather(v.emb!, v.ids!, 0)
  },
  {
    name: 'gather axis 1 with 2-D indices',
    inputs: { a: { dims: [2, 4, 3] } },
    ints: { ids: { dims: [2, 2], values: [3, 1, 1, 0] } },
    build: (_g, v) => gather(v.a!, v.ids!, 1)
  },
  {
    name: 'where with a constant broadcast mask',
    inputs: { a: { dims: [2, 3, 3] }, b: { dims: [3] } },
    build: (g, v) => where(g.tensor([1, 0, 0, 1, 1, 0, 1, 1, 1], [3, 3], 'bool'), v.a!, v.b!)
  },
  {
    name: 'cast float32 -> float64',
    inputs: { a: { dims: [4], dtype: 'float32' } },
    build: (_g, v) => mul(cast(v.a!, 'float64'), cast(v.a!, 'float64')),
    tol: { eps: 1e-2, atol: 1e-3, rtol: 1e-3 }
  }
]

function feedsFor(c: Case, seed: number): { feeds: Record<string, HostTensor>; build: (g: Graph) => { out: Value; wrt: Value[] } } {
  const r = rng(seed)
  const feeds: Record<string, HostTensor> = {}
  for (const [k, s] of Object.entries(c.inputs)) feeds[k] = randn(r, s.dtype ?? F, s.dims, s.scale ?? 1, s.shift ?? 0)
  for (const [k, s] of Object.entries(c.ints ?? {})) feeds[k] = hostTensor('int64', s.dims, s.values)
  const build = (g: Graph): { out: Value; wrt: Value[] } => {
    const v: Record<string, Value> = {}
    const wrt: Value[] = []
    for (const [k, s] of Object.entries(c.inputs)) {
      v[k] = g.param(k, s.dims, s.dtype ?? F)
      wrt.push(v[k])
    }
    for (const [k, s] of Object.entries(c.ints ?? {})) v[k] = g.input(k, 'int64', s.dims)
    return { out: c.build(g, v), wrt }
  }
  return { feeds, build }
}

describe('gradient rules vs central finite differences (float64)', () => {
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const { feeds, build } = feedsFor(c, 100 + i)
      const res = await gradCheck(build, feeds, c.tol)
      expect(res.maxAbsGrad).toBeGreaterThan(0)
      for (const [k, w] of Object.entries(res.worst)) expect(w, `${c.name}: ${k}`).toBeLessThanOrEqual(1)
    })
  }
})

describe('gradients through symbolic dimensions (float64)', () => {
  it('mean over a symbolic batch of an RMS-normed affine map; reshape with a symbolic dim', async () => {
    const r = rng(3)
    const feeds: Record<string, HostTensor> = {
      x: randn(r, F, [5, 3]),
      w: randn(r, F, [3, 4]),
      b: randn(r, F, [4]),
      ln: randn(r, F, [2], 0.5, 1)
    }
    const res = await gradCheck((g) => {
      const x = g.input('x', F, ['B', 3])
      const w = g.param('w', [3, 4], F)
      const b = g.param('b', [4], F)
      const ln = g.param('ln', [2], F)
      const h = reshape(add(matmul(x, w), b), ['B', 2, 2]) // (B, 2, 2)
      const ms = reduceMean(mul(h, h), [-1], true)
      const y = mul(div(h, sqrt(add(ms, 1e-5))), ln)
      return { out: reduceMean(mul(y, tanh(y))), wrt: [w, b, ln] }
    }, feeds)
    expect(res.maxAbsGrad).toBeGreaterThan(0)
    for (const [k, w] of Object.entries(res.worst)) expect(w, k).toBeLessThanOrEqual(1)
  })
})

describe('gather gradient with negative and int32 indices (float64)', () => {
  it('accumulates into the rows the indices name', async () => {
    const r = rng(9)
    const feeds: Record<string, HostTensor> = { emb: randn(r, F, [4, 3]), ids: hostTensor('int32', [3], [-1, 0, 3]) }
    const res = await gradCheck((g) => {
      const emb = g.param('emb', [4, 3], F)
      return { out: gather(emb, g.input('ids', 'int32', [3])), wrt: [emb] }
    }, feeds)
    for (const [k, w] of Object.entries(res.worst)) expect(w, k).toBeLessThanOrEqual(1)
  })
})
