// ImageGPT graphs on the engine's builder, from one PixelGptConfig. Semantics as Hugging Face
// modeling_imagegpt.py: RMS-style layer norm without bias, quick_gelu, Conv1D weights [in, out],
// causal attention scaled by 1/sqrt(head_dim), untied lm_head without bias, classifier =
// mean-pooled ln_f output times score.weight^T (no bias).
//
// Shapes in comments: B batch, T sequence, C width, H heads, hd = C / H, K palette size,
// S cache capacity of a decode-step graph, N classifier labels.
//
// Weights are graph parameters named exactly as in the Hugging Face checkpoint, so one graph
// serves any weights and the training step differentiates with respect to them.

import {
  add,
  argMax,
  causalBias,
  concat,
  div,
  gather,
  type Graph,
  Graph as GraphClass,
  lessOrEqual,
  less,
  logSoftmax,
  matmul,
  mul,
  oneHot,
  reduceMean,
  reduceSum,
  reshape,
  sigmoid,
  slice,
  softmax,
  split,
  sqrt,
  transpose,
  unsqueeze,
  type Dim,
  type Value,
  where
} from '../graph'
import { type TensorMap } from '../interop/safetensors'
import { type PixelGptConfig, bodyShapes, seqLen } from './model'

const NEG = -1e9

export interface ForwardOptions {
  /** Sequence length: a number (static) or a symbol for any length up to side*side. Default: side*side. */
  seq?: number | string
  /** Output `logits` (B, T, K) from lm_head. */
  logits?: boolean
  /** Output `argmax` (B, T) int64 of the logits (greedy decoding without copying logits out). */
  argmax?: boolean
  /** Inputs `targets` (B, T) int64; outputs `loss` (scalar mean cross-entropy) and `nll` (B) per sequence. */
  loss?: boolean
  /** Output `features_<l>` (B, C) for each layer l in 1..L: mean over positions of the layer-normed residual after block l. */
  featureLayers?: number[]
  /** Output `class_logits` (B, N) with N labels: score(mean over positions of ln_f(h)). */
  classLabels?: number
}

export interface BuiltGraph {
  graph: Graph
  /** Names of the weight parameters, in Hugging Face naming, that must be fed. */
  params: string[]
}

class Params {
  readonly used: string[] = []
  private readonly cache = new Map<string, Value>()
  constructor(
    readonly g: Graph,
    readonly shapes: Map<string, number[]>,
    /** When given, weights are baked into the graph as initializers instead of fed as inputs. */
    readonly baked?: TensorMap
  ) {}
  get(name: string): Value {
    let v = this.cache.get(name)
    if (!v) {
      const shape = this.shapes.get(name)
      if (!shape) throw new Error(`No weight named ${name} in this configuration.`)
      const t = this.baked?.get(name)
      if (this.baked && !t) throw new Error(`The model has no weight "${name}".`)
      if (t) v = this.g.constant({ dtype: 'float32', dims: shape, data: t.data }, name)
      else {
        v = this.g.param(name, shape)
        this.used.push(name)
      }
      this.cache.set(name, v)
    }
    return v
  }
}

function paramShapes(c: PixelGptConfig, classLabels = 0): Map<string, number[]> {
  const s = bodyShapes(c)
  s.set('lm_head.weight', [c.paletteSize, c.width])
  if (classLabels > 0) s.set('score.weight', [classLabels, c.width])
  return s
}

/** x / sqrt(mean(x^2) + eps) * w over the last axis. */
function rmsNorm(x: Value, w: Value, eps: number): Value {
  const ms = reduceMean(mul(x, x), [-1], true)
  return mul(div(x, sqrt(add(ms, eps))), w)
}

function quickGelu(x: Value): Value {
  return mul(x, sigmoid(mul(x, 1.702)))
}

function conv1d(x: Value, p: Params, prefix: string): Value {
  return add(matmul(x, p.get(prefix + '.weight')), p.get(prefix + '.bias'))
}

function mlp(x: Value, p: Params, l: number): Value {
  return conv1d(quickGelu(conv1d(x, p, `transformer.h.${l}.mlp.c_fc`)), p, `transformer.h.${l}.mlp.c_proj`)
}

/**
 * Causal self-attention over the whole sequence, written for CPU speed (as the engine's
 * causalSelfAttention): q, k, v from three products with column slices of the fused c_attn
 * weight (no Split of activations), the 1/sqrt(hd) scale applied to q rather than to the
 * (B, H, T, T) scores, and the causal mask as an additive bias (0 / -1e9) whose gradient is the
 * identity. `bias` (T, T) float32. Same values as Hugging Face's split + masked_fill version.
 */
