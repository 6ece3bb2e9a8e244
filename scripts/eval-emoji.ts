// `npm run eval:emoji`: measures tessera-emoji on the seeded 10% of Noto emoji it was pretrained
// without, prints the numbers the README states, records them in the model folder's eval.json and
// draws a sample sheet:
//   - category probe: pooled features of each layer (plain pixel tokens), a logistic regression on
//     the 90% training emoji; the layer chosen by 5-fold cross-validation on those training emoji
//     only, then its held-out accuracy reported (chance: the largest category's share);
//   - bits per token of the held-out emoji, with the category token and unconditioned;
//   - class-conditional samples per category (seeded), the share the probe assigns to the
//     requested category, and a sheet (one row per category) written as a PNG.
//
//   npm run eval:emoji -- [--model resources/models/tessera-emoji] [--per-class N] [--sheet FILE]
//                         [--temperature T] [--no-write]

import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import sharp from 'sharp'
import { importHfImageGpt } from '../src/main/ml/interop/hf-imagegpt'
import { tokensToRgb } from '../src/main/ml/palette/palette'
import { PixelGptRunner } from '../src/main/ml/pixelgpt/runner'
import { Runtime } from '../src/main/ml/runtime'
import { generateImages } from '../src/main/ml/sample/generate'
import { emojiTokenSets, loadEmoji } from './lib/emoji'
import { accuracy, extractFeatures, fitStandardizer, predict, standardize, trainLinearHead } from './lib/probe'
import { evaluate, type TokenSet } from './lib/pretrain'

