import { describe, expect, it } from 'vitest'

import { importHfImageGpt } from '../../../../src/main/ml/interop/hf-imagegpt'
import { initPixelGpt } from '../../../../src/main/ml/pixelgpt/model'
import { PixelGptRunner } from '../../../../src/main/ml/pixelgpt/runner'
import { GenerationCancelled, KvDecoder, cacheBytesPerImage, defaultBatchSize, generateImages, type RowProgress } from '../../../../src/main/ml/sample/generate'
import { LM_DIR, lmReference } from '../pixelgpt/fixtures'

describe('generation', () => {
  it('greedy decoding reproduces greedy_tokens, with the KV cache and with full recomputation', async () => {
    const ref = lmReference()
    const runner = new PixelGptRunner((await importHfImageGpt(LM_DIR)).model)
    const [kv] = await generateImages(runner, { count: 1, seed: 0, greedy: true })
    expect([...kv!]).toEqual(ref.greedy_tokens)
    const [naive] = await generateImages(runner, { count: 1, seed: 0, greedy: true, mode: 'recompute' })
    expect([...naive!]).toEqual(ref.greedy_tokens)
    const baked = new PixelGptRunner(runner.model, undefined, { bakeDecodeWeights: true })
    const [kvBaked] = await generateImages(baked, { count: 1, seed: 0, greedy: true })
    expect([...kvBaked!]).toEqual(ref.greedy_tokens)
  })

  it('KV-cache logits match the full forward at every position, across cache growth (144 tokens: capacities 64, 128, 144)', async () => {
    const model = initPixelGpt({ side: 12, paletteSize: 7, width: 16, layers: 2, heads: 2, innerWidth: 32, eps: 1e-5, numClasses: 0 }, { seed: 5 })
    // Sharpen the random weights so attention and logits actually depend on the context.
    for (const [name, t] of model.weights) if (name.includes('weight') && !name.includes('ln')) t.data.forEach((v, i) => (t.data[i] = v * 25))
    const runner = new PixelGptRunner(model)
    const images = [0, 1].map((s) => Array.from({ length: 144 }, (_, i) => (i * (3 + s) + s) % 7))
    const full = (await runner.logits(images)).data as Float32Array
    const dec = new KvDecoder(runner, 2)
    let worst = 0
    let scale = 0
    for (let t = 0; t < 144; t++) {
      const logits = await dec.step(images.map((img) => (t === 0 ? 7 : img[t - 1]!)))
      for (let b = 0; b < 2; b++) {
        for (let k = 0; k < 7; k++) {
          const f = full[(b * 144 + t) * 7 + k]!
          worst = Math.max(worst, Math.abs(logits[b * 7 + k]! - f))
          scale = Math.max(scale, Math.abs(f))
        }
      }
    }
    expect(scale).toBeGreaterThan(1)
    expect(worst).toBeLessThan(1e-4 * Math.max(1, scale))
    await expect(dec.step([0, 0])).rejects.toThrow(/sequence is full/)
    expect(dec.cacheBytes()).toBe(2 * cacheBytesPerImage(model))
    // imagegpt-small: 24 layers, width 512, 1024 tokens -> 96 MiB of cache per image -> 5 per batch.
    const small = { ...model, config: { ...model.config, side: 32, width: 512, layers: 24 } }
    expect(cacheBytesPerImage(small)).toBe(96 * 2 ** 20)
    expect(defaultBatchSize(small)).toBe(5)
    expect(defaultBatchSize(model)).toBe(16)
  })

  it('is seeded: same seed, same images, whatever the batching; KV and recompute agree when sampling', async () => {
    const runner = new PixelGptRunner((await importHfImageGpt(LM_DIR)).model)
    const p = { count: 3, seed: 42, temperature: 0.9, topK: 10, topP: 0.95 }
    const a = await generateImages(runner, p)
    const b = await generateImages(runner, { ...p, batchSize: 1 })
    const c = await generateImages(runner, { ...p, mode: 'recompute', batchSize: 2 })
    expect(a.map((x) => [...x])).toEqual(b.map((x) => [...x]))
    expect(a.map((x) => [...x])).toEqual(c.map((x) => [...x]))
    expect([...a[0]!]).not.toEqual([...a[1]!])
    const d = await generateImages(runner, { ...p, seed: 43 })
    expect(d.map((x) => [...x])).not.toEqual(a.map((x) => [...x]))
  })

  it('completes the top rows of an image, reports each row, and can be cancelled', async () => {
    const ref = lmReference()
    const runner = new PixelGptRunner((await importHfImageGpt(LM_DIR)).model)
    const rows: RowProgress[] = []
    const tokens = ref.images[2]!.tokens
    const out = await generateImages(runner, {
      count: 2,
      seed: 1,
      complete: { tokens, keepRows: 3 },
      onRow: (r) => rows.push({ ...r, images: r.images.map((x) => x.slice()) })
    })
    for (const img of out) expect([...img.slice(0, 24)]).toEqual(tokens.slice(0, 24))
    expect(rows.map((r) => r.row)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(rows.map((r) => r.done)).toEqual([16, 32, 48, 64, 80, 96, 112, 128])
    expect([...rows[4]!.images[1]!.slice(0, 40)]).toEqual([...out[1]!.slice(0, 40)])
    // Greedy completion of all 8 rows gives the image back.
    const [same] = await generateImages(runner, { count: 1, seed: 1, greedy: true, complete: { tokens, keepRows: 8 } })
    expect([...same!]).toEqual(tokens)

    const ac = new AbortController()
    const seen: number[] = []
    await expect(
      generateImages(runner, { count: 4, seed: 1, batchSize: 2, signal: ac.signal, onRow: (r) => (seen.push(r.row), r.row === 2 && ac.abort()) })
    ).rejects.toBeInstanceOf(GenerationCancelled)
    expect(seen).toEqual([0, 1, 2])
  })

  it('conditions on a class: the class token replaces SOS', async () => {
    const model = initPixelGpt({ side: 4, paletteSize: 6, width: 16, layers: 1, heads: 2, innerWidth: 32, eps: 1e-5, numClasses: 2 }, { seed: 9, conditionClasses: ['a', 'b'] })
    for (const [name, t] of model.weights) if (!name.includes('ln')) t.data.forEach((v, i) => (t.data[i] = v * 40))
    const runner = new PixelGptRunner(model)
    const g0 = await generateImages(runner, { count: 1, seed: 0, greedy: true, classIndex: 0 })
    const g1 = await generateImages(runner, { count: 1, seed: 0, greedy: true, classIndex: 1 })
    expect([...g0[0]!]).not.toEqual([...g1[0]!])
    const r1 = await generateImages(runner, { count: 1, seed: 0, greedy: true, classIndex: 1, mode: 'recompute' })
    expect([...r1[0]!]).toEqual([...g1[0]!])
    // First token is the argmax after the class token, computed by the full forward.
    const logits = (await runner.logits([Array.from(g1[0]!)], 6 + 1 + 1)).data as Float32Array
    const first = [...logits.subarray(0, 6)]
    expect(g1[0]![0]).toBe(first.indexOf(Math.max(...first)))
    await expect(generateImages(runner, { count: 1, seed: 0, classIndex: 2 })).rejects.toThrow(/outside this model's 2 conditioning classes/)
  })
})
