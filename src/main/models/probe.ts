// A linear probe on an imported ONNX feature extractor: embeddings of a dataset's labelled
// images, a softmax-regression head fitted on them (standardised features, full-batch gradient
// descent with L2, deterministic), and one ONNX graph = backbone + head, registered as a new
// classifier whose base is the backbone. A strong ONNX backbone gives a classifier in seconds.

import { onnx } from 'onnx-proto'

import { Graph, add, div, matmul, sub, toModelProto } from '../ml/graph'

export interface ProbeData {
  /** n x D embeddings, row-major. */
  x: Float32Array
  y: Int32Array
  n: number
  d: number
  k: number
}

export interface ProbeHead {
  mean: Float32Array
  std: Float32Array
  /** D x K, row-major. */
  w: Float32Array
  b: Float32Array
}

export interface FitOptions {
  steps?: number
  lr?: number
  l2?: number
}

/** Softmax regression on standardised features; plain full-batch gradient descent (convex: it converges). */
export function fitProbe(data: ProbeData, opts: FitOptions = {}): { head: ProbeHead; loss: number } {
  const { x, y, n, d, k } = data
  const steps = opts.steps ?? 300
  const lr = opts.lr ?? 0.5
  const l2 = opts.l2 ?? 1e-4
  const mean = new Float32Array(d)
  const std = new Float32Array(d)
  for (let j = 0; j < d; j++) {
    let s = 0
    for (let i = 0; i < n; i++) s += x[i * d + j] as number
    const m = s / n
    let v = 0
    for (let i = 0; i < n; i++) v += ((x[i * d + j] as number) - m) ** 2
    mean[j] = m
    std[j] = Math.sqrt(v / n) || 1 // a constant feature carries nothing; keep it finite
  }
  const z = new Float64Array(n * d)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) z[i * d + j] = ((x[i * d + j] as number) - (mean[j] as number)) / (std[j] as number)
  const w = new Float64Array(d * k)
  const b = new Float64Array(k)
  const p = new Float64Array(k)
  const gw = new Float64Array(d * k)
  const gb = new Float64Array(k)
  let loss = 0
  for (let step = 0; step < steps; step++) {
    gw.fill(0)
    gb.fill(0)
    loss = 0
    for (let i = 0; i < n; i++) {
      let max = -Infinity
      for (let c = 0; c < k; c++) {
        let s = b[c] as number
        for (let j = 0; j < d; j++) s += (z[i * d + j] as number) * (w[j * k + c] as number)
        p[c] = s
        if (s > max) max = s
      }
      let sum = 0
      for (let c = 0; c < k; c++) sum += p[c] = Math.exp((p[c] as number) - max)
      const yi = y[i] as number
      loss -= Math.log(Math.max((p[yi] as number) / sum, 1e-300))
      for (let c = 0; c < k; c++) {
        const g = (p[c] as number) / sum - (c === yi ? 1 : 0)
        gb[c] = (gb[c] as number) + g
        for (let j = 0; j < d; j++) gw[j * k + c] = (gw[j * k + c] as number) + g * (z[i * d + j] as number)
      }
    }
    loss /= n
    for (let q = 0; q < d * k; q++) w[q] = (w[q] as number) - lr * ((gw[q] as number) / n + l2 * (w[q] as number))
    for (let c = 0; c < k; c++) b[c] = (b[c] as number) - lr * ((gb[c] as number) / n)
  }
  return { head: { mean, std, w: Float32Array.from(w), b: Float32Array.from(b) }, loss }
}

/** Index of the largest of the head's logits for one embedding. */
export function probePredict(head: ProbeHead, e: ArrayLike<number>): number {
  const d = head.mean.length
  const k = head.b.length
  let best = 0
  let bestS = -Infinity
  for (let c = 0; c < k; c++) {
    let s = head.b[c] as number
    for (let j = 0; j < d; j++) s += (((e[j] as number) - (head.mean[j] as number)) / (head.std[j] as number)) * (head.w[j * k + c] as number)
    if (s > bestS) {
      bestS = s
      best = c
    }
  }
  return best
}

export const PROBE_OUTPUT = 'probe_logits'

/**
 * Backbone ONNX bytes + head -> one graph whose output PROBE_OUTPUT is (N, K) logits. The head's
 * ops (Sub, Div, MatMul, Add) mean the same in every opset, so the backbone keeps its own opset.
 */
export function attachProbeHead(backbone: Uint8Array, embeddingOutput: string, head: ProbeHead): Uint8Array {
  const d = head.mean.length
  const k = head.b.length
  const g = new Graph('probe-head')
  const f = g.input('features', 'float32', ['N', d])
  const logits = add(matmul(div(sub(f, g.tensor(head.mean, [d])), g.tensor(head.std, [d])), g.tensor(head.w, [d, k])), g.tensor(head.b, [k]))
  g.output(logits, PROBE_OUTPUT)
  const hp = toModelProto(g).graph as onnx.GraphProto
  const base = onnx.ModelProto.decode(backbone)
  const bg = base.graph as onnx.GraphProto
  const rename = (n: string): string => (n === 'features' ? embeddingOutput : n === PROBE_OUTPUT || n === '' ? n : `probe/${n}`)
  const nodes = hp.node.map((n) => ({ ...n, name: `probe/${n.name ?? ''}`, input: (n.input ?? []).map(rename), output: (n.output ?? []).map(rename) }))
  const inits = hp.initializer.map((t) => ({ ...t, name: rename(t.name ?? '') }))
  const out = onnx.ModelProto.create({
    irVersion: base.irVersion,
    producerName: 'tessera',
    opsetImport: base.opsetImport,
    docString: `Linear probe (${k} classes) on ${embeddingOutput} of a feature extractor, made by Tessera.`,
    graph: {
      name: `${bg.name || 'backbone'}+probe`,
      node: [...bg.node, ...nodes],
      initializer: [...bg.initializer, ...inits],
      input: bg.input,
      output: [...hp.output],
      valueInfo: bg.valueInfo
    }
  })
  return onnx.ModelProto.encode(out).finish()
}