function subset(x: Float32Array, dim: number, idx: number[]): Float32Array {
  const out = new Float32Array(idx.length * dim)
  idx.forEach((k, i) => out.set(x.subarray(k * dim, (k + 1) * dim), i * dim))
  return out
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'resources/models/tessera-emoji' },
      'per-class': { type: 'string', default: '12' },
      sheet: { type: 'string', default: 'docs/tessera-emoji-samples.png' },
      temperature: { type: 'string', default: '1' },
      'no-write': { type: 'boolean', default: false }
    }
  })
  const log = (s: string): void => void process.stderr.write(s + '\n')
  const runtime = new Runtime({})
  const { model } = await importHfImageGpt(resolve(values.model))
  const c = model.config
  const T = c.side * c.side
  const categories = model.conditionClasses
  if (categories.length === 0) throw new Error(`${values.model} has no condition classes; eval:emoji needs the category-conditioned tessera-emoji.`)

  const set = await loadEmoji(c.side)
  if (set.categories.join('|') !== categories.join('|')) throw new Error(`The model's categories (${categories.join(', ')}) are not the emoji package's (${set.categories.join(', ')}).`)
  const { train, heldOut: held } = emojiTokenSets(set, model.palette, c.side)
  const N = categories.length
  log(`Noto emoji at ${c.side}x${c.side}: ${train.count} training, ${held.count} held out, ${N} categories.`)

  // Category probe, layer by 5-fold cross-validation on the training emoji.
  const fTrain = await extractFeatures(model, train, 'pixels', runtime)
  const fHeld = await extractFeatures(model, held, 'pixels', runtime)
  const folds = 5
  const cv: Record<string, number> = {}
  let best = { layer: c.layers, cv: -1 }
  for (const [layer, f] of fTrain) {
    let right = 0
    for (let k = 0; k < folds; k++) {
      const tr: number[] = []
      const te: number[] = []
      for (let i = 0; i < train.count; i++) (i % folds === k ? te : tr).push(i)
      const xtr = subset(f, c.width, tr)
      const s = fitStandardizer(xtr, c.width)
      const head = await trainLinearHead(runtime, standardize(xtr, s), Int32Array.from(tr, (i) => train.labels[i] as number), N, { weightDecay: 1e-2 })
      const pred = predict(head, standardize(subset(f, c.width, te), s))
      te.forEach((i, j) => (right += pred[j] === train.labels[i] ? 1 : 0))
    }
    cv[layer] = right / train.count
    log(`  layer ${layer}: ${(cv[layer] * 100).toFixed(1)}% cross-validated`)
    if (cv[layer] > best.cv) best = { layer, cv: cv[layer] }
  }
  const s = fitStandardizer(fTrain.get(best.layer) as Float32Array, c.width)
  const head = await trainLinearHead(runtime, standardize(fTrain.get(best.layer) as Float32Array, s), train.labels, N, { weightDecay: 1e-2 })
  const heldAcc = accuracy(predict(head, standardize(fHeld.get(best.layer) as Float32Array, s)), held.labels)
  const counts = new Array<number>(N).fill(0)
  for (const l of held.labels) counts[l]! += 1
  const majority = Math.max(...counts) / held.count
  log(`Category probe: layer ${best.layer}, held-out accuracy ${(heldAcc * 100).toFixed(1)}% (majority class ${(majority * 100).toFixed(1)}%).`)

  const ev = await evaluate(runtime, model, held, held.count)
  log(`Held-out bits per token: ${(ev.condNll / Math.LN2).toFixed(3)} with the category, ${(ev.uncondNll / Math.LN2).toFixed(3)} unconditioned.`)

  // Class-conditional samples: a sheet, and the probe's verdict on them.
  const perClass = Number(values['per-class'])
  const temperature = Number(values.temperature)
  const runner = new PixelGptRunner(model, runtime)
  const scale = 3
  const cell = c.side * scale
  const pad = 2
  const width = perClass * (cell + pad) + pad
  const height = N * (cell + pad) + pad
  const sheet = Buffer.alloc(width * height * 3, 255)
  let agree = 0
  for (let k = 0; k < N; k++) {
    const imgs = await generateImages(runner, { count: perClass, seed: 5000 + k, classIndex: k, temperature })
    const gen: TokenSet = { tokens: new Int32Array(imgs.length * T), labels: new Int32Array(imgs.length).fill(k), count: imgs.length }
    imgs.forEach((img, i) => gen.tokens.set(img, i * T))
    const f = await extractFeatures(model, gen, 'pixels', runtime)
    agree += Array.from(predict(head, standardize(f.get(best.layer) as Float32Array, s))).filter((p) => p === k).length
    imgs.forEach((img, i) => {
      const rgb = tokensToRgb(img, model.palette)
      const x0 = pad + i * (cell + pad)
      const y0 = pad + k * (cell + pad)
      for (let y = 0; y < cell; y++)
        for (let x = 0; x < cell; x++) {
          const src = (Math.floor(y / scale) * c.side + Math.floor(x / scale)) * 3
          const dst = ((y0 + y) * width + x0 + x) * 3
          sheet[dst] = rgb[src] as number
          sheet[dst + 1] = rgb[src + 1] as number
          sheet[dst + 2] = rgb[src + 2] as number
        }
    })
    log(`  samples of ${categories[k]} done`)
  }
  const result = {
    model: values.model,
    evaluatedAt: new Date().toISOString(),
    heldOut: {
      images: held.count,
      trainImages: train.count,
      categoryProbe: { accuracy: heldAcc, layer: best.layer, input: 'pixels', layerChosenBy: '5-fold cross-validation on the training emoji', crossValidatedByLayer: cv, majorityClassShare: majority },
      bitsPerTokenConditional: ev.condNll / Math.LN2,
      bitsPerTokenUnconditional: ev.uncondNll / Math.LN2
    },
    conditionalSamples: { perClass, temperature, rows: categories, judgedBy: 'the category probe', assignedToRequestedCategory: agree / (perClass * N), sheet: values.sheet }
  }
  console.log(JSON.stringify(result, null, 2))
  if (!values['no-write']) {
    await sharp(sheet, { raw: { width, height, channels: 3 } }).png().toFile(resolve(values.sheet))
    writeFileSync(join(resolve(values.model), 'eval.json'), JSON.stringify(result, null, 2) + '\n')
    log(`Wrote ${values.sheet} and ${join(values.model, 'eval.json')}.`)
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
})