function attention(x: Value, p: Params, c: PixelGptConfig, l: number, bias: Value, B: Dim, T: Dim): Value {
  const C = c.width
  const H = c.heads
  const hd = C / H
  const w = p.get(`transformer.h.${l}.attn.c_attn.weight`) // (C, 3C)
  const b = p.get(`transformer.h.${l}.attn.c_attn.bias`) // (3C)
  const proj = (i: number): Value => {
    const y = add(matmul(x, slice(w, [i * C], [(i + 1) * C], [1])), slice(b, [i * C], [(i + 1) * C], [0])) // (B, T, C)
    return transpose(reshape(y, [B, T, H, hd]), [0, 2, 1, 3]) // (B, H, T, hd)
  }
  const q = mul(proj(0), 1 / Math.sqrt(hd))
  const k = proj(1)
  const v = proj(2)
  const att = softmax(add(matmul(q, transpose(k, [0, 1, 3, 2])), bias), -1) // (B, H, T, T)
  const y = reshape(transpose(matmul(att, v), [0, 2, 1, 3]), [B, T, C]) // (B, T, C)
  return conv1d(y, p, `transformer.h.${l}.attn.c_proj`)
}

function lnName(c: PixelGptConfig, l: number): string {
  // The norm that reads the residual after block l: the next block's ln_1, or ln_f after the last.
  return l < c.layers ? `transformer.h.${l}.ln_1.weight` : 'transformer.ln_f.weight'
}

/** The values a forward builds, before any is made a graph output. */
export interface ForwardValues {
  ids: Value
  params: string[]
  logits?: Value
  argmax?: Value
  targets?: Value
  /** (B) mean cross-entropy per sequence, and its mean over the batch. */
  nll?: Value
  loss?: Value
  features: Map<number, Value>
  classLogits?: Value
}

/**
 * The full-sequence forward into graph `g`: input `ids` (B, T) int64 (the caller puts SOS or a
 * class token first for language modelling; the classifier reads the plain pixel tokens, as
 * Hugging Face does). Declares the weights it uses as parameters; outputs nothing.
 */
export function forwardInto(g: Graph, c: PixelGptConfig, opts: ForwardOptions): ForwardValues {
  const p = new Params(g, paramShapes(c, opts.classLabels))
  const B = 'B'
  const T: Dim = opts.seq ?? seqLen(c)
  const ids = g.input('ids', 'int64', [B, T])
  let pos: Value
  let bias: Value
  if (typeof T === 'number') {
    if (T < 1 || T > seqLen(c)) throw new RangeError(`Sequence length ${T} is outside 1..${seqLen(c)}.`)
    pos = g.ints(Array.from({ length: T }, (_, i) => i)) // (T)
    bias = causalBias(g, T)
  } else {
    // Positions 0..T-1 from the run-time length of ids.
    const tLen = g.node('Gather', [g.node('Shape', [ids], [{ dtype: 'int64', shape: [2] }])[0] as Value, g.scalar(1, 'int64')], [{ dtype: 'int64', shape: [] }], {
      axis: { type: 'int', value: 0 }
    })[0] as Value
    pos = g.node('Range', [g.scalar(0, 'int64'), tLen, g.scalar(1, 'int64')], [{ dtype: 'int64', shape: [T] }])[0] as Value
    bias = where(lessOrEqual(unsqueeze(pos, [0]), unsqueeze(pos, [1])), 0, NEG) // (T, T): 0 where key j <= query i
  }
  let h = add(gather(p.get('transformer.wte.weight'), ids), gather(p.get('transformer.wpe.weight'), pos)) // (B, T, C)
  const out: ForwardValues = { ids, params: p.used, features: new Map() }
  const wanted = new Set(opts.featureLayers ?? [])
  for (const l of wanted) {
    if (!Number.isInteger(l) || l < 1 || l > c.layers) throw new RangeError(`Feature layer ${l} is outside 1..${c.layers}.`)
  }
  for (let l = 0; l < c.layers; l++) {
    h = add(h, attention(rmsNorm(h, p.get(`transformer.h.${l}.ln_1.weight`), c.eps), p, c, l, bias, B, T))
    h = add(h, mlp(rmsNorm(h, p.get(`transformer.h.${l}.ln_2.weight`), c.eps), p, l))
    if (wanted.has(l + 1) && l + 1 < c.layers) out.features.set(l + 1, reduceMean(rmsNorm(h, p.get(lnName(c, l + 1)), c.eps), [1])) // (B, C)
  }
  const hf = rmsNorm(h, p.get('transformer.ln_f.weight'), c.eps) // (B, T, C)
  if (wanted.has(c.layers)) out.features.set(c.layers, reduceMean(hf, [1]))
  if (opts.classLabels) {
    const pooled = out.features.get(c.layers) ?? reduceMean(hf, [1]) // (B, C)
    out.classLogits = matmul(pooled, transpose(p.get('score.weight'), [1, 0])) // (B, N)
  }
  if (opts.logits || opts.loss || opts.argmax) {
    const logits = matmul(hf, transpose(p.get('lm_head.weight'), [1, 0])) // (B, T, K)
    if (opts.loss) {
      out.targets = g.input('targets', 'int64', [B, T])
      const ce = mul(reduceSum(mul(logSoftmax(logits, -1), oneHot(out.targets, c.paletteSize)), [-1]), -1) // (B, T)
      out.nll = reduceMean(ce, [1])
      out.loss = reduceMean(ce)
    }
    if (opts.argmax) out.argmax = argMax(logits, -1)
    if (opts.logits) out.logits = logits
  }
  return out
}

