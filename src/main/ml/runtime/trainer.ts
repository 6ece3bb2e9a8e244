// Runs training-step graphs (graph/optim.ts) step after step, keeping parameters and optimizer
// state as ORT tensors between steps: the outputs of step k are fed, untouched, as the inputs of
// step k+1. onnxruntime-node 1.30 on CPU has no IO binding: it reads input tensors in place
// from their JS buffers, but every output comes back in a fresh JS buffer that the binding
// copies into, even when a preallocated output tensor is passed in `fetches` (measured: same
// time, and the returned buffer is not the preallocated one). So outputs are simply taken
// over; `npm run bench:train` measures that copy (about 2-4% of a training step).

import * as ort from 'onnxruntime-node'
import { type StepGraph, type StepSpec, type TensorSpec } from '../graph/optim'
import { type CompiledSession, type Feed, fromOrt, type HostTensor, type Runtime, toOrt } from './session'

function alloc(t: TensorSpec, fill = 0): ort.Tensor {
  const n = t.dims.reduce((p, q) => p * q, 1)
  if (t.dtype === 'float32') return new ort.Tensor('float32', new Float32Array(n).fill(fill), t.dims)
  if (t.dtype === 'float64') return new ort.Tensor('float64', new Float64Array(n).fill(fill), t.dims)
  throw new Error(`Trainer: ${t.name} has unsupported dtype ${t.dtype}`)
}

function scalar(dtype: TensorSpec['dtype'], v: number): ort.Tensor {
  return dtype === 'float64' ? new ort.Tensor('float64', Float64Array.of(v), []) : new ort.Tensor('float32', Float32Array.of(v), [])
}

/** Copy host data into a resident tensor (checks size). */
function load(dst: ort.Tensor, src: HostTensor, name: string): void {
  const d = dst.data as Float32Array | Float64Array
  if (src.data.length !== d.length) throw new Error(`Trainer: ${name} has ${src.data.length} values, expected ${d.length}`)
  d.set(src.data as Float32Array | Float64Array)
}

export interface StepResult {
  /** 'loss', 'grad_norm' and the forward's metrics. */
  metrics: Record<string, number>
  step: number
}

/**
 * Owns the resident parameters and state for one StepGraph (buildTrainStep). `step` feeds
 * the batch, lr and the 1-based step count, and advances the parameters in place.
 */
export class Trainer {
  private cur: Map<string, ort.Tensor>
  private count = 0
  private readonly dtype: TensorSpec['dtype']

  private constructor(
    readonly spec: StepSpec,
    readonly session: CompiledSession,
    init: Record<string, HostTensor>
  ) {
    this.cur = new Map()
    this.dtype = spec.params[0]?.dtype ?? 'float32'
    session.pin()
    for (const p of spec.params) {
      const t = alloc(p)
      const src = init[p.name]
      if (!src) throw new Error(`Trainer: no initial value for parameter ${p.name}`)
      load(t, src, p.name)
      this.cur.set(p.name, t)
    }
    for (const s of spec.state) this.cur.set(s.name, alloc(s, s.init))
  }

  static async create(runtime: Runtime, spec: StepGraph, init: Record<string, HostTensor>): Promise<Trainer> {
    return new Trainer(spec, await runtime.compile(spec.graph), init)
  }

  /** From an already loaded session of a step graph and its spec (as the ML worker receives them). */
  static fromSession(session: CompiledSession, spec: StepSpec, init: Record<string, HostTensor>): Trainer {
    return new Trainer(spec, session, init)
  }

  get steps(): number {
    return this.count
  }

  /** One optimizer step on `batch`; parameters and state advance in place. */
  async step(batch: Record<string, Feed>, lr: number): Promise<StepResult> {
    const feeds: Record<string, ort.Tensor> = {}
    for (const [k, v] of Object.entries(batch)) feeds[k] = toOrt(v)
    for (const [k, v] of this.cur) feeds[k] = v
    const names = new Set(this.session.inputNames)
    if (names.has('lr')) feeds.lr = scalar(this.dtype, lr)
    if (names.has('step')) feeds.step = scalar(this.dtype, this.count + 1)
    const out = await this.session.session.run(feeds)
    const metrics: Record<string, number> = {}
    for (const m of this.spec.metrics) metrics[m] = Number((out[m] as ort.Tensor).data[0])
    const next = new Map<string, ort.Tensor>()
    for (const p of this.spec.params) next.set(p.name, out[p.output] as ort.Tensor)
    for (const s of this.spec.state) next.set(s.name, out[s.output] as ort.Tensor)
    this.cur = next
    this.count++
    return { metrics, step: this.count }
  }

