// Optimizers in the graph vs plain JS reference implementations written from the papers'
// formulas (AdamW: Loshchilov & Hutter, bias-corrected; SGD momentum: PyTorch semantics).
import { describe, expect, it } from 'vitest'
import {
  add,
  buildApplyStep,
  buildGradStep,
  buildTrainStep,
  type Graph,
  matmul,
  mul,
  reduceMean,
  reduceSum,
  sub,
  type Value
} from '../../../../src/main/ml/graph'
import { AccumulatingTrainer, type HostTensor, hostTensor, Trainer } from '../../../../src/main/ml/runtime'
import { runtime } from './gradcheck'

const W0 = [0.5, -1.0, 2.0, 0.25]
const B0 = [0.3, -0.7]
const TW = [1.0, 1.0, -1.0, 0.0]
const TB = [0.0, 2.0]

/** loss = 0.5 * sum((w - tw)^2) + 0.5 * sum((b - tb)^2): gradients w - tw and b - tb. */
function lossWB(g: Graph): { loss: Value } {
  const w = g.param('w', [2, 2], 'float64')
  const b = g.param('b', [2], 'float64')
  const dw = sub(w, g.tensor(TW, [2, 2], 'float64'))
  const db = sub(b, g.tensor(TB, [2], 'float64'))
  return { loss: mul(add(reduceSum(mul(dw, dw)), reduceSum(mul(db, db))), 0.5) }
}

const init = (): Record<string, HostTensor> => ({ w: hostTensor('float64', [2, 2], W0), b: hostTensor('float64', [2], B0) })

describe('optimizers in the graph', () => {
  it('AdamW matches the closed form over two steps (bias correction, decay mask)', async () => {
    const cfg = { kind: 'adamw' as const, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 }
    const spec = buildTrainStep(lossWB, { optimizer: cfg })
    const tr = await Trainer.create(runtime, spec, init())
    const lrs = [0.1, 0.05]
    for (const lr of lrs) await tr.step({}, lr)
    // Reference: per element, g = p - target; decay only for w (rank 2), not b.
    const ref = (p0: number[], target: number[], decay: boolean): number[] =>
      p0.map((x0, i) => {
        let p = x0
        let m = 0
        let v = 0
        lrs.forEach((lr, k) => {
          const t = k + 1
          const gr = p - (target[i] as number)
          m = 0.9 * m + 0.1 * gr
          v = 0.99 * v + 0.01 * gr * gr
          const mh = m / (1 - 0.9 ** t)
          const vh = v / (1 - 0.99 ** t)
          if (decay) p = p - lr * 0.1 * p
          p = p - (lr * mh) / (Math.sqrt(vh) + 1e-8)
        })
        return p
      })
    const p = tr.params()
    const ew = ref(W0, TW, true)
    const eb = ref(B0, TB, false)
    ew.forEach((x, i) => expect(Math.abs((p.w!.data[i] as number) - x)).toBeLessThan(1e-12))
    eb.forEach((x, i) => expect(Math.abs((p.b!.data[i] as number) - x)).toBeLessThan(1e-12))
    // Two steps of Adam move each coordinate by about lr in the gradient's sign direction.
    expect(Math.abs((p.b!.data[0] as number) - (0.3 - 0.1 - 0.05))).toBeLessThan(5e-3)
  })

  it('SGD with momentum matches the closed form over three steps', async () => {
    const spec = buildTrainStep(lossWB, { optimizer: { kind: 'sgd', momentum: 0.9 } })
    const tr = await Trainer.create(runtime, spec, init())
    for (let k = 0; k < 3; k++) await tr.step({}, 0.1)
    // p1 = p0 - lr g0; with d = p - t: d1 = 0.9 d0, buf1 = d0; buf2 = 0.9 d0 + 0.9 d0 = 1.8 d0;
    // d2 = 0.9 d0 - 0.18 d0 = 0.72 d0; buf3 = 1.62 d0 + 0.72 d0 = 2.34 d0; d3 = 0.72 d0 - 0.234 d0.
    const expect3 = (p0: number, t: number): number => t + 0.486 * (p0 - t)
    const p = tr.params()
    W0.forEach((x, i) => expect(Math.abs((p.w!.data[i] as number) - expect3(x, TW[i]!))).toBeLessThan(1e-12))
    B0.forEach((x, i) => expect(Math.abs((p.b!.data[i] as number) - expect3(x, TB[i]!))).toBeLessThan(1e-12))
  })

  it('global-norm clipping scales the step to the clip norm and reports the norm', async () => {
    const spec = buildTrainStep(lossWB, { optimizer: { kind: 'sgd' }, clipNorm: 1 })
    const tr = await Trainer.create(runtime, spec, init())
    const r = await tr.step({}, 1)
    const d = [...W0.map((x, i) => x - TW[i]!), ...B0.map((x, i) => x - TB[i]!)]
    const norm = Math.hypot(...d)
    expect(Math.abs(r.metrics.grad_norm! - norm)).toBeLessThan(1e-12)
    const p = tr.params()
    const moved = [...W0.map((x, i) => x - (p.w!.data[i] as number)), ...B0.map((x, i) => x - (p.b!.data[i] as number))]
    expect(Math.abs(Math.hypot(...moved) - 1)).toBeLessThan(1e-6)
  })

  it('two accumulated micro-batches equal one step on the whole batch', async () => {
    // Linear regression, mean squared error over rows: the mean of two half-batch means.
    const forward = (rows: number) => (g: Graph) => {
      const x = g.input('x', 'float64', [rows, 3])
      const y = g.input('y', 'float64', [rows, 1])
      const w = g.param('w', [3, 1], 'float64')
      const e = sub(matmul(x, w), y)
      return { loss: reduceMean(mul(e, e)) }
    }
    const X = [1, 2, 3, -1, 0.5, 2, 0, 1, -2, 3, 1, 1]
    const Y = [1, 0, -1, 2]
    const w0 = { w: hostTensor('float64', [3, 1], [0.1, -0.2, 0.3]) }
    const opt = { optimizer: { kind: 'adamw' as const, weightDecay: 0.05 }, clipNorm: 10 }
    const whole = await Trainer.create(runtime, buildTrainStep(forward(4), opt), w0)
    const grad = buildGradStep(forward(2))
    const acc = await AccumulatingTrainer.create(runtime, grad, buildApplyStep(grad.params, opt), w0)
    for (let s = 0; s < 2; s++) {
      const a = await whole.step({ x: hostTensor('float64', [4, 3], X), y: hostTensor('float64', [4, 1], Y) }, 0.1)
      await acc.accumulate({ x: hostTensor('float64', [2, 3], X.slice(0, 6)), y: hostTensor('float64', [2, 1], Y.slice(0, 2)) })
      await acc.accumulate({ x: hostTensor('float64', [2, 3], X.slice(6)), y: hostTensor('float64', [2, 1], Y.slice(2)) })
      const b = await acc.step(0.1)
      expect(Math.abs(a.metrics.loss! - b.metrics.loss!)).toBeLessThan(1e-12)
      expect(Math.abs(a.metrics.grad_norm! - b.metrics.grad_norm!)).toBeLessThan(1e-12)
    }
    const pa = whole.params().w!.data
    const pb = acc.params().w!.data
    for (let i = 0; i < 3; i++) expect(Math.abs((pa[i] as number) - (pb[i] as number))).toBeLessThan(1e-12)
    expect(pa[0]).not.toBe(0.1)
  })
})
