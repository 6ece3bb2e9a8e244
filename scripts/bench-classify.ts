// npm run bench:classify [-- --count N] [-- --batch B] [-- --side PX] [-- --resample box|linear]
// End-to-end images/s of a classify job (walk, read, hash, decode + resize + tokenize, model,
// results written to the library, CSV) on N generated JPEGs, against the model's pure inference
// rate on the same images pre-decoded (model input tensors in memory), in the same run.
// Default: 5000 images of 64x48 with a randomly initialised ImageGPT classifier of the built-in
// tessera-digits' size and resample (14x14, width 128, 4 layers, box; weights do not matter for
// speed; `--resample linear` for sharp's linear kernel, the Hugging Face default), a model
// whose forward pass costs more than a decode, as real ones do. `--model-side S --model-width W
// --model-layers L` picks another size; `--model-side 0` uses the 8x8 fixture classifier
// (imagegpt-tiny-cls), which is cheaper than decoding a JPEG, so there the ratio measures the
// decoder, not the pipeline.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import sharp from 'sharp'

import { loadPredictor } from '../src/main/classify/predictor'
import { exportHfImageGpt } from '../src/main/ml/interop/hf-imagegpt'
import { initPixelGpt } from '../src/main/ml/pixelgpt/model'
import { walkFiles } from '../src/main/classify/scan'
import { createContext } from '../src/main/context'
import { printBenchLine } from './lib/bench-line'

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}

/** --resample box|linear: how the model resizes (default box, as the built-in tessera-digits declares). */
function resampleArg(): 'box' | 'linear' {
  const i = process.argv.indexOf('--resample')
  const v = i >= 0 ? process.argv[i + 1] : 'box'
  if (v !== 'box' && v !== 'linear') throw new Error('--resample must be box or linear')
  return v
}

async function main(): Promise<void> {
  const count = arg('count', 5000)
  const batch = arg('batch', 32)
  const side = arg('side', 64)
  const fixture = path.resolve(__dirname, '..', '..', 'shared', 'fixtures', 'imagegpt-tiny-cls')
  const tmp = mkdtempSync(path.join(tmpdir(), 'tessera-bench-classify-'))
  const ctx = createContext({ libraryDir: path.join(tmp, 'lib'), host: 'cli' })
  try {
    const mSide = arg('model-side', 14)
    let modelDir = fixture
    let modelLabel = 'imagegpt-tiny-cls (8x8, 3 labels)'
    if (mSide > 0) {
      const width = arg('model-width', 128)
      const layers = arg('model-layers', 4)
      const resample = resampleArg()
      const m = initPixelGpt({ side: mSide, paletteSize: 16, width, layers, heads: 4, innerWidth: 4 * width, eps: 1e-5, numClasses: 0, ...(resample === 'linear' ? {} : { resample }) }, { seed: 1, lmHead: false, classes: ['a', 'b', 'c', 'd'] })
      modelDir = path.join(tmp, 'bench-model')
      await exportHfImageGpt(m, modelDir)
      modelLabel = `random ImageGPT classifier (${mSide}x${mSide}, width ${width}, ${layers} layers, 4 labels, ${resample} resample)`
    }
    const model = await ctx.models.import(modelDir, { name: 'bench-cls' })
    const src = path.join(tmp, 'images')
    process.stderr.write(`writing ${count} ${side}x${Math.round(side * 0.75)} JPEGs...\n`)
    const h = Math.round(side * 0.75)
    for (let i = 0; i < count; i++) {
      const dir = path.join(src, `d${Math.floor(i / 500)}`)
      if (i % 500 === 0) mkdirSync(dir, { recursive: true })
      const raw = Buffer.alloc(side * h * 3)
      for (let j = 0; j < raw.length; j++) raw[j] = (j * (3 + (i % 11)) + i * 17) & 255
      writeFileSync(path.join(dir, `img-${i}.jpg`), await sharp(raw, { raw: { width: side, height: h, channels: 3 } }).jpeg({ quality: 85 }).toBuffer())
    }

    // Pure inference: every image decoded first, then only the model, batch by batch.
    const predictor = await loadPredictor(ctx.models, ctx.repos.models, model.id, batch)
    const files: string[] = []
    for await (const e of walkFiles([src])) files.push(e.path)
    // Read + decode alone (parallel within a batch, as the job does): the other half of the pipeline.
    const inputs: (Int32Array | Float32Array)[] = []
    const td = performance.now()
    for (let i = 0; i < files.length; i += batch) {
      const got = await Promise.all(files.slice(i, i + batch).map((f) => predictor.prepare(f, path.basename(f))))
      for (const g of got) inputs.push(g.input)
    }
    const decodeRate = files.length / ((performance.now() - td) / 1000)
    await predictor.predict(inputs.slice(0, batch)) // warm-up: graph compiled
    let t = performance.now()
    for (let i = 0; i < inputs.length; i += batch) await predictor.predict(inputs.slice(i, i + batch))
    const inferS = (performance.now() - t) / 1000
    const inferRate = inputs.length / inferS

    // End to end: a classify job with a CSV, as `tessera classify` runs it.
    const rssBefore = process.memoryUsage().rss
    let rssMax = rssBefore
    const probe = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 200)
    t = performance.now()
    const job = ctx.jobs.enqueue('classify', { folders: [src], model: model.id, threshold: 0.5, action: 'none', dryRun: false, recursive: true, topK: 3, out: path.join(tmp, 'out.csv'), batchSize: batch })
    ctx.jobs.start((row) => row.id === job.id)
    const final = await ctx.jobs.wait(job.id)
    const e2eS = (performance.now() - t) / 1000
    clearInterval(probe)
    if (final.state !== 'done') throw new Error(`job ${final.state}: ${final.error}`)
    const e2eRate = count / e2eS
    const report = {
      images: count,
      imageSize: `${side}x${h} JPEG`,
      model: modelLabel,
      batch,
      endToEndImagesPerS: Number(e2eRate.toFixed(1)),
      pureInferenceImagesPerS: Number(inferRate.toFixed(1)),
      decodeOnlyImagesPerS: Number(decodeRate.toFixed(1)),
      cpus: (await import('node:os')).cpus().length,
      ratio: Number((e2eRate / inferRate).toFixed(3)),
      endToEndS: Number(e2eS.toFixed(2)),
      inferenceS: Number(inferS.toFixed(2)),
      rssGrowthMb: Number(((rssMax - rssBefore) / 1048576).toFixed(1))
    }
    console.log(JSON.stringify(report, null, 2))
    process.stderr.write(
      `end to end ${report.endToEndImagesPerS} images/s vs pure inference ${report.pureInferenceImagesPerS} images/s on pre-decoded tensors (${(report.ratio * 100).toFixed(0)}%); read + decode alone ${report.decodeOnlyImagesPerS} images/s\n`
    )
    printBenchLine({
      name: 'bench:classify',
      ratio: e2eRate / inferRate,
      unit: 'percent',
      target: 0.8,
      what: `batch classify end to end vs pure inference (${count} images, ${modelLabel})`,
      details: { endToEndImagesPerS: report.endToEndImagesPerS, pureInferenceImagesPerS: report.pureInferenceImagesPerS, decodeOnlyImagesPerS: report.decodeOnlyImagesPerS }
    })
  } finally {
    await ctx.close()
    rmSync(tmp, { recursive: true, force: true })
  }
}

void main()
