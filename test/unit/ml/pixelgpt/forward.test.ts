import { describe, expect, it } from 'vitest'

import { importHfImageGpt } from '../../../../src/main/ml/interop/hf-imagegpt'
import { PixelGptRunner } from '../../../../src/main/ml/pixelgpt/runner'
import { CLS_DIR, LM_DIR, clsReference, lmReference } from './fixtures'

describe('ImageGPT forward on the fixtures (through the import path)', () => {
  it('reproduces logits_first3 (1e-4 abs) and NLL (1e-4 rel) of the causal model', async () => {
    const ref = lmReference()
    const runner = new PixelGptRunner((await importHfImageGpt(LM_DIR)).model)
    const images = ref.images.map((i) => i.tokens)
    const logits = await runner.logits(images)
    expect(logits.dims).toEqual([4, 64, 16])
    const data = logits.data as Float32Array
    let worst = 0
    ref.images.forEach((img, b) => {
      for (let t = 0; t < 3; t++) {
        for (let k = 0; k < 16; k++) worst = Math.max(worst, Math.abs(data[(b * 64 + t) * 16 + k]! - img.logits_first3[t]![k]!))
      }
    })
    expect(worst).toBeLessThan(1e-4)
    const nll = await runner.nll(images)
    ref.images.forEach((img, b) => {
      expect(Math.abs(nll[b]! - img.nll_nats_per_token) / img.nll_nats_per_token).toBeLessThan(1e-4)
      expect(Math.abs(nll[b]! / Math.LN2 - img.bits_per_token) / img.bits_per_token).toBeLessThan(1e-4)
    })
  })

  it('reproduces the classifier probabilities (1e-4 abs)', async () => {
    const ref = clsReference()
    const runner = new PixelGptRunner((await importHfImageGpt(CLS_DIR)).model)
    const probs = await runner.classProbabilities(ref.images.map((i) => i.tokens))
    ref.images.forEach((img, b) => {
      img.class_probs.forEach((p, k) => expect(Math.abs(probs[b]![k]! - p)).toBeLessThan(1e-4))
    })
  })

  it('a dynamic-length forward agrees with the static one on every prefix position', async () => {
    const ref = lmReference()
    const runner = new PixelGptRunner((await importHfImageGpt(LM_DIR)).model)
    const full = (await runner.logits([ref.images[0]!.tokens])).data as Float32Array
    const ids = BigInt64Array.from([16, ...ref.images[0]!.tokens.slice(0, 9)].map(BigInt))
    const out = await runner.runForward({ seq: 'T', logits: true }, ids, 1)
    expect(out.logits?.dims).toEqual([1, 10, 16])
    const part = out.logits?.data as Float32Array
    for (let i = 0; i < part.length; i++) expect(Math.abs(part[i]! - full[i]!)).toBeLessThan(1e-5)
  })

  it('pooled features: the last layer times score gives the classifier; every layer has the width and differs', async () => {
    const ref = clsReference()
    const { model } = await importHfImageGpt(CLS_DIR)
    const runner = new PixelGptRunner(model)
    const images = ref.images.map((i) => i.tokens)
    const f2 = await runner.features(images, 2)
    const f1 = await runner.features(images, 1)
    expect(f1[0]!.length).toBe(32)
    expect([...f1[0]!]).not.toEqual([...f2[0]!])
    const score = model.weights.get('score.weight')!.data
    ref.images.forEach((img, b) => {
      const logits = [0, 1, 2].map((k) => f2[b]!.reduce((a, v, j) => a + v * score[k * 32 + j]!, 0))
      const m = Math.max(...logits)
      const e = logits.map((x) => Math.exp(x - m))
      const s = e.reduce((a, x) => a + x)
      e.forEach((x, k) => expect(Math.abs(x / s - img.class_probs[k]!)).toBeLessThan(1e-4))
    })
    await expect(runner.features(images, 3)).rejects.toThrow(/Feature layer 3 is outside 1\.\.2/)
  })
})
