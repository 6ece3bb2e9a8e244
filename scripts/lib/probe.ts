// The iGPT linear probe, as the evaluation scripts run it: pooled features of every
// layer extracted once, standardized with the training statistics, and a multinomial
// logistic regression trained full-batch on this project's own engine (AdamW in the
// graph). The layer with the best validation accuracy is chosen.

import { add, type Graph, matmul } from '../../src/main/ml/graph'
import { meanCrossEntropy } from '../../src/main/ml/graph/nn'
import { buildTrainStep } from '../../src/main/ml/graph/optim'
import { type PixelGptModel, seqLen, sosToken } from '../../src/main/ml/pixelgpt/model'
import { PixelGptRunner } from '../../src/main/ml/pixelgpt/runner'
import { type HostTensor, hostTensor, type Runtime, Trainer } from '../../src/main/ml/runtime'
import { type TokenSet } from './pretrain'

/** 'pixels': [t1..tT] as the Hugging Face classifier sees them; 'sos': [SOS, t1..t_{T-1}] as in generative pretraining. */
export type ProbeInput = 'pixels' | 'sos'

/** Features (count x C) of every layer 1..L, extracted in batches. */
export async function extractFeatures(model: PixelGptModel, set: TokenSet, input: ProbeInput, runtime: Runtime, onProgress?: (done: number) => void): Promise<Map<number, Float32Array>> {
  const c = model.config
  const T = seqLen(c)
  const C = c.width
  const layers = Array.from({ length: c.layers }, (_, i) => i + 1)
  const runner = new PixelGptRunner(model, runtime)
  const out = new Map(layers.map((l) => [l, new Float32Array(set.count * C)]))
  const batch = 100
  for (let s = 0; s < set.count; s += batch) {
    const B = Math.min(batch, set.count - s)
    const ids = new BigInt64Array(B * T)
    for (let b = 0; b < B; b++) {
      const src = set.tokens.subarray((s + b) * T, (s + b + 1) * T)
      if (input === 'pixels') for (let t = 0; t < T; t++) ids[b * T + t] = BigInt(src[t] as number)
      else {
        ids[b * T] = BigInt(sosToken(c))
        for (let t = 1; t < T; t++) ids[b * T + t] = BigInt(src[t - 1] as number)
      }
    }
    const res = await runner.runForward({ featureLayers: layers }, ids, B)
    for (const l of layers) (out.get(l) as Float32Array).set((res[`features_${l}`]?.data as Float32Array).subarray(0, B * C), s * C)
    onProgress?.(s + B)
  }
  return out
}

export interface Standardizer {
  mean: Float32Array
  std: Float32Array
}

export function fitStandardizer(x: Float32Array, dim: number): Standardizer {
  const n = x.length / dim
  const mean = new Float64Array(dim)
  const sq = new Float64Array(dim)
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] = (mean[j] as number) + (x[i * dim + j] as number)
  for (let j = 0; j < dim; j++) mean[j] = (mean[j] as number) / n
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) sq[j] = (sq[j] as number) + ((x[i * dim + j] as number) - (mean[j] as number)) ** 2
  const std = new Float32Array(dim)
  for (let j = 0; j < dim; j++) std[j] = Math.sqrt((sq[j] as number) / n) + 1e-6
  return { mean: Float32Array.from(mean), std }
}

export function standardize(x: Float32Array, s: Standardizer): Float32Array {
  const dim = s.mean.length
  const out = new Float32Array(x.length)
  for (let i = 0; i < x.length; i++) out[i] = ((x[i] as number) - (s.mean[i % dim] as number)) / (s.std[i % dim] as number)
  return out
}

export interface LinearHead {
  /** (dim, classes) */
  weight: Float32Array
  bias: Float32Array
  dim: number
  classes: number
}

/** Full-batch multinomial logistic regression with AdamW (weight decay as the L2 term). */
export async function trainLinearHead(runtime: Runtime, x: Float32Array, labels: Int32Array, classes: number, opts: { steps?: number; lr?: number; weightDecay?: number; bias?: boolean } = {}): Promise<LinearHead> {
  const n = labels.length
  const dim = x.length / n
  const step = buildTrainStep(
    (g: Graph) => {
      const X = g.input('x', 'float32', ['N', dim])
      const y = g.input('labels', 'int64', ['N'])
      const W = g.param('weight', [dim, classes])
      if (opts.bias === false) return { loss: meanCrossEntropy(matmul(X, W), y) }
      const b = g.param('bias', [classes])
      return { loss: meanCrossEntropy(add(matmul(X, W), b), y) }
    },
    { optimizer: { kind: 'adamw', weightDecay: opts.weightDecay ?? 1e-3, decay: (p) => p.name === 'weight' } }
  )
  const init: Record<string, HostTensor> = { weight: hostTensor('float32', [dim, classes], new Float32Array(dim * classes)) }
  if (opts.bias !== false) init.bias = hostTensor('float32', [classes], new Float32Array(classes))
  const trainer = await Trainer.create(runtime, step, init)
  const feeds = { x: hostTensor('float32', [n, dim], x), labels: hostTensor('int64', [n], BigInt64Array.from(labels, (v) => BigInt(v))) }
  const steps = opts.steps ?? 300
  const lr = opts.lr ?? 0.05
  for (let i = 0; i < steps; i++) await trainer.step(feeds, lr * 0.5 * (1 + Math.cos((Math.PI * i) / steps)))
  const p = trainer.params()
  return { weight: p.weight?.data as Float32Array, bias: (p.bias?.data as Float32Array | undefined) ?? new Float32Array(classes), dim, classes }
}

export function predict(head: LinearHead, x: Float32Array): Int32Array {
  const n = x.length / head.dim
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    let best = 0
    let bestV = -Infinity
    for (let k = 0; k < head.classes; k++) {
      let v = head.bias[k] as number
      for (let j = 0; j < head.dim; j++) v += (x[i * head.dim + j] as number) * (head.weight[j * head.classes + k] as number)
      if (v > bestV) {
        bestV = v
        best = k
      }
    }
    out[i] = best
  }
  return out
}

export function accuracy(pred: Int32Array, labels: Int32Array): number {
  let ok = 0
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) ok++
  return ok / labels.length
}
