import { describe, expect, it } from 'vitest'
import {
  add,
  blockParams,
  buildTrainStep,
  gather,
  type Graph,
  linear,
  meanCrossEntropy,
  rmsNorm,
  transformerBlock
} from '../../../../src/main/ml/graph'
import { type HostTensor, hostTensor, Runtime, Trainer } from '../../../../src/main/ml/runtime'

const V = 5
const T = 8
const C = 16
const B = 4

/** Deterministic init: small uniform weights, gains at 1. */
function initParams(spec: { params: { name: string; dims: number[] }[] }): Record<string, HostTensor> {
  let s = 12345
  const r = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1
  const out: Record<string, HostTensor> = {}
  for (const p of spec.params) {
    const n = p.dims.reduce((a, b) => a * b, 1)
    const gain = p.name.includes('ln_') || p.name === 'ln_f.weight'
    out[p.name] = hostTensor('float32', p.dims, Array.from({ length: n }, () => (gain ? 1 : p.name.endsWith('bias') ? 0 : 0.2 * r())))
  }
  return out
}

describe('Trainer', () => {
  it('trains a one-block GPT on a toy sequence task: the loss falls', async () => {
    const rt = new Runtime({ intraOpThreads: 1 })
    const spec = buildTrainStep(
      (g: Graph) => {
        const ids = g.input('ids', 'int64', [B, T])
        const labels = g.input('labels', 'int64', [B, T])
        const wte = g.param('wte.weight', [V, C])
        const wpe = g.param('wpe.weight', [T, C])
        let x = add(gather(wte, ids), wpe) // (B, T, C)
        x = transformerBlock(x, blockParams(g, 'h.0', C), 2)
        const logits = linear(rmsNorm(x, g.param('ln_f.weight', [C])), g.param('lm_head', [C, V]))
        return { loss: meanCrossEntropy(logits, labels) }
      },
      { optimizer: { kind: 'adamw', weightDecay: 0.01 }, clipNorm: 1 }
    )
    const tr = await Trainer.create(rt, spec, initParams(spec))
    // Sequences count up mod V from a per-row start: the next token is always (t + 1) mod V.
    const ids: number[] = []
    const labels: number[] = []
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
      ids.push((b + t) % V)
      labels.push((b + t + 1) % V)
    }
    const batch = { ids: hostTensor('int64', [B, T], ids), labels: hostTensor('int64', [B, T], labels) }
    const losses: number[] = []
    for (let k = 0; k < 40; k++) losses.push((await tr.step(batch, 0.02)).metrics.loss!)
    expect(losses[0]).toBeGreaterThan(1.2) // about log(5) = 1.61 at init
    expect(losses[39]).toBeLessThan(0.25 * losses[0]!)
    expect(tr.steps).toBe(40)
    await rt.dispose()
  })
})