/** The full-sequence forward as its own graph, with the asked-for outputs. */
export function buildForward(c: PixelGptConfig, opts: ForwardOptions): BuiltGraph {
  const g = new GraphClass('pixelgpt-forward')
  const v = forwardInto(g, c, opts)
  for (const [l, f] of [...v.features].sort((a, b) => a[0] - b[0])) g.output(f, `features_${l}`)
  if (v.classLogits) g.output(v.classLogits, 'class_logits')
  if (v.nll) g.output(v.nll, 'nll')
  if (v.loss) g.output(v.loss, 'loss')
  if (v.argmax) g.output(v.argmax, 'argmax')
  if (v.logits) g.output(v.logits, 'logits')
  return { graph: g, params: v.params }
}

/**
 * One KV-cache decode step for a batch of images at position `pos` (the same for all).
 * Inputs: `ids` (B, 1) int64, `pos` (1) int64, and per layer l the cache of the positions
 * before `pos`: `past_k_l` (B, H, hd, S) (keys stored transposed so q @ K needs no transpose)
 * and `past_v_l` (B, H, S, hd). Entries at positions >= pos are ignored (masked).
 * Outputs: `logits` (B, K) and per layer `k_l`, `v_l` (B, H, hd), the new entries, which the
 * caller writes into its cache at `pos` (a few kilobytes, instead of copying the cache).
 */
export function buildDecodeStep(c: PixelGptConfig, capacity: number, bakedWeights?: TensorMap): BuiltGraph {
  const g = new GraphClass(`pixelgpt-decode-${capacity}`)
  const p = new Params(g, paramShapes(c), bakedWeights)
  const B = 'B'
  const C = c.width
  const H = c.heads
  const hd = C / H
  const S = capacity
  const ids = g.input('ids', 'int64', [B, 1])
  const pos = g.input('pos', 'int64', [1])
  const valid = less(g.ints(Array.from({ length: S }, (_, i) => i)), pos) // (S): cache slots before pos
  let h = add(gather(p.get('transformer.wte.weight'), ids), gather(p.get('transformer.wpe.weight'), pos)) // (B, 1, C)
  for (let l = 0; l < c.layers; l++) {
    const pastK = g.input(`past_k_${l}`, 'float32', [B, H, hd, S])
    const pastV = g.input(`past_v_${l}`, 'float32', [B, H, S, hd])
    const x = rmsNorm(h, p.get(`transformer.h.${l}.ln_1.weight`), c.eps)
    const qkv = conv1d(x, p, `transformer.h.${l}.attn.c_attn`) // (B, 1, 3C)
    const [qf, kf, vf] = split(qkv, [C, C, C], -1) as [Value, Value, Value]
    const q = reshape(qf, [B, H, 1, hd])
    const k = reshape(kf, [B, H, hd, 1])
    const v = reshape(vf, [B, H, 1, hd])
    const scale = 1 / Math.sqrt(hd)
    const sPast = where(valid, mul(matmul(q, pastK), scale), NEG) // (B, H, 1, S)
    const sNew = mul(matmul(q, k), scale) // (B, H, 1, 1)
    const [wPast, wNew] = split(softmax(concat([sPast, sNew], -1), -1), [S, 1], -1) as [Value, Value]
    const y = add(matmul(wPast, pastV), mul(wNew, v)) // (B, H, 1, hd)
    h = add(h, conv1d(reshape(y, [B, 1, C]), p, `transformer.h.${l}.attn.c_proj`))
    h = add(h, mlp(rmsNorm(h, p.get(`transformer.h.${l}.ln_2.weight`), c.eps), p, l))
    g.output(reshape(kf, [B, H, hd]), `k_${l}`)
    g.output(reshape(vf, [B, H, hd]), `v_${l}`)
  }
  const hf = rmsNorm(h, p.get('transformer.ln_f.weight'), c.eps)
  g.output(reshape(matmul(hf, transpose(p.get('lm_head.weight'), [1, 0])), [B, c.paletteSize]), 'logits') // (B, K)
  return { graph: g, params: p.used }
}

/** Cache capacities for decode-step graphs: powers of two from 64 up to the sequence length. */
export function cacheCapacities(c: PixelGptConfig): number[] {
  const T = seqLen(c)
  const out: number[] = []
  for (let s = 64; s < T; s *= 2) out.push(s)
  out.push(T)
  return out
}
