// Optimizers as ordinary ONNX ops, and the training-step graphs built from them:
//   trainStep: (params, optimizer state, batch, step, lr) -> (new params, new state, loss, metrics)
// For gradient accumulation over micro-batches the same step splits in two graphs:
//   gradStep:  (params, batch, grad accumulators) -> (accumulators + grads, loss, metrics)
//   applyStep: (params, state, accumulators, step, lr, grad_scale) -> (new params, new state, grad_norm)
// Names: a parameter `w` comes back as `w.next`; state tensors are `<slot>.w` (`adam_m.w`,
// `adam_v.w`, `momentum.w`) and come back as `<slot>.w.next`.

import { gradients } from './autodiff'
import { type DType, Graph, GraphError, type Value } from './graph'
import { add, div, min, mul, pow, reduceSum, sqrt, sub } from './ops'

export interface SgdConfig {
  kind: 'sgd'
  /** PyTorch semantics: buf = momentum * buf + g; p -= lr * buf. 0 = plain SGD (no state). */
  momentum?: number
  /** Coupled L2 decay added to the gradient (PyTorch SGD weight_decay). */
  weightDecay?: number
}

export interface AdamWConfig {
  kind: 'adamw'
  beta1?: number
  beta2?: number
  eps?: number
  /** Decoupled weight decay (Loshchilov & Hutter): p -= lr * wd * p. */
  weightDecay?: number
  /** Which parameters decay; default: rank >= 2 (matrices, embeddings), not gains or biases. */
  decay?: (param: Value) => boolean
}

export type OptimizerConfig = SgdConfig | AdamWConfig

export interface TrainOptions {
  optimizer: OptimizerConfig
  /** Clip gradients to this global L2 norm (before the update). */
  clipNorm?: number
}

/** What the forward builder returns: the scalar loss and any extra scalar metrics. */
export interface ForwardResult {
  loss: Value
  metrics?: Record<string, Value>
}

export interface TensorSpec {
  name: string
  dtype: DType
  dims: number[]
}

export interface StateSpec extends TensorSpec {
  /** The graph output that carries the next value. */
  output: string
  /** The value the state starts at. */
  init: number
}

export interface ParamSpec extends TensorSpec {
  output: string
}

export interface StepGraph {
  graph: Graph
  params: ParamSpec[]
  /** Optimizer state (trainStep, applyStep) or gradient accumulators (gradStep). */
  state: StateSpec[]
  /** Data inputs the caller feeds each step (batch, masks); scalars `step`, `lr`, `grad_scale` excluded. */
  inputs: TensorSpec[]
  /** Scalar outputs: 'loss', 'grad_norm' and the forward's metrics. */
  metrics: string[]
}

/** A StepGraph without its Graph: plain data, safe to post to the ML worker with the ONNX bytes. */
export type StepSpec = Omit<StepGraph, 'graph'>

export function stepSpec(s: StepGraph): StepSpec {
  return { params: s.params, state: s.state, inputs: s.inputs, metrics: s.metrics }
}

export const stateSlots = (o: OptimizerConfig): string[] =>
  o.kind === 'adamw' ? ['adam_m', 'adam_v'] : (o.momentum ?? 0) !== 0 ? ['momentum'] : []

const staticDims = (v: Value): number[] =>
  v.shape.map((d) => {
    if (typeof d !== 'number') throw new GraphError(`trainStep: parameter ${v} must have a static shape`)
    return d
  })

/** sqrt(sum of squares of every gradient). */
export function globalNorm(grads: readonly Value[]): Value {
  let total: Value | undefined
  for (const d of grads) {
    const s = reduceSum(mul(d, d))
    total = total ? add(total, s) : s
  }
  if (!total) throw new GraphError('globalNorm: no gradients')
  return sqrt(total)
}

