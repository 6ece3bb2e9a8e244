import { describe, expect, it } from 'vitest'
import { dropout, gradients, Graph, mul, reduceSum } from '../../../../src/main/ml/graph'
import { hostTensor } from '../../../../src/main/ml/runtime'
import { runtime } from './gradcheck'

describe('dropout', () => {
  it('keeps about 1 - p of the elements, scales them by 1/(1-p), and its gradient is the same mask', async () => {
    const n = 20000
    const p = 0.25
    const g = new Graph()
    const x = g.param('x', [n])
    const y = dropout(x, p, 42)
    g.output(y, 'y')
    const [gx] = gradients(reduceSum(mul(y, 1)), [x])
    g.output(gx!, 'gx')
    const s = await runtime.compile(g)
    const xs = hostTensor('float32', [n], Array.from({ length: n }, (_, i) => 1 + (i % 7)))
    const a = await s.runHost({ x: xs })
    const b = await s.runHost({ x: xs })
    const ya = a.y!.data as Float32Array
    const ga = a.gx!.data as Float32Array
    let kept = 0
    for (let i = 0; i < n; i++) {
      const xi = xs.data[i] as number
      if (ya[i] !== 0) {
        kept++
        expect(Math.abs(ya[i]! - xi / (1 - p))).toBeLessThan(1e-5)
        expect(Math.abs(ga[i]! - 1 / (1 - p))).toBeLessThan(1e-6)
      } else expect(ga[i]).toBe(0)
    }
    // Binomial(n, 0.75): sd = sqrt(n p (1-p)) ~ 61; allow 6 sd.
    expect(Math.abs(kept - n * (1 - p))).toBeLessThan(6 * Math.sqrt(n * p * (1 - p)))
    // A second run draws a different mask.
    const yb = b.y!.data as Float32Array
    let differ = 0
    for (let i = 0; i < n; i++) if ((ya[i] === 0) !== (yb[i] === 0)) differ++
    expect(differ).toBeGreaterThan(n * 0.1)
  })
})
