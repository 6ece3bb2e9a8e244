// Composite layers built from primitive ops (so autodiff needs no rules for them): the pieces
// a GPT needs. Shapes in comments: B batch, T sequence, C width, H heads, V vocabulary.

import { type Graph, GraphError, type Value } from './graph'
import {
  add,
  causalMask,
  div,
  greaterOrEqual,
  logSoftmax,
  matmul,
  mul,
  oneHot,
  randomUniformLike,
  reduceMean,
  reduceSum,
  reshape,
  sigmoid,
  slice,
  softmax,
  split,
  sqrt,
  transpose,
  where
} from './ops'

/** x @ w (+ b), w stored [in, out] as in Hugging Face Conv1D. */
export function linear(x: Value, w: Value, b?: Value): Value {
  const y = matmul(x, w)
  return b ? add(y, b) : y
}

/** RMS-style layer norm (ImageGPT): x / sqrt(mean(x^2, -1) + eps) * w. */
export function rmsNorm(x: Value, w: Value, eps = 1e-5): Value {
  const ms = reduceMean(mul(x, x), [-1], true) // (.., 1)
  return mul(div(x, sqrt(add(ms, eps))), w)
}

/**
 * Inverted dropout for training graphs: each element is kept with probability 1 - p and scaled
 * by 1 / (1 - p). Fresh noise every run (seeded per session when `seed` is given); p = 0 is
 * the identity (build evaluation graphs with p = 0 or without the call).
 */
export function dropout(x: Value, p: number, seed?: number): Value {
  if (p <= 0) return x
  if (p >= 1) throw new GraphError(`dropout: p must be below 1, got ${p}`)
  const keep = greaterOrEqual(randomUniformLike(x, seed), p)
  return where(keep, mul(x, 1 / (1 - p)), 0)
}

/** quick_gelu: x * sigmoid(1.702 x). */
export function quickGelu(x: Value): Value {
  return mul(x, sigmoid(mul(x, 1.702)))
}

/**
 * Softmax cross-entropy per position: -log softmax(logits)[label]. logits (.., V), labels
 * (..) int; returns (..). Built from LogSoftmax, OneHot and a sum so its gradient is
 * softmax - onehot through the primitive rules.
 */
export function softmaxCrossEntropy(logits: Value, labels: Value): Value {
  const v = logits.shape[logits.rank - 1]
  if (typeof v !== 'number') throw new GraphError(`softmaxCrossEntropy: vocabulary axis of ${logits} must be static`)
  const lp = logSoftmax(logits, -1)
  return mul(reduceSum(mul(lp, oneHot(labels, v, logits.dtype)), [-1]), -1)
}

/** Mean of softmaxCrossEntropy over every position (or weighted by `weights`, sum w = 1 or as given). */
export function meanCrossEntropy(logits: Value, labels: Value, weights?: Value): Value {
  const ce = softmaxCrossEntropy(logits, labels)
  return weights ? div(reduceSum(mul(ce, weights)), reduceSum(weights)) : reduceMean(ce)
}

export interface AttentionParams {
  /** [C, 3C] and [3C]: q, k, v in that order (Hugging Face c_attn). */
  qkvW: Value
  qkvB?: Value
  /** [C, C] and [C] (c_proj). */
  projW: Value
  projB?: Value
}

/** The additive causal mask [T, T]: 0 where key <= query, -1e9 above the diagonal. */
const biasCache = new WeakMap<Graph, Map<string, Value>>()

export function causalBias(g: Graph, t: number, dtype: 'float32' | 'float64' = 'float32'): Value {
  let m = biasCache.get(g)
  if (!m) biasCache.set(g, (m = new Map()))
  const hit = m.get(`${t}:${dtype}`)
  if (hit) return hit
  const v = makeCausalBias(g, t, dtype)
  m.set(`${t}:${dtype}`, v)
  return v
}

function makeCausalBias(g: Graph, t: number, dtype: 'float32' | 'float64'): Value {
  const vals = new Array<number>(t * t)
  for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) vals[i * t + j] = j <= i ? 0 : -1e9
  return g.tensor(vals, [t, t], dtype)
}

/**
 * Causal multi-head self-attention on x (B, T, C) with static T and C:
 * softmax(q k^T / sqrt(hd) + causal bias) v, then the output projection.
 * Built for speed on CPU, where the (B, H, T, T) score tensors dominate memory traffic:
 * q, k, v come from three products with slices of the fused weight (no Split of activations),
 * the 1/sqrt(hd) scale is applied to q (T/hd times smaller than the scores), and the mask is
 * an additive constant (its gradient is the identity, unlike Where's).
 */
