// Generation benchmark: KV-cache decoding against naive full-sequence recomputation (what an
// exported Hugging Face graph without past forces) for an iGPT-S-shaped model at reduced depth:
// width 512, 4 layers, 8 heads, 32x32 images (1024 tokens), 512 colours, random weights.
//
// KV-cache decoding is timed over whole images (greedy, batch 1 and 16). Naive recomputation is
// timed as single full-prefix forward passes at lengths 1, 128, 256, ..., 1024, interleaved with the
// KV segments so that load from other processes hits both alike; the naive full-image time is
// the trapezoid integral of those step times over lengths 1..1024 (running naive generation
// end to end at batch 16 would take hours). The output says which numbers are estimated.
//
// Usage: npm run bench:generate [-- --batches 1,16 --bake]
//   --bake  decode-step graphs with the weights baked in as initializers (ORT prepacks them)

import { performance } from 'node:perf_hooks'

import { initPixelGpt, type PixelGptConfig } from '../src/main/ml/pixelgpt/model'
import { PixelGptRunner } from '../src/main/ml/pixelgpt/runner'
import { KvDecoder } from '../src/main/ml/sample/generate'
import { argmax } from '../src/main/ml/sample/sampler'
import { defaultRuntime } from '../src/main/ml/runtime'
import { printBenchLine } from './lib/bench-line'

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : dflt
}

// --side and --layers shrink the model for a quick run (`npm run bench -- --quick`).
const SIDE = Number(arg('side', '32'))
const config: PixelGptConfig = { side: SIDE, paletteSize: 512, width: 512, layers: Number(arg('layers', '4')), heads: 8, innerWidth: 2048, eps: 1e-5, numClasses: 0 }
const T = config.side * config.side
const K = config.paletteSize
const SEGMENT = Math.min(128, T / 4)

const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MB`

async function main(): Promise<void> {
  const batches = arg('batches', '1,16').split(',').map(Number)
  const bake = process.argv.includes('--bake')
  const rssStart = process.memoryUsage().rss
  const model = initPixelGpt(config, { seed: 1 })
  const runner = new PixelGptRunner(model, defaultRuntime(), { bakeDecodeWeights: bake })
  const weightBytes = [...model.weights.values()].reduce((a, t) => a + t.data.byteLength, 0)
  console.log(`model: width ${config.width}, ${config.layers} layers, ${config.heads} heads, ${config.side}x${config.side} (${T} tokens), ${K} colours; weights ${mb(weightBytes)}${bake ? ' (baked into decode graphs)' : ' (fed as inputs)'}`)
  const rep = defaultRuntime().report()
  console.log(`onnxruntime ${rep.ortVersion}, provider ${rep.active}, ${rep.intraOpThreads} threads`)
  // Warm up: compile the decode-step graphs and the naive graph.
  for (const s of [64, 128, 256, 512, 1024]) await runner.decodeGraph(s)
  await runner.runForward({ seq: 'T', logits: true }, new BigInt64Array(8), 1)
  const rssWarm = process.memoryUsage().rss
  let peak = rssWarm
  const rows: string[] = []
  const ratios: { batch: number; ratio: number }[] = []
  for (const B of batches) {
    const naive = async (L: number): Promise<number> => {
      const ids = new BigInt64Array(B * L).fill(BigInt(K))
      const s0 = performance.now()
      await runner.runForward({ seq: 'T', logits: true }, ids, B)
      const s = (performance.now() - s0) / 1000
      peak = Math.max(peak, process.memoryUsage().rss)
      return s
    }
    const lengths = [1]
    const stepS = [await naive(1)]
    let kvS = 0
    const dec = new KvDecoder(runner, B)
    const ids = new Int32Array(B).fill(K)
    for (let t0 = 0; t0 < T; t0 += SEGMENT) {
      const s0 = performance.now()
      for (let t = t0; t < t0 + SEGMENT; t++) {
        const logits = await dec.step(ids)
        for (let b = 0; b < B; b++) ids[b] = argmax(logits.subarray(b * K, b * K + K))
      }
      kvS += (performance.now() - s0) / 1000
      peak = Math.max(peak, process.memoryUsage().rss)
      lengths.push(t0 + SEGMENT)
      stepS.push(await naive(t0 + SEGMENT))
    }
    const cacheBytes = dec.cacheBytes()
    const kvRate = (B * T) / kvS
    let naiveS = 0
    for (let i = 1; i < lengths.length; i++) naiveS += ((stepS[i - 1]! + stepS[i]!) / 2) * (lengths[i]! - lengths[i - 1]!)
    const naiveRate = (B * T) / naiveS
    console.log(`batch ${B}: KV cache: ${kvS.toFixed(1)} s for ${B} x ${T} tokens (measured) = ${kvRate.toFixed(1)} tokens/s; cache at full length ${mb(cacheBytes)}`)
    console.log(`batch ${B}: naive step times: ${lengths.map((L, i) => `L=${L} ${(stepS[i]! * 1000).toFixed(0)} ms`).join(', ')}`)
    console.log(`batch ${B}: naive full image ${naiveS.toFixed(1)} s (estimated: integral of the measured step times) = ${naiveRate.toFixed(2)} tokens/s`)
    rows.push(`| ${B} | ${kvRate.toFixed(1)} | ${naiveRate.toFixed(2)} | ${(kvRate / naiveRate).toFixed(1)}x | ${mb(cacheBytes)} |`)
    ratios.push({ batch: B, ratio: kvRate / naiveRate })
  }
  console.log('\n| batch | KV-cache tokens/s (measured) | naive tokens/s (estimated) | ratio | KV cache |')
  console.log('|---|---|---|---|---|')
  for (const r of rows) console.log(r)
  console.log(
    `\nmemory: weights ${mb(weightBytes)}; KV cache as listed (keys + values, all layers, float32); process RSS at start ${mb(rssStart)}, ` +
      `after warm-up ${mb(rssWarm)}, peak ${mb(peak)} (the peak includes the naive passes, whose batch-16 attention scores alone are 512 MB per layer)`
  )
  const head = ratios[0]!
  printBenchLine({
    name: 'bench:generate',
    ratio: head.ratio,
    unit: 'times',
    target: 20,
    what: `KV-cache decoding vs naive recompute, batch ${head.batch} (width ${config.width}, ${config.layers} layers, ${config.side}x${config.side})`,
    details: Object.fromEntries(ratios.map((r) => [`batch${r.batch}`, Number(r.ratio.toFixed(1))]))
  })
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