/** Scale gradients so their global norm is at most maxNorm; returns the norm before clipping. */
export function clipByGlobalNorm(grads: readonly Value[], maxNorm: number): { grads: Value[]; norm: Value } {
  const norm = globalNorm(grads)
  const scale = min(div(maxNorm, add(norm, 1e-6)), 1)
  return { grads: grads.map((d) => mul(d, scale)), norm }
}

/** One SGD(-momentum) update; `buf` is the momentum buffer (required when momentum != 0). */
export function sgdUpdate(p: Value, grad: Value, lr: Value, cfg: SgdConfig, buf?: Value): { p: Value; buf?: Value } {
  let d = grad
  if (cfg.weightDecay) d = add(d, mul(p, cfg.weightDecay))
  const mom = cfg.momentum ?? 0
  if (mom === 0) return { p: sub(p, mul(d, lr)) }
  if (!buf) throw new GraphError(`sgdUpdate: momentum needs a buffer for ${p}`)
  const nb = add(mul(buf, mom), d)
  return { p: sub(p, mul(nb, lr)), buf: nb }
}

/** One AdamW update at 1-based `step` (bias-corrected, decoupled weight decay when `decay`). */
export function adamwUpdate(p: Value, grad: Value, m: Value, v: Value, lr: Value, step: Value, cfg: AdamWConfig, decay: boolean): { p: Value; m: Value; v: Value } {
  const b1 = cfg.beta1 ?? 0.9
  const b2 = cfg.beta2 ?? 0.999
  const eps = cfg.eps ?? 1e-8
  const wd = cfg.weightDecay ?? 0.01
  const g = p.graph
  const nm = add(mul(m, b1), mul(grad, 1 - b1))
  const nv = add(mul(v, b2), mul(mul(grad, grad), 1 - b2))
  const c1 = sub(1, pow(g.scalar(b1, step.dtype), step)) // 1 - b1^t
  const c2 = sub(1, pow(g.scalar(b2, step.dtype), step))
  const upd = div(div(nm, c1), add(sqrt(div(nv, c2)), eps))
  const base = decay && wd !== 0 ? sub(p, mul(mul(p, lr), wd)) : p
  return { p: sub(base, mul(upd, lr)), m: nm, v: nv }
}

function dataInputs(g: Graph): TensorSpec[] {
  return g.inputs
    .filter((v) => v.kind === 'input')
    .map((v) => ({ name: v.name, dtype: v.dtype, dims: v.shape.map((d) => (typeof d === 'number' ? d : -1)) }))
}

function runForward(name: string, forward: (g: Graph) => ForwardResult): { g: Graph; res: ForwardResult; params: Value[] } {
  const g = new Graph(name)
  const res = forward(g)
  if (res.loss.rank !== 0) throw new GraphError(`trainStep: the loss must be a scalar, got ${res.loss}`)
  if (g.params.length === 0) throw new GraphError('trainStep: the forward declares no parameters (g.param)')
  return { g, res, params: [...g.params] }
}

function outputMetrics(g: Graph, res: ForwardResult): string[] {
  const names = ['loss']
  g.output(res.loss, 'loss')
  for (const [k, v] of Object.entries(res.metrics ?? {})) {
    g.output(v, k)
    names.push(k)
  }
  return names
}