export function causalSelfAttention(x: Value, p: AttentionParams, heads: number): Value {
  const g: Graph = x.graph
  const T = x.shape[1]
  const C = x.shape[2]
  if (typeof T !== 'number' || typeof C !== 'number') throw new GraphError(`causalSelfAttention: T and C of ${x} must be static`)
  if (C % heads !== 0) throw new GraphError(`causalSelfAttention: width ${C} is not divisible by ${heads} heads`)
  const hd = C / heads
  const Bd = x.shape[0] as number | string
  const proj = (i: number): Value => {
    const w = slice(p.qkvW, [i * C], [(i + 1) * C], [1]) // (C, C)
    const b = p.qkvB ? slice(p.qkvB, [i * C], [(i + 1) * C], [0]) : undefined
    return transpose(reshape(linear(x, w, b), [Bd, T, heads, hd]), [0, 2, 1, 3]) // (B, H, T, hd)
  }
  const q = mul(proj(0), 1 / Math.sqrt(hd))
  const k = proj(1)
  const v = proj(2)
  const scores = add(matmul(q, transpose(k, [0, 1, 3, 2])), causalBias(g, T, x.dtype === 'float64' ? 'float64' : 'float32')) // (B, H, T, T)
  const y = transpose(matmul(softmax(scores, -1), v), [0, 2, 1, 3]) // (B, T, H, hd)
  return linear(reshape(y, [Bd, T, C]), p.projW, p.projB)
}

/** The same attention written plainly (one Split, Where mask, scaled scores): a reference. */
export function causalSelfAttentionReference(x: Value, p: AttentionParams, heads: number): Value {
  const g: Graph = x.graph
  const T = x.shape[1] as number
  const C = x.shape[2] as number
  const hd = C / heads
  const qkv = linear(x, p.qkvW, p.qkvB) // (B, T, 3C)
  const [q, k, v] = split(qkv, [C, C, C], -1).map((t) => transpose(reshape(t, [x.shape[0] as number | string, T, heads, hd]), [0, 2, 1, 3]))
  const scores = mul(matmul(q as Value, transpose(k as Value, [0, 1, 3, 2])), 1 / Math.sqrt(hd))
  const att = softmax(where(causalMask(g, T), scores, -1e9), -1)
  const y = transpose(matmul(att, v as Value), [0, 2, 1, 3])
  return linear(reshape(y, [x.shape[0] as number | string, T, C]), p.projW, p.projB)
}

export interface BlockParams {
  ln1: Value
  attn: AttentionParams
  ln2: Value
  fcW: Value
  fcB?: Value
  projW: Value
  projB?: Value
}

/** Declare one ImageGPT-style block's parameters named `${prefix}.…` (Hugging Face names). */
export function blockParams(g: Graph, prefix: string, width: number, dtype: 'float32' | 'float64' = 'float32'): BlockParams {
  const C = width
  return {
    ln1: g.param(`${prefix}.ln_1.weight`, [C], dtype),
    attn: {
      qkvW: g.param(`${prefix}.attn.c_attn.weight`, [C, 3 * C], dtype),
      qkvB: g.param(`${prefix}.attn.c_attn.bias`, [3 * C], dtype),
      projW: g.param(`${prefix}.attn.c_proj.weight`, [C, C], dtype),
      projB: g.param(`${prefix}.attn.c_proj.bias`, [C], dtype)
    },
    ln2: g.param(`${prefix}.ln_2.weight`, [C], dtype),
    fcW: g.param(`${prefix}.mlp.c_fc.weight`, [C, 4 * C], dtype),
    fcB: g.param(`${prefix}.mlp.c_fc.bias`, [4 * C], dtype),
    projW: g.param(`${prefix}.mlp.c_proj.weight`, [4 * C, C], dtype),
    projB: g.param(`${prefix}.mlp.c_proj.bias`, [C], dtype)
  }
}

/** Pre-norm GPT block: x + attn(ln1(x)), then + mlp(ln2(x)) with quick_gelu. x (B, T, C). */
export function transformerBlock(x: Value, p: BlockParams, heads: number, eps = 1e-5, attention = causalSelfAttention): Value {
  const a = add(x, attention(rmsNorm(x, p.ln1, eps), p.attn, heads))
  return add(a, linear(quickGelu(linear(rmsNorm(a, p.ln2, eps), p.fcW, p.fcB)), p.projW, p.projB))
}