  /** The resident tensors (parameters and state); valid until the next step. */
  currentTensors(): ReadonlyMap<string, ort.Tensor> {
    return this.cur
  }

  /** Current parameters as host tensors (copies, safe to keep). */
  params(): Record<string, HostTensor> {
    const out: Record<string, HostTensor> = {}
    for (const p of this.spec.params) {
      const h = fromOrt(this.cur.get(p.name) as ort.Tensor)
      out[p.name] = { ...h, data: h.data.slice() }
    }
    return out
  }

  /** Current optimizer state as host tensors (copies), e.g. for checkpoints. */
  state(): Record<string, HostTensor> {
    const out: Record<string, HostTensor> = {}
    for (const s of this.spec.state) {
      const h = fromOrt(this.cur.get(s.name) as ort.Tensor)
      out[s.name] = { ...h, data: h.data.slice() }
    }
    return out
  }

  /** Let the runtime evict this trainer's session again (the trainer is not used after). */
  release(): void {
    this.session.unpin()
  }

  /** Restore parameters/state (and the step count) from a checkpoint. */
  restore(values: Record<string, HostTensor>, steps: number): void {
    for (const [k, v] of Object.entries(values)) {
      const t = this.cur.get(k)
      if (!t) throw new Error(`Trainer: unknown tensor ${k}`)
      load(t, v, k)
    }
    this.count = steps
  }
}

/**
 * Gradient accumulation over micro-batches with a gradStep and an applyStep graph
 * (graph/optim.ts): `accumulate` adds one micro-batch's gradients, `apply` takes the
 * optimizer step with the mean gradient and clears the accumulators.
 */
export class AccumulatingTrainer {
  private acc = new Map<string, ort.Tensor>()
  private micro = 0
  private lossSum = 0

  private constructor(
    readonly grad: StepGraph,
    readonly gradSession: CompiledSession,
    readonly apply: Trainer
  ) {
    this.clear()
  }

  static async create(runtime: Runtime, grad: StepGraph, apply: StepGraph, init: Record<string, HostTensor>): Promise<AccumulatingTrainer> {
    return new AccumulatingTrainer(grad, await runtime.compile(grad.graph), await Trainer.create(runtime, apply, init))
  }

  /** Forward + backward on one micro-batch; returns its metrics. */
  async accumulate(batch: Record<string, Feed>): Promise<Record<string, number>> {
    const feeds: Record<string, ort.Tensor> = {}
    for (const [k, v] of Object.entries(batch)) feeds[k] = toOrt(v)
    const cur = this.apply.currentTensors()
    for (const p of this.grad.params) feeds[p.name] = cur.get(p.name) as ort.Tensor
    for (const [k, v] of this.acc) feeds[k] = v
    const out = await this.gradSession.session.run(feeds)
    const next = new Map<string, ort.Tensor>()
    for (const s of this.grad.state) next.set(s.name, out[s.output] as ort.Tensor)
    this.acc = next
    this.micro++
    const metrics: Record<string, number> = {}
    for (const m of this.grad.metrics) metrics[m] = Number((out[m] as ort.Tensor).data[0])
    this.lossSum += metrics.loss ?? 0
    return metrics
  }

  /** The optimizer step with the mean of the accumulated gradients. */
  async step(lr: number): Promise<StepResult> {
    if (this.micro === 0) throw new Error('AccumulatingTrainer: no micro-batch accumulated')
    const feeds: Record<string, Feed> = {}
    for (const [k, v] of this.acc) feeds[k] = v
    const dtype = this.grad.params[0]?.dtype ?? 'float32'
    feeds.grad_scale = scalar(dtype, 1 / this.micro)
    const r = await this.apply.step(feeds, lr)
    r.metrics.loss = this.lossSum / this.micro
    this.clear()
    return r
  }

  private clear(): void {
    this.acc = new Map(this.grad.state.map((s) => [s.name, alloc(s)]))
    this.micro = 0
    this.lossSum = 0
  }

  params(): Record<string, HostTensor> {
    return this.apply.params()
  }
}