/** Apply the optimizer to (params, grads) in `g`, declaring the state inputs and all outputs. */
function applyOptimizer(g: Graph, params: readonly Value[], grads: readonly Value[], opts: TrainOptions): { state: StateSpec[]; paramSpecs: ParamSpec[]; metrics: string[] } {
  const dtype = params[0]?.dtype ?? 'float32'
  const lr = g.input('lr', dtype, [])
  const state: StateSpec[] = []
  const paramSpecs: ParamSpec[] = []
  const metrics: string[] = []
  let gs = [...grads]
  if (opts.clipNorm !== undefined) {
    const c = clipByGlobalNorm(gs, opts.clipNorm)
    gs = c.grads
    g.output(c.norm, 'grad_norm')
  } else g.output(globalNorm(gs), 'grad_norm')
  metrics.push('grad_norm')
  const o = opts.optimizer
  const slot = (s: string, p: Value): Value => {
    const v = g.input(`${s}.${p.name}`, p.dtype, p.shape)
    state.push({ name: v.name, dtype: p.dtype, dims: staticDims(p), output: `${v.name}.next`, init: 0 })
    return v
  }
  const step = o.kind === 'adamw' ? g.input('step', dtype, []) : undefined
  params.forEach((p, i) => {
    const d = gs[i] as Value
    let np: Value
    if (o.kind === 'adamw') {
      const m = slot('adam_m', p)
      const v = slot('adam_v', p)
      const decay = o.decay ? o.decay(p) : p.rank >= 2
      const r = adamwUpdate(p, d, m, v, lr, step as Value, o, decay)
      g.output(r.m, `${m.name}.next`)
      g.output(r.v, `${v.name}.next`)
      np = r.p
    } else {
      const buf = (o.momentum ?? 0) !== 0 ? slot('momentum', p) : undefined
      const r = sgdUpdate(p, d, lr, o, buf)
      if (buf && r.buf) g.output(r.buf, `${buf.name}.next`)
      np = r.p
    }
    g.output(np, `${p.name}.next`)
    paramSpecs.push({ name: p.name, dtype: p.dtype, dims: staticDims(p), output: `${p.name}.next` })
  })
  return { state, paramSpecs, metrics }
}

/**
 * One training step as one graph. `forward` declares parameters (g.param) and data inputs
 * (g.input) and returns the scalar loss; this appends the backward pass and the update.
 */
export function buildTrainStep(forward: (g: Graph) => ForwardResult, opts: TrainOptions): StepGraph {
  const { g, res, params } = runForward('train_step', forward)
  const inputs = dataInputs(g)
  const grads = gradients(res.loss, params)
  const metrics = outputMetrics(g, res)
  const a = applyOptimizer(g, params, grads, opts)
  return { graph: g, params: a.paramSpecs, state: a.state, inputs, metrics: [...metrics, ...a.metrics] }
}

/** Forward + backward for one micro-batch, adding its gradients to accumulators `grad_acc.<p>`. */
export function buildGradStep(forward: (g: Graph) => ForwardResult): StepGraph {
  const { g, res, params } = runForward('grad_step', forward)
  const inputs = dataInputs(g)
  const grads = gradients(res.loss, params)
  const metrics = outputMetrics(g, res)
  const state: StateSpec[] = params.map((p, i) => {
    const acc = g.input(`grad_acc.${p.name}`, p.dtype, p.shape)
    g.output(add(acc, grads[i] as Value), `${acc.name}.next`)
    return { name: acc.name, dtype: p.dtype, dims: staticDims(p), output: `${acc.name}.next`, init: 0 }
  })
  return { graph: g, params: params.map((p) => ({ name: p.name, dtype: p.dtype, dims: staticDims(p), output: p.name })), state, inputs, metrics }
}

/**
 * The optimizer update from accumulated gradients: grads = grad_acc * grad_scale (feed
 * 1 / micro-batches for a mean). Parameters are declared like the forward's (same names).
 */
export function buildApplyStep(params: readonly TensorSpec[], opts: TrainOptions): StepGraph {
  const g = new Graph('apply_step')
  const ps = params.map((p) => g.param(p.name, p.dims, p.dtype))
  const dtype = ps[0]?.dtype ?? 'float32'
  const scale = g.input('grad_scale', dtype, [])
  const grads = ps.map((p) => mul(g.input(`grad_acc.${p.name}`, p.dtype, p.shape), scale))
  const a = applyOptimizer(g, ps, grads, opts)
  const accInputs: TensorSpec[] = ps.map((p) => ({ name: `grad_acc.${p.name}`, dtype: p.dtype, dims: staticDims(p) }))
  return { graph: g, params: a.paramSpecs, state: a.state, inputs: accInputs, metrics: a.metrics }
}
