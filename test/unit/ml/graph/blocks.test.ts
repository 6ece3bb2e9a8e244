// Whole blocks a GPT is made of, differentiated end to end and checked against central finite
// differences: float64 (tight tolerance) and float32 (eps 1e-2, 2e-3 abs + 2e-2 rel).
import { describe, expect, it } from 'vitest'
import {
  add,
  causalSelfAttention,
  type DType,
  gather,
  type Graph,
  linear,
  meanCrossEntropy,
  quickGelu,
  rmsNorm,
  type Value
} from '../../../../src/main/ml/graph'
import { type HostTensor, hostTensor } from '../../../../src/main/ml/runtime'
import { gradCheck, randn, rng } from './gradcheck'

function params(g: Graph, dtype: DType, specs: Record<string, number[]>, r: () => number, feeds: Record<string, HostTensor>, scale = 0.5): Record<string, Value> {
  const out: Record<string, Value> = {}
  for (const [k, dims] of Object.entries(specs)) {
    out[k] = g.param(k, dims, dtype)
    feeds[k] = randn(r, dtype, dims, scale, k.startsWith('ln') ? 1 : 0)
  }
  return out
}

async function check(dtype: DType, make: (g: Graph, feeds: Record<string, HostTensor>, r: () => number) => { out: Value; wrt: Value[] }): Promise<void> {
  // gradCheck reads the feeds after building, so the builder fills them as it declares params.
  const feeds: Record<string, HostTensor> = {}
  const res = await gradCheck((g) => make(g, feeds, rng(11)), feeds)
  expect(res.maxAbsGrad).toBeGreaterThan(0)
  for (const [k, w] of Object.entries(res.worst)) expect(w, `${dtype} ${k}`).toBeLessThanOrEqual(1)
}

const B = 2
const T = 4
const C = 8

const mlp = (dtype: DType) => (g: Graph, feeds: Record<string, HostTensor>, r: () => number) => {
  const p = params(g, dtype, { w1: [C, 2 * C], b1: [2 * C], w2: [2 * C, C], b2: [C] }, r, feeds)
  const x = g.input('x', dtype, [B, T, C])
  feeds.x = randn(r, dtype, [B, T, C])
  return { out: linear(quickGelu(linear(x, p.w1!, p.b1)), p.w2!, p.b2), wrt: Object.values(p) }
}

const norm = (dtype: DType) => (g: Graph, feeds: Record<string, HostTensor>, r: () => number) => {
  const p = params(g, dtype, { ln: [C] }, r, feeds)
  const x = g.param('x', [B, T, C], dtype)
  feeds.x = randn(r, dtype, [B, T, C])
  return { out: rmsNorm(x, p.ln!, 1e-5), wrt: [x, p.ln!] }
}

const attention = (dtype: DType) => (g: Graph, feeds: Record<string, HostTensor>, r: () => number) => {
  const p = params(g, dtype, { qkvW: [C, 3 * C], qkvB: [3 * C], projW: [C, C], projB: [C] }, r, feeds)
  const x = g.param('x', [B, T, C], dtype)
  feeds.x = randn(r, dtype, [B, T, C])
  return { out: add(x, causalSelfAttention(x, { qkvW: p.qkvW!, qkvB: p.qkvB!, projW: p.projW!, projB: p.projB! }, 2)), wrt: [x, ...Object.values(p)] }
}

const V = 6
const embeddingCE = (dtype: DType) => (g: Graph, feeds: Record<string, HostTensor>, r: () => number) => {
  const p = params(g, dtype, { wte: [V, C], ln: [C], head: [C, V] }, r, feeds)
  const ids = g.input('ids', 'int64', [B, T])
  const labels = g.input('labels', 'int64', [B, T])
  feeds.ids = hostTensor('int64', [B, T], [0, 5, 2, 2, 1, 0, 3, 5])
  feeds.labels = hostTensor('int64', [B, T], [5, 2, 2, 1, 0, 3, 5, 4])
  const h = rmsNorm(gather(p.wte!, ids), p.ln!)
  return { out: meanCrossEntropy(linear(h, p.head!), labels), wrt: Object.values(p) }
}

describe('block gradients vs finite differences', () => {
  for (const dtype of ['float64', 'float32'] as DType[]) {
    it(`MLP with quick_gelu (${dtype})`, () => check(dtype, mlp(dtype)))
    it(`RMS layer norm (${dtype})`, () => check(dtype, norm(dtype)))
    it(`causal self-attention block with residual (${dtype})`, () => check(dtype, attention(dtype)))
    it(`embedding + RMS norm + head + softmax cross-entropy (${dtype})`, () => check(dtype, embeddingCE(dtype)))
  }
})

describe('fast causal attention', () => {
  it('computes the same as the plain reference (Split, Where mask, scaled scores)', async () => {
    const { causalSelfAttentionReference, Graph } = await import('../../../../src/main/ml/graph')
    const { runGraph } = await import('../../../../src/main/ml/runtime')
    const g = new Graph()
    const r = rng(5)
    const feeds: Record<string, HostTensor> = {}
    const p = params(g, 'float64', { qkvW: [C, 3 * C], qkvB: [3 * C], projW: [C, C], projB: [C] }, r, feeds)
    const x = g.input('x', 'float64', [B, T, C])
    feeds.x = randn(r, 'float64', [B, T, C])
    const ap = { qkvW: p.qkvW!, qkvB: p.qkvB!, projW: p.projW!, projB: p.projB! }
    g.output(causalSelfAttention(x, ap, 2), 'fast')
    g.output(causalSelfAttentionReference(x, ap, 2), 'ref')
    const out = await runGraph(g, feeds)
    const a = out.fast!.data as Float64Array
    const b = out.ref!.data as Float64Array
    let worst = 0
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
    expect(worst).toBeLessThan(1e-12)
  })
})
