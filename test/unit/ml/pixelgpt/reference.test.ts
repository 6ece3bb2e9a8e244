// An independent float64 ImageGPT forward written out in loops (no graphs), to check what the
// fixtures do not cover: intermediate-layer features and a class-conditioned model.
import { describe, expect, it } from 'vitest'

import { importHfImageGpt } from '../../../../src/main/ml/interop/hf-imagegpt'
import { initPixelGpt, type PixelGptModel } from '../../../../src/main/ml/pixelgpt/model'
import { PixelGptRunner } from '../../../../src/main/ml/pixelgpt/runner'
import { LM_DIR, lmReference } from './fixtures'

type Mat = number[][]

function refForward(m: PixelGptModel, ids: number[]): { hidden: Mat[]; logits: Mat } {
  const c = m.config
  const W = (n: string): Float32Array => m.weights.get(n)!.data
  const C = c.width
  const H = c.heads
  const hd = C / H
  const T = ids.length
  const lin = (x: number[], w: Float32Array, b: Float32Array | undefined, out: number): number[] =>
    Array.from({ length: out }, (_, j) => x.reduce((a, v, i) => a + v * w[i * out + j]!, b ? b[j]! : 0))
  const norm = (x: number[], w: Float32Array): number[] => {
    const ms = x.reduce((a, v) => a + v * v, 0) / x.length
    return x.map((v, i) => (v / Math.sqrt(ms + c.eps)) * w[i]!)
  }
  let h: Mat = ids.map((t, p) => Array.from({ length: C }, (_, j) => W('transformer.wte.weight')[t * C + j]! + W('transformer.wpe.weight')[p * C + j]!))
  const hidden: Mat[] = [h]
  for (let l = 0; l < c.layers; l++) {
    const pre = `transformer.h.${l}.`
    const qkv = h.map((x) => lin(norm(x, W(pre + 'ln_1.weight')), W(pre + 'attn.c_attn.weight'), W(pre + 'attn.c_attn.bias'), 3 * C))
    const y: Mat = h.map(() => new Array<number>(C).fill(0))
    for (let hh = 0; hh < H; hh++) {
      for (let i = 0; i < T; i++) {
        const s = Array.from({ length: i + 1 }, (_, j) => {
          let d = 0
          for (let e = 0; e < hd; e++) d += qkv[i]![hh * hd + e]! * qkv[j]![C + hh * hd + e]!
          return d / Math.sqrt(hd)
        })
        const mx = Math.max(...s)
        const ex = s.map((v) => Math.exp(v - mx))
        const z = ex.reduce((a, b) => a + b)
        for (let j = 0; j <= i; j++) for (let e = 0; e < hd; e++) y[i]![hh * hd + e]! += (ex[j]! / z) * qkv[j]![2 * C + hh * hd + e]!
      }
    }
    h = h.map((x, i) => {
      const a = lin(y[i]!, W(pre + 'attn.c_proj.weight'), W(pre + 'attn.c_proj.bias'), C)
      return x.map((v, j) => v + a[j]!)
    })
    h = h.map((x) => {
      const f = lin(norm(x, W(pre + 'ln_2.weight')), W(pre + 'mlp.c_fc.weight'), W(pre + 'mlp.c_fc.bias'), c.innerWidth).map((v) => v / (1 + Math.exp(-1.702 * v)))
      const o = lin(f, W(pre + 'mlp.c_proj.weight'), W(pre + 'mlp.c_proj.bias'), C)
      return x.map((v, j) => v + o[j]!)
    })
    hidden.push(h)
  }
  const lm = W('lm_head.weight')
  const logits = h.map((x) => {
    const n = norm(x, W('transformer.ln_f.weight'))
    return Array.from({ length: c.paletteSize }, (_, k) => n.reduce((a, v, j) => a + v * lm[k * C + j]!, 0))
  })
  return { hidden, logits }
}

function pooled(m: PixelGptModel, h: Mat, layer: number): number[] {
  const w = m.weights.get(layer < m.config.layers ? `transformer.h.${layer}.ln_1.weight` : 'transformer.ln_f.weight')!.data
  const C = m.config.width
  const out = new Array<number>(C).fill(0)
  for (const x of h) {
    const ms = x.reduce((a, v) => a + v * v, 0) / C
    x.forEach((v, j) => (out[j]! += ((v / Math.sqrt(ms + m.config.eps)) * w[j]!) / h.length))
  }
  return out
}

describe('independent reference forward', () => {
  it('agrees with the fixture logits (so the reference itself is right) and with the graph features of every layer', async () => {
    const ref = lmReference()
    const { model } = await importHfImageGpt(LM_DIR)
    const tokens = ref.images[1]!.tokens
    const r = refForward(model, [16, ...tokens.slice(0, 63)])
    for (let t = 0; t < 3; t++) for (let k = 0; k < 16; k++) expect(Math.abs(r.logits[t]![k]! - ref.images[1]!.logits_first3[t]![k]!)).toBeLessThan(1e-4)
    const runner = new PixelGptRunner(model)
    const plain = refForward(model, tokens)
    for (const layer of [1, 2]) {
      const [f] = await runner.features([tokens], layer)
      const want = pooled(model, plain.hidden[layer]!, layer)
      want.forEach((v, j) => expect(Math.abs(f![j]! - v)).toBeLessThan(1e-4))
    }
  })

  it('agrees with the graphs on a class-conditioned model (class token first)', async () => {
    const model = initPixelGpt({ side: 4, paletteSize: 5, width: 8, layers: 2, heads: 2, innerWidth: 16, eps: 1e-5, numClasses: 3 }, { seed: 11 })
    for (const [name, t] of model.weights) if (!name.includes('ln')) t.data.forEach((v, i) => (t.data[i] = v * 30))
    const img = Array.from({ length: 16 }, (_, i) => (i * 3) % 5)
    const start = 5 + 1 + 2 // class 2
    const r = refForward(model, [start, ...img.slice(0, 15)])
    const g = (await new PixelGptRunner(model).logits([img], start)).data as Float32Array
    let scale = 0
    r.logits.forEach((row, t) =>
      row.forEach((v, k) => {
        scale = Math.max(scale, Math.abs(v))
        expect(Math.abs(g[t * 5 + k]! - v)).toBeLessThan(1e-4 * Math.max(1, Math.abs(v)))
      })
    )
    expect(scale).toBeGreaterThan(1)
    // Per-image start tokens: the NLL of each image under its own class matches single-class runs.
    const runner = new PixelGptRunner(model)
    const mixed = await runner.nll([img, img, img], [6, 7, 8])
    for (let k = 0; k < 3; k++) expect(Math.abs(mixed[k]! - (await runner.nll([img], 6 + k))[0]!)).toBeLessThan(1e-5)
    expect(Math.abs(mixed[0]! - mixed[2]!)).toBeGreaterThan(1e-3)
  })
})
